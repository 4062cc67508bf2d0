// Functions that run only inside an mmu notifier's callback: the callbacks the file registers in a
// notifier ops table (notifiers.ts), and the same-file helpers every call of which is in such a
// function (the invalidate callback walking its queues and calling a per-queue helper that does
// the work). A helper that some other code also calls, or that another ops table names, runs
// outside the callback too and is not one of them.

import type { CallStmt, FunctionIR } from '../ir';
import { fileFact } from './file-facts';
import { initTables } from './init-tables';
import { notifierCallbacks } from './notifiers';

export interface NotifierContext {
  /** Function name -> the registered callback it runs under (itself for a callback). */
  runsUnder: Map<string, string>;
  /** Same-file call sites of each function: the caller and the call. */
  callSites: Map<string, { caller: string; call: CallStmt }[]>;
}

const memo = new WeakMap<Map<string, FunctionIR>, { text: string; size: number; value: NotifierContext }>();

export const notifierContext = fileFact('notifierContext', (byName: Map<string, FunctionIR>, text: string): NotifierContext => {
  const fns = [...byName.values()];
  const hit = memo.get(byName);
  if (hit && hit.text === text && hit.size === fns.length) return hit.value;
  const callSites = new Map<string, { caller: string; call: CallStmt }[]>();
  const names = new Set(fns.map((f) => f.name));
  for (const f of fns) {
    for (const b of f.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'call' || !names.has(s.callee)) continue;
        const list = callSites.get(s.callee) ?? [];
        list.push({ caller: f.name, call: s });
        callSites.set(s.callee, list);
      }
    }
  }
  const registered = notifierCallbacks(text);
  const runsUnder = new Map<string, string>();
  for (const n of registered) if (names.has(n)) runsUnder.set(n, n);
  // Named in any other ops table: called from elsewhere as well.
  const elsewhere = new Set<string>();
  for (const t of initTables(text).values()) for (const fn of t.fields.values()) if (!registered.has(fn)) elsewhere.add(fn);
  for (let changed = true; changed;) {
    changed = false;
    for (const n of names) {
      if (runsUnder.has(n) || elsewhere.has(n)) continue;
      const sites = callSites.get(n);
      if (!sites?.length || !sites.every((x) => runsUnder.has(x.caller))) continue;
      runsUnder.set(n, runsUnder.get(sites[0]!.caller)!);
      changed = true;
    }
  }
  const value = { runsUnder, callSites };
  memo.set(byName, { text, size: fns.length, value });
  return value;
});
