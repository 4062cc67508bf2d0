// Per-path facts about values, for the feasibility of branches in the GUP analysis
// (engine/analysis/gup-refs.ts keeps one `ValueFacts` record in each path state):
//
//   'zobj'      the variable points to an object that came back zero-filled from an allocator
//               (API table `alloc` facet); a field of it that this path has not written since
//               is still 0 / NULL, so `if (obj->pages)` is false there;
//   'w'         a field of such an object written on this path (its value is unknown again);
//   'nz'        the pointer is not NULL (get_page(page) / folio_get(folio) dereferenced it);
//   'err'       the value is an error pointer (ERR_PTR(), or a same-file helper that returns
//               ERR_PTR() on every path), so IS_ERR() of it is true;
//   'iserr:<k>' the temporary holds IS_ERR(<k>).
//
// Facts are recorded only for what some condition of the function tests, and dropped as soon
// as the value may change: an assignment, a call given its address, a call given the object
// pointer itself (it may write any field), a copy of the pointer (writes through the copy are
// not followed), an expression the lowering could not read.

import type { CallStmt, Expr, FileIR, FunctionIR } from '../../ir';
import { lookupApi } from '../../kernel/api-table';
import { exprKey, isIntValue, mentionsName } from '../expr';
import { fileFunction } from '../gup-summaries';

export type ValueFacts = Record<string, string>;

const isNull = (e: Expr): boolean => isIntValue(e, 0) || (e.kind === 'const' && e.name === 'NULL');

/** What a function's conditions test: the keys worth a fact (computed once per function). */
export class ValueFactsContext {
  /** Keys of the values conditions test (`req->page_list`, `folio`, `$t3`). */
  readonly tested = new Set<string>();
  /** Variables given to an error-pointer test (IS_ERR(x)). */
  readonly errTested = new Set<string>();

  constructor(readonly fn: FunctionIR, readonly file: FileIR) {
    const atoms = (e: Expr): void => {
      if (e.kind === 'unary' && e.op === '!') return atoms(e.arg);
      if (e.kind === 'binary' && (e.op === '&&' || e.op === '||')) { atoms(e.left); atoms(e.right); return; }
      if (e.kind === 'binary' && (e.op === '==' || e.op === '!=') && isNull(e.right)) return atoms(e.left);
      if (e.kind === 'var' || e.kind === 'field') this.tested.add(exprKey(e));
    };
    for (const b of fn.blocks) for (const e of b.succs) if (e.cond) atoms(e.cond);
    for (const b of fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const ep = lookupApi(s.callee)?.errPtr;
      if ((ep === 'test' || ep === 'test-or-null') && s.args[0]?.kind === 'var') this.errTested.add(s.args[0].name);
    }
  }

  /** A fact on `key` could decide a condition (it, or a field below it, is tested). */
  wanted(key: string): boolean {
    if (this.tested.has(key)) return true;
    for (const t of this.tested) if (t.startsWith(key + '->') || t.startsWith(key + '.')) return true;
    return false;
  }
}

function below(k: string, key: string): boolean {
  return k === key || k.startsWith(key + '->') || k.startsWith(key + '.') || k.startsWith(key + '[');
}

/** `key` gets a new value: drop what was known about it, what hangs off it, and tests of it. */
export function vfForget(vf: ValueFacts, key: string): void {
  for (const k in vf) {
    if (below(k, key) || vf[k] === `iserr:${key}`) delete vf[k];
  }
}

/** The root variable and the field path of `p->f` / `p->f.g` (first hop an arrow, then dots). */
function fieldPath(e: Expr): { root: string; keys: string[] } | undefined {
  const hops: Expr[] = [];
  let x = e;
  while (x.kind === 'field') { hops.unshift(x); x = x.base; }
  if (x.kind !== 'var' || hops.length === 0) return undefined;
  if (!(hops[0] as Extract<Expr, { kind: 'field' }>).arrow) return undefined;
  if (hops.slice(1).some((h) => (h as Extract<Expr, { kind: 'field' }>).arrow)) return undefined;
  return { root: x.name, keys: hops.map(exprKey) };
}

/** The zeroed object `root` escapes (a copy, a call given the pointer): forget it is zeroed. */
function dropObject(vf: ValueFacts, root: string): void {
  if (vf[root] !== 'zobj') return;
  for (const k in vf) if (k === root || k.startsWith(root + '->')) delete vf[k];
}

/** Variables of `e` used other than as the base of a field read (`req`, `req + 1`; not `req->len`). */
function bareUses(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.kind) {
    case 'var': out.add(e.name); break;
    case 'field': if (!(e.arrow && e.base.kind === 'var')) bareUses(e.base, out); break;
    case 'index': bareUses(e.base, out); bareUses(e.index, out); break;
    case 'unary': bareUses(e.arg, out); break;
    case 'binary': bareUses(e.left, out); bareUses(e.right, out); break;
    default: break;
  }
  return out;
}

/** A field of a zeroed object written (or its address given away): its value is unknown now. */
function markWritten(vf: ValueFacts, ctx: ValueFactsContext, lv: Expr, zero: boolean): void {
  let x = lv;
  while (x.kind === 'index') x = x.base;
  const fp = fieldPath(x);
  if (!fp) return;
  const key = fp.keys[fp.keys.length - 1];
  vfForget(vf, key);
  if (vf[fp.root] === 'zobj' && ctx.wanted(key)) vf[key] = zero ? 'z' : 'w';
}

export function vfAssign(vf: ValueFacts, ctx: ValueFactsContext, target: Expr, value: Expr): void {
  for (const v of bareUses(value)) dropObject(vf, v);
  if (target.kind === 'var') {
    if (value.kind === 'var' && (vf[value.name] === 'err' || vf[value.name] === 'nz') && ctx.wanted(target.name)) vf[target.name] = vf[value.name];
    return;
  }
  markWritten(vf, ctx, target, isNull(value));
}

export function vfHavoc(vf: ValueFacts, text: string): void {
  const words = new Set(text.match(/[A-Za-z_$][A-Za-z0-9_$]*/g) ?? []);
  for (const k in vf) {
    const root = k.match(/^[A-Za-z_$][A-Za-z0-9_$]*/)?.[0];
    if (root && words.has(root)) vfForget(vf, root);
  }
}

export function vfCall(vf: ValueFacts, ctx: ValueFactsContext, c: CallStmt): void {
  const api = lookupApi(c.callee);
  for (const a of c.args) {
    if (a.kind === 'unary' && a.op === '&') {
      // `&x`: the callee may store into x; `&obj->f`: into that field.
      if (a.arg.kind === 'var') vfForget(vf, a.arg.name);
      else markWritten(vf, ctx, a.arg, false);
      for (const v of bareUses(a.arg)) dropObject(vf, v);
    } else for (const v of bareUses(a)) dropObject(vf, v);
  }
  if (c.result) vfForget(vf, exprKey(c.result));
  if (c.result?.kind === 'var') {
    const r = c.result.name;
    const al = api?.alloc;
    const zeroed = !!al && (al.zeroed || (al.zeroFlagArg !== undefined && !!c.args[al.zeroFlagArg] && mentionsName(c.args[al.zeroFlagArg], '__GFP_ZERO')));
    if (zeroed && ctx.wanted(r)) vf[r] = 'zobj';
    else if (ctx.errTested.has(r) && (api?.errPtr === 'make' || (!api && alwaysReturnsErrPtr(ctx.file, c.callee)))) vf[r] = 'err';
    else if ((api?.errPtr === 'test' || api?.errPtr === 'test-or-null') && c.args[0] && ctx.tested.has(r)) vf[r] = `iserr:${exprKey(c.args[0])}`;
  }
  // get_page(page): the page pointer was dereferenced, so it is not NULL on this path.
  const refs = api?.refs;
  if (refs?.op === 'acquire' && refs.single) {
    const g = c.args[refs.pagesArg];
    if (g?.kind === 'var' && ctx.wanted(g.name)) vf[g.name] = 'nz';
  }
}

/** Truth of a condition from the facts of this path; undefined when they do not decide it. */
export function vfTruth(vf: ValueFacts, e: Expr): boolean | undefined {
  if (e.kind === 'unary' && e.op === '!') {
    const t = vfTruth(vf, e.arg);
    return t === undefined ? undefined : !t;
  }
  if (e.kind === 'binary' && (e.op === '&&' || e.op === '||')) {
    const l = vfTruth(vf, e.left);
    const r = vfTruth(vf, e.right);
    if (e.op === '&&') return l === false || r === false ? false : l === true && r === true ? true : undefined;
    return l === true || r === true ? true : l === false && r === false ? false : undefined;
  }
  if (e.kind === 'binary' && (e.op === '==' || e.op === '!=') && isNull(e.right)) {
    const t = vfTruth(vf, e.left);
    return t === undefined ? undefined : e.op === '!=' ? t : !t;
  }
  if (e.kind !== 'var' && e.kind !== 'field') return undefined;
  const key = exprKey(e);
  const f = vf[key];
  if (f !== undefined && f.startsWith('iserr:')) return vf[f.slice(6)] === 'err' ? true : undefined;
  if (f === 'nz' || f === 'err') return true;
  if (f === 'z') return false;
  const fp = fieldPath(e);
  if (!fp || vf[fp.root] !== 'zobj') return undefined;
  for (const k of fp.keys) {
    if (vf[k] === 'w') return undefined;
    if (vf[k] === 'z') return false;
  }
  return false;
}

/** Key part of a path state. */
export function vfKey(vf: ValueFacts): string {
  let k = '';
  for (const name in vf) k += `${name.length}:${name}${vf[name]};`;
  return k;
}

const errHelpers = new WeakMap<FileIR, Map<string, boolean>>();

/**
 * A same-file function whose every `return` gives back an error pointer built right there
 * (`return ERR_PTR(-EAGAIN);`): its result is an error pointer whatever the path.
 */
function alwaysReturnsErrPtr(file: FileIR, name: string): boolean {
  let m = errHelpers.get(file);
  if (!m) errHelpers.set(file, (m = new Map()));
  const hit = m.get(name);
  if (hit !== undefined) return hit;
  const fn = fileFunction(file, name);
  let all = !!fn;
  let any = false;
  if (fn) for (const b of fn.blocks) {
    b.stmts.forEach((s, i) => {
      if (s.kind !== 'return') return;
      any = true;
      const v = s.value;
      let ok = false;
      if (v && v.kind === 'var') {
        for (let j = i - 1; j >= 0; j--) {
          const d = b.stmts[j];
          if (d.kind === 'call' && d.result?.kind === 'var' && d.result.name === v.name) { ok = lookupApi(d.callee)?.errPtr === 'make'; break; }
          if ((d.kind === 'assign' && exprKey(d.target) === v.name) || (d.kind === 'decl' && d.name === v.name)) break;
        }
      }
      if (!ok) all = false;
    });
  }
  const out = all && any;
  m.set(name, out);
  return out;
}

