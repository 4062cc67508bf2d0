// Which lock classes the page-fault handlers of this file take: the functions a
// `struct vm_operations_struct` initializer names in its fault fields (->fault, ->page_mkwrite...),
// and the same-file helpers they call (bounded). fault-under-lock asks this for lock classes
// whose table facet says "only when the file's own fault handler takes it" (i_rwsem).

import type { FunctionIR, SourceRange } from '../ir';
import { FAULT_HANDLER_FIELDS, FAULT_HANDLER_OPS_TYPE } from '../kernel/api/locks';
import { lookupApi } from '../kernel/api-table';
import { callbacksOfType } from './init-tables';
import { lockOf } from './locksets';
import { fileFact } from './file-facts';

const MAX_DEPTH = 4;

/**
 * The last result per function map (one per FileIR): weak, so the IR of a file (170 MB for 8 MB
 * of functions) is not kept alive after its analysis by this memo.
 */
const resultOf = new WeakMap<Map<string, FunctionIR>, { text: string; result: Map<string, { fn: string; range: SourceRange }> }>();

/** Lock class -> the fault handler that takes it. */
export const faultHandlerLocks = fileFact('faultHandlerLocks', (text: string, byName: Map<string, FunctionIR>, cancelled: () => boolean): Map<string, { fn: string; range: SourceRange }> => {
  const last = resultOf.get(byName);
  if (last && last.text === text) return last.result;
  const out = new Map<string, { fn: string; range: SourceRange }>();
  const seen = new Set<FunctionIR>();
  const visit = (f: FunctionIR, root: FunctionIR, depth: number): void => {
    if (seen.has(f) || depth > MAX_DEPTH || cancelled()) return;
    seen.add(f);
    for (const b of f.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'call') continue;
        const l = lockOf(s);
        if (l && (l.op === 'acquire' || l.op === 'trylock')) {
          if (!out.has(l.cls)) out.set(l.cls, { fn: root.name, range: root.nameRange });
          continue;
        }
        const h = lookupApi(s.callee) ? undefined : byName.get(s.callee);
        if (h) visit(h, root, depth + 1);
      }
    }
  };
  for (const cb of callbacksOfType(text, FAULT_HANDLER_OPS_TYPE, FAULT_HANDLER_FIELDS)) {
    const f = byName.get(cb.fn);
    if (f) visit(f, f, 0);
  }
  resultOf.set(byName, { text, result: out });
  return out;
});
