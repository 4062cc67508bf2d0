// pagefault_disable() depth over a function's CFG (SEMANTICS B.5: with page faults disabled a
// user access is never serviced, the copy returns short). Used to tell which uaccess calls run
// with faults disabled (uaccess-livelock's loop recognition) and which paths leave the function
// with the depth changed (pagefault-disable-unbalanced). Same-file helpers are summarised by the
// depths they return with; the API table's `pagefault` facet says what disables and enables.

import type { CallStmt, Expr, FunctionIR, Stmt } from '../../ir';
import { exprKey, rootVar } from '../expr';
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
const MAX_FACTS = 4;
const MAX_STATES_PER_BLOCK = 12;

interface PathState {
  d: number;
  facts: Map<string, boolean>;
}

function keyOf(p: PathState): string {
  return `${p.d}|${[...p.facts].map(([k, v]) => `${v ? '' : '!'}${k}`).sort().join(',')}`;
}

const FLIP: Record<string, string> = { '!=': '==', '>=': '<', '<=': '>' };

/** An edge condition as (canonical atom, polarity): `!atomic` -> (atomic, false), `x != 0` -> (x == 0, false). */
function condFact(c: Expr): { key: string; value: boolean } | undefined {
  if (c.kind === 'unary' && c.op === '!') {
    const inner = condFact(c.arg);
    return inner ? { key: inner.key, value: !inner.value } : undefined;
  }
  if (c.kind === 'binary' && FLIP[c.op]) return { key: exprKey({ ...c, op: FLIP[c.op] }), value: false };
  if (c.kind === 'binary' && (c.op === '&&' || c.op === '||')) return undefined;
  return { key: exprKey(c), value: true };
}

/** Variables a fact mentions (kept with the key so a later write can drop it). */
function factVars(key: string): string[] {
  return key.match(/[A-Za-z_$][\w$]*/g) ?? [];
}

function writtenVars(s: Stmt): string[] {
  const roots = (e: Expr | undefined): string[] => {
    const r = e ? rootVar(e) : undefined;
    return r ? [r] : [];
  };
  switch (s.kind) {
    case 'assign': return roots(s.target);
    case 'havoc': return roots(s.target);
    case 'call': return [...roots(s.result), ...s.args.filter((a) => a.kind === 'unary' && a.op === '&').flatMap((a) => roots(a))];
    case 'decl': return [s.name];
    default: return [];
  }
}

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

  private touchMemo = new Map<FunctionIR, boolean>();

  /** Cheap scan: does the function (or a helper it calls) disable or enable page faults at all? */
  touches(fn: FunctionIR, level = 0): boolean {
    const hit = this.touchMemo.get(fn);
    if (hit !== undefined) return hit;
    this.touchMemo.set(fn, false); // recursion guard
    let found = false;
    for (const b of fn.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'call') continue;
        const api = lookupApi(s.callee);
        if (api?.pagefault) { found = true; break; }
        const h = api ? undefined : this.functionsByName.get(s.callee);
        if (h && h !== fn && level < MAX_HELPER_DEPTH && this.touches(h, level + 1)) { found = true; break; }
      }
      if (found) break;
    }
    this.touchMemo.set(fn, found);
    return found;
  }

  facts(fn: FunctionIR, level = 0): PagefaultFacts {
    const hit = this.memo.get(fn);
    if (hit) return hit;
    if (!this.touches(fn)) {
      // Depth 0 everywhere: nothing to compute (most functions of a real file).
      const flat: PagefaultFacts = { beforeCall: new Map(), returns: [], exitDepths: [0], enableWithoutDisable: [], touchesDepth: false, partial: false };
      this.memo.set(fn, flat);
      return flat;
    }
    this.inProgress.add(fn);
    const res = this.compute(fn, level);
    this.inProgress.delete(fn);
    this.memo.set(fn, res);
    return res;
  }

  private compute(fn: FunctionIR, level: number): PagefaultFacts {
    // A path state is the depth plus what the branches taken so far said about conditions whose
    // variables have not changed since: `if (atomic) pagefault_disable(); ... if (atomic)
    // pagefault_enable();` is balanced because the second branch must agree with the first.
    const blockIn = new Map<number, Map<string, PathState>>();
    const beforeCall = new Map<string, Set<number>>();
    const underflow = new Map<string, { block: number; call: CallStmt }>();
    let touches = false;
    let partial = false;
    blockIn.set(fn.entry, new Map([[keyOf({ d: 0, facts: new Map() }), { d: 0, facts: new Map() }]]));
    const work = [fn.entry];
    const queued = new Set(work);
    let budget = (fn.blocks.length + 1) * (MAX_DEPTH - MIN_DEPTH + 2) * MAX_STATES_PER_BLOCK;
    const outOf = new Map<number, Set<number>>();
    while (work.length) {
      if (--budget < 0 || ((budget & 255) === 0 && this.cancelled())) { partial = true; break; }
      const id = work.shift()!;
      queued.delete(id);
      const block = fn.blocks[id];
      if (!block) continue;
      let cur: PathState[] = [...(blockIn.get(id)?.values() ?? [])].map((p) => ({ d: p.d, facts: new Map(p.facts) }));
      block.stmts.forEach((st, idx) => {
        for (const k of writtenVars(st)) for (const p of cur) for (const fk of [...p.facts.keys()]) if (factVars(fk).includes(k)) p.facts.delete(fk);
        if (st.kind !== 'call') return;
        const key = `${id}:${idx}`;
        const seen = beforeCall.get(key) ?? new Set<number>();
        for (const p of cur) seen.add(p.d);
        beforeCall.set(key, seen);
        const { deltas, touches: t } = this.callDeltas(st, level);
        if (!t) return;
        touches = true;
        const next: PathState[] = [];
        for (const p of cur) {
          for (const delta of deltas) {
            if (delta < 0 && p.d + delta < 0) underflow.set(key, { block: id, call: st });
            next.push({ d: clamp(p.d + delta), facts: new Map(p.facts) });
          }
        }
        cur = next;
      });
      const out = outOf.get(id) ?? new Set<number>();
      for (const p of cur) out.add(p.d);
      outOf.set(id, out);
      for (const e of block.succs) {
        const fact = e.cond ? condFact(e.cond) : undefined;
        const tgt = blockIn.get(e.to) ?? new Map<string, PathState>();
        let changed = !blockIn.has(e.to);
        for (const p of cur) {
          let q = p;
          if (fact) {
            const known = p.facts.get(fact.key);
            if (known !== undefined && known !== fact.value) continue; // contradicts an earlier branch
            q = { d: p.d, facts: new Map(p.facts) };
            if (q.facts.size < MAX_FACTS) q.facts.set(fact.key, fact.value);
          }
          const k = keyOf(q);
          if (tgt.has(k)) continue;
          if (tgt.size >= MAX_STATES_PER_BLOCK) {
            // Too many paths: forget the facts (sound for depths, less precise).
            const plain = { d: q.d, facts: new Map<string, boolean>() };
            const pk = keyOf(plain);
            if (tgt.has(pk)) continue;
            tgt.set(pk, plain);
          } else tgt.set(k, q);
          changed = true;
        }
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
