// Dead-local reduction for the explorer: two states that differ only in locals no later statement
// reads are the same state. After each transition the running thread's frames forget (set to
// NULL) the plain scalar locals that are dead at their program point, so state hashing merges
// them — an adversary choice whose result was only tested once (`if (!key_in_sk(...))`) no longer
// splits every later state in two. Classic backward liveness over the IR's blocks, per statement.
//
// Conservative by construction: only plain identifiers (no field/array/address use anywhere in
// the function) are ever forgotten; globals and by-reference variables are not frame locals.
//
// Struct fields too: the interpreter keeps a field in the frame under its text (`iocb->ki_flags`)
// and reads it only where that text is evaluated in the same function, so a field no later
// statement reads is dropped from the frame (an input the adversary chose, tested once at entry,
// no longer doubles every later state). A call may read fields through what it is handed (an API
// facet reads `iter.processed` from `&iter`): every field rooted at a variable of a call's
// arguments is live at the call.

import type { Expr, FunctionIR, Stmt } from '../ir';
import type { SimState } from '../kernel/state';
import { rootVar, varsOf } from '../analysis/expr';
import { exprText } from '../ir-text';

interface Liveness {
  /** live-in per block per statement index (index = stmts.length: before the edges). */
  at: Set<string>[][];
  /** Locals that may be forgotten (plain scalars). */
  plain: Set<string>;
  /** Field texts the function's frame may hold (every field the function names). */
  fields: Set<string>;
}

/**
 * Visit the fields `e` names: the outermost ones only (`intoBase` false: what evaluating `e`
 * reads, since the interpreter reads a field by its whole text, not its base), or every one at
 * any depth (`intoBase` true: `p->a.b` names `p->a.b` and `p->a`).
 */
function eachField(e: Expr | undefined, visit: (f: Expr) => void, intoBase: boolean): void {
  if (!e) return;
  switch (e.kind) {
    case 'field': visit(e); if (intoBase) eachField(e.base, visit, intoBase); break;
    case 'index': eachField(e.base, visit, intoBase); eachField(e.index, visit, intoBase); break;
    case 'unary': eachField(e.arg, visit, intoBase); break;
    case 'binary': eachField(e.left, visit, intoBase); eachField(e.right, visit, intoBase); break;
    default: break;
  }
}

/** Field texts read by evaluating `e`. */
function fieldReads(e: Expr | undefined, out: Set<string>): void {
  eachField(e, (f) => out.add(exprText(f)), false);
}

/** Every expression of the function's statements and branch conditions. */
function eachExpr(fn: FunctionIR, visit: (e: Expr | undefined) => void): void {
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind === 'assign') { visit(s.target); visit(s.value); }
      if (s.kind === 'call') { for (const a of s.args) visit(a); visit(s.result); }
      if (s.kind === 'return') visit(s.value);
      if (s.kind === 'havoc') visit(s.target);
    }
    for (const e of b.succs) visit(e.cond);
  }
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

/**
 * What storing into `target` reads and which variable or field it overwrites: a variable or a
 * field is replaced whole; an element (`a[i] = v`, `s->arr[i] = v`) updates the array the base
 * names (read and written); a store through a pointer evaluates the pointer.
 */
function targetUseDef(target: Expr, use: Set<string>): string | undefined {
  if (target.kind === 'var') return target.name;
  varsOf(target, use);
  if (target.kind === 'field') return exprText(target);
  if (target.kind === 'index') {
    if (target.base.kind === 'field') use.add(exprText(target.base));
    else fieldReads(target.base, use);
    fieldReads(target.index, use);
  } else if (target.kind === 'unary') fieldReads(target.arg, use);
  return undefined;
}

function useDef(s: Stmt, byRoot: Map<string, string[]>): { use: Set<string>; def?: string } {
  const use = new Set<string>();
  switch (s.kind) {
    case 'assign': {
      varsOf(s.value, use);
      fieldReads(s.value, use);
      const def = targetUseDef(s.target, use);
      return def !== undefined ? { use, def } : { use };
    }
    case 'call': {
      for (const a of s.args) {
        varsOf(a, use);
        fieldReads(a, use);
        // What the callee may read through the argument (`iomap_iter(&iter, ...)` reads iter.processed).
        for (const v of varsOf(a)) for (const f of byRoot.get(v) ?? []) use.add(f);
      }
      const def = s.result ? targetUseDef(s.result, use) : undefined;
      return def !== undefined ? { use, def } : { use };
    }
    case 'havoc': {
      const def = s.target ? targetUseDef(s.target, use) : undefined;
      return def !== undefined ? { use, def } : { use };
    }
    case 'return': if (s.value) { varsOf(s.value, use); fieldReads(s.value, use); } return { use };
    case 'decl': return { use, def: s.name };
  }
}

export function liveness(fn: FunctionIR): Liveness {
  const hit = cache.get(fn);
  if (hit) return hit;
  const complex = new Set<string>();
  eachExpr(fn, (e) => complexUses(e, complex));
  const plain = new Set<string>();
  for (const name of Object.keys(fn.locals)) if (!complex.has(name)) plain.add(name);
  // Every field the function names, with the variable it hangs off.
  const named = new Map<string, string | undefined>();
  eachExpr(fn, (e) => eachField(e, (f) => named.set(exprText(f), rootVar(f)), true));
  const fields = new Set(named.keys());
  const byRoot = new Map<string, string[]>();
  for (const [f, root] of named) if (root) byRoot.set(root, [...(byRoot.get(root) ?? []), f]);
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind === 'assign' && s.target.kind === 'var' && s.target.name.startsWith('$') && !complex.has(s.target.name)) plain.add(s.target.name);
    if (s.kind === 'call' && s.result?.kind === 'var' && s.result.name.startsWith('$') && !complex.has(s.result.name)) plain.add(s.result.name);
  }
  const at: Set<string>[][] = fn.blocks.map((b) => b.stmts.map(() => new Set<string>()).concat([new Set<string>()]));
  const ud = fn.blocks.map((b) => b.stmts.map((st) => useDef(st, byRoot)));
  // Iterate to a fixpoint (the blocks' order is arbitrary; bounded by the lattice height).
  for (let changed = true, round = 0; changed && round < 1000; round++) {
    changed = false;
    for (let bi = fn.blocks.length - 1; bi >= 0; bi--) {
      const b = fn.blocks[bi];
      const end = new Set<string>();
      for (const e of b.succs) {
        if (e.cond) { varsOf(e.cond, end); fieldReads(e.cond, end); }
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
  const r = { at, plain, fields };
  cache.set(fn, r);
  return r;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * Forget the dead plain locals of thread `tid`'s frames (in place): set to NULL; dead fields are
 * removed from the frame (a field never stored reads as NULL too). Returns how many were forgotten.
 */
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
      if (live.has(k)) continue;
      if (lv.fields.has(k)) { delete f.env[k]; n++; continue; }
      if (f.env[k] === null || !lv.plain.has(k)) continue;
      f.env[k] = null;
      n++;
    }
  }
  return n;
}
