// The functions of a file that do something themselves or through same-file helpers at any
// depth: the ones that do it, and their callers, transitively. Rules and analyses use it to skip
// functions that cannot reach what they look for (vma-modify-read-lock's VMA writes, the
// page-fault region analysis's toggles) without walking helpers, which is exponential in the
// helper depth; this is linear in the size of the file.

import type { FunctionIR } from '../ir';

/** What one function does itself, and the same-file names it calls that may be helpers. */
export interface OwnReach {
  direct: boolean;
  callees: Iterable<string>;
}

export type ReachMemo = WeakMap<Map<string, FunctionIR>, { size: number; set: ReadonlySet<FunctionIR> }>;

/**
 * The functions of `byName` for which `own(fn).direct` holds, and their callers through the names
 * `own(fn).callees` lists, transitively. Memoised in `memo` per functions-by-name map; the map's
 * size is checked too, as the language server's session adds functions to a map it keeps.
 */
export function functionsReaching(byName: Map<string, FunctionIR>, memo: ReachMemo, own: (fn: FunctionIR) => OwnReach): ReadonlySet<FunctionIR> {
  const hit = memo.get(byName);
  if (hit && hit.size === byName.size) return hit.set;
  const callers = new Map<FunctionIR, FunctionIR[]>();
  const set = new Set<FunctionIR>();
  const work: FunctionIR[] = [];
  for (const fn of new Set(byName.values())) {
    const o = own(fn);
    if (o.direct) { set.add(fn); work.push(fn); }
    for (const callee of o.callees) {
      const h = byName.get(callee);
      if (!h || h === fn) continue;
      const l = callers.get(h);
      if (l) l.push(fn); else callers.set(h, [fn]);
    }
  }
  while (work.length) {
    for (const c of callers.get(work.pop() as FunctionIR) ?? []) if (!set.has(c)) { set.add(c); work.push(c); }
  }
  memo.set(byName, { size: byName.size, set });
  return set;
}
