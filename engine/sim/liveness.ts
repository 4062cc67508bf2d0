// Dead-local reduction for the explorer: two states that differ only in locals no later statement
// reads are the same state. After each transition the running thread's frames forget (set to
// NULL) the plain scalar locals that are dead at their program point, so state hashing merges
// them — an adversary choice whose result was only tested once (`if (!key_in_sk(...))`) no longer
// splits every later state in two. Classic backward liveness over the IR's blocks, per statement.
//
// Conservative by construction: only plain identifiers (no field/array/address use anywhere in
// the function) are ever forgotten; globals and by-reference variables are not frame locals.

import type { Expr, FunctionIR, Stmt } from '../ir';
import type { SimState } from '../kernel/state';
import { varsOf } from '../analysis/expr';

interface Liveness {
  /** live-in per block per statement index (index = stmts.length: before the edges). */
  at: Set<string>[][];
  /** Locals that may be forgotten (plain scalars). */
  plain: Set<string>;
}

const cache = new WeakMap<FunctionIR, Liveness>();

/** Variables used other than as a plain value (`&x`, `x.f`, `x[i]`, `*x = ...`): never forgotten. */
function complexUses(e: Expr | undefined, out: Set<string>): void {
  if (!e) return;
  switch (e.kind) {
    case 'field': { const r = rootOf(e); if (r) out.add(r); complexUses(e.base, out); break; }
    case 'index': { const r = rootOf(e); if (r) out.add(r); complexUses(e.base, out); complexUses(e.index, out); break; }
    case 'unary': if (e.op === '&' || e.op === '*') { const r = rootOf(e.arg); if (r) out.add(r); } complexUses(e.arg, out); break;
    case 'binary': complexUses(e.left, out); complexUses(e.right, out); break;
    default: break;
  }
}

function rootOf(e: Expr): string | undefined {
  switch (e.kind) {
    case 'var': return e.name;
    case 'field': return rootOf(e.base);
    case 'index': return rootOf(e.base);
    case 'unary': return rootOf(e.arg);
    case 'binary': return rootOf(e.left);
    default: return undefined;
  }
}

function useDef(s: Stmt): { use: Set<string>; def?: string } {
  const use = new Set<string>();
  switch (s.kind) {
    case 'assign':
      varsOf(s.value, use);
      if (s.target.kind === 'var') return { use, def: s.target.name };
      varsOf(s.target, use);
      return { use };
    case 'call':
      for (const a of s.args) varsOf(a, use);
      if (s.result && s.result.kind === 'var') return { use, def: s.result.name };
      if (s.result) varsOf(s.result, use);
      return { use };
    case 'havoc':
      if (s.target && s.target.kind === 'var') return { use, def: s.target.name };
      if (s.target) varsOf(s.target, use);
      return { use };
    case 'return': if (s.value) varsOf(s.value, use); return { use };
    case 'decl': return { use, def: s.name };
  }
}

export function liveness(fn: FunctionIR): Liveness {
  const hit = cache.get(fn);
  if (hit) return hit;
  const complex = new Set<string>();
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind === 'assign') { complexUses(s.target, complex); complexUses(s.value, complex); }
      if (s.kind === 'call') { for (const a of s.args) complexUses(a, complex); complexUses(s.result, complex); }
      if (s.kind === 'return') complexUses(s.value, complex);
      if (s.kind === 'havoc') complexUses(s.target, complex);
    }
    for (const e of b.succs) complexUses(e.cond, complex);
  }
  const plain = new Set<string>();
  for (const name of Object.keys(fn.locals)) if (!complex.has(name)) plain.add(name);
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind === 'assign' && s.target.kind === 'var' && s.target.name.startsWith('$') && !complex.has(s.target.name)) plain.add(s.target.name);
    if (s.kind === 'call' && s.result?.kind === 'var' && s.result.name.startsWith('$') && !complex.has(s.result.name)) plain.add(s.result.name);
  }
  const at: Set<string>[][] = fn.blocks.map((b) => b.stmts.map(() => new Set<string>()).concat([new Set<string>()]));
  const ud = fn.blocks.map((b) => b.stmts.map(useDef));
  // Iterate to a fixpoint (the blocks' order is arbitrary; bounded by the lattice height).
  for (let changed = true, round = 0; changed && round < 1000; round++) {
    changed = false;
    for (let bi = fn.blocks.length - 1; bi >= 0; bi--) {
      const b = fn.blocks[bi];
      const end = new Set<string>();
      for (const e of b.succs) {
        if (e.cond) varsOf(e.cond, end);
        const succ = at[e.to]?.[0];
        if (succ) for (const v of succ) end.add(v);
      }
      let live = end;
      const slots = at[bi];
      if (!sameSet(slots[b.stmts.length], live)) { slots[b.stmts.length] = live; changed = true; }
      for (let i = b.stmts.length - 1; i >= 0; i--) {
        const { use, def } = ud[bi][i];
        const inn = new Set(live);
        if (def) inn.delete(def);
        for (const u of use) inn.add(u);
        if (!sameSet(slots[i], inn)) { slots[i] = inn; changed = true; }
        live = inn;
      }
    }
  }
  const r = { at, plain };
  cache.set(fn, r);
  return r;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Forget the dead plain locals of thread `tid`'s frames (in place). Returns how many were forgotten. */
export function forgetDeadLocals(functions: Record<string, FunctionIR>, s: SimState, tid: number): number {
  const t = s.threads[tid];
  let n = 0;
  for (const f of t.frames) {
    const fn = functions[f.fn];
    if (!fn) continue;
    const lv = liveness(fn);
    const live = lv.at[f.block]?.[Math.min(f.idx, fn.blocks[f.block].stmts.length)];
    if (!live) continue;
    for (const k in f.env) {
      if (f.env[k] === null || !lv.plain.has(k) || live.has(k)) continue;
      f.env[k] = null;
      n++;
    }
  }
  return n;
}
