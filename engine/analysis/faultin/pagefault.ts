// pagefault_disable() depth over a function's CFG (SEMANTICS B.5: with page faults disabled a
// user access is never serviced, the copy returns short). Used to tell which uaccess calls run
// with faults disabled (uaccess-livelock's loop recognition) and which paths leave the function
// with the depth changed (pagefault-disable-unbalanced). Same-file helpers are summarised by the
// depths they return with; the API table's `pagefault` facet says what disables and enables.

import type { CallStmt, FunctionIR } from '../../ir';
import { lookupApi } from '../../kernel/api-table';

/** Depths are clamped: a disable inside a loop without its enable must not grow forever. */
const MAX_DEPTH = 6;
const MIN_DEPTH = -3;
/** Helper nesting followed for summaries (helpers of helpers...). */
const MAX_HELPER_DEPTH = 4;

export interface ReturnDepth {
  block: number;
  /** The `return` statement that ends the path (the closing brace when falling off the end). */
  stmt?: import('../../ir').ReturnStmt;
  depths: number[];
}

export interface PagefaultFacts {
  /** Depths possible just before each call statement, keyed `block:index`. */
  beforeCall: Map<string, number[]>;
  returns: ReturnDepth[];
  /** Depths with which the function can return, starting from 0. */
  exitDepths: number[];
  /** pagefault_enable() (or a helper that enables) reached with depth 0 on some path. */
  enableWithoutDisable: { block: number; call: CallStmt }[];
  /** The function itself calls a disable or enable (directly or through a helper). */
  touchesDepth: boolean;
  /** Analysis ran out of budget: results are partial (rules stay silent). */
  partial: boolean;
}

const clamp = (d: number): number => Math.max(MIN_DEPTH, Math.min(MAX_DEPTH, d));

export class PagefaultAnalysis {
  private memo = new Map<FunctionIR, PagefaultFacts>();
  private inProgress = new Set<FunctionIR>();

  constructor(private readonly functionsByName: Map<string, FunctionIR>, private readonly cancelled: () => boolean = () => false) {}

  /** Net depth changes a call can make: the API's facet, a helper's exit depths, else none. */
  callDeltas(call: CallStmt, level: number): { deltas: number[]; touches: boolean } {
    const api = lookupApi(call.callee);
    if (api?.pagefault === 'disable') return { deltas: [1], touches: true };
    if (api?.pagefault === 'enable') return { deltas: [-1], touches: true };
    const helper = this.functionsByName.get(call.callee);
    if (!api && helper && level < MAX_HELPER_DEPTH && !this.inProgress.has(helper)) {
      const f = this.facts(helper, level + 1);
      if (f.touchesDepth && f.exitDepths.length) return { deltas: f.exitDepths, touches: true };
    }
    return { deltas: [0], touches: false };
  }

  facts(fn: FunctionIR, level = 0): PagefaultFacts {
    const hit = this.memo.get(fn);
    if (hit) return hit;
    this.inProgress.add(fn);
    const res = this.compute(fn, level);
    this.inProgress.delete(fn);
    this.memo.set(fn, res);
    return res;
  }

  private compute(fn: FunctionIR, level: number): PagefaultFacts {
    const blockIn = new Map<number, Set<number>>();
    const beforeCall = new Map<string, Set<number>>();
    const underflow = new Map<string, { block: number; call: CallStmt }>();
    let touches = false;
    let partial = false;
    blockIn.set(fn.entry, new Set([0]));
    const work = [fn.entry];
    const queued = new Set(work);
    // Budget: each block can change its set at most (MAX_DEPTH - MIN_DEPTH + 1) times.
    let budget = (fn.blocks.length + 1) * (MAX_DEPTH - MIN_DEPTH + 2) * 4;
    const outOf = new Map<number, Set<number>>();
    while (work.length) {
      if (--budget < 0 || ((budget & 255) === 0 && this.cancelled())) { partial = true; break; }
      const id = work.shift()!;
      queued.delete(id);
      const block = fn.blocks[id];
      if (!block) continue;
      let cur = new Set(blockIn.get(id) ?? []);
      block.stmts.forEach((s, idx) => {
        if (s.kind !== 'call') return;
        const key = `${id}:${idx}`;
        const seen = beforeCall.get(key) ?? new Set<number>();
        for (const d of cur) seen.add(d);
        beforeCall.set(key, seen);
        const { deltas, touches: t } = this.callDeltas(s, level);
        if (!t) return;
        touches = true;
        const next = new Set<number>();
        for (const d of cur) {
          for (const delta of deltas) {
            if (delta < 0 && d + delta < 0) underflow.set(key, { block: id, call: s });
            next.add(clamp(d + delta));
          }
        }
        cur = next;
      });
      outOf.set(id, cur);
      for (const e of block.succs) {
        const tgt = blockIn.get(e.to) ?? new Set<number>();
        let changed = !blockIn.has(e.to);
        for (const d of cur) if (!tgt.has(d)) { tgt.add(d); changed = true; }
        blockIn.set(e.to, tgt);
        if (changed && !queued.has(e.to)) { work.push(e.to); queued.add(e.to); }
      }
    }
    const returns: ReturnDepth[] = [];
    const exit = new Set<number>();
    for (const b of fn.blocks) {
      if (!b.succs.some((e) => e.to === fn.exit) || b.id === fn.exit) continue;
      const out = outOf.get(b.id);
      if (!out) continue;
      const ret = [...b.stmts].reverse().find((s) => s.kind === 'return');
      returns.push({ block: b.id, ...(ret && ret.kind === 'return' ? { stmt: ret } : {}), depths: [...out].sort((a, c) => a - c) });
      for (const d of out) exit.add(d);
    }
    return {
      beforeCall: new Map([...beforeCall].map(([k, v]) => [k, [...v].sort((a, c) => a - c)])),
      returns,
      exitDepths: [...exit].sort((a, c) => a - c),
      enableWithoutDisable: [...underflow.values()],
      touchesDepth: touches,
      partial,
    };
  }
}
