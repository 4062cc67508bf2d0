// A small, stable query for "pages taken by GUP" (gup-dirty-unlocked, gup-vaddr-no-notifier):
// which arrays and page variables hold pages an acquisition of the API table (`refs.op ==
// 'acquire'`) filled, in one function, and which struct fields of the file such arrays are kept in
// (`obj->pages = pages;`, or GUP straight into `obj->pvec`) so a release path in another function
// of the file is recognised. Deliberately shallow: the GUP ownership analysis (gup-refs.ts) owns
// the counting questions.

import type { Expr, FunctionIR, CallStmt } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { LONGTERM_GUP_FLAGS, WRITE_GUP_FLAGS } from '../kernel/api/vma';
import { exprKey, varsOf } from './expr';

export interface GupPages {
  /** exprKeys of page arrays GUP filled (`pages`, `obj->pvec`). */
  arrays: Set<string>;
  /** Variables holding one of those pages (`page = pages[i]`). */
  vars: Set<string>;
  /** exprKeys of struct fields GUP stored one page in (`gup(addr, 1, flags, &d->pg)`: `d->pg`). */
  fieldPages: Set<string>;
  /**
   * `write`: the flags ask for writable pages (FOLL_WRITE). `writeSelected`: the flags are chosen
   * per call (`dir == FROM_DEVICE ? FOLL_WRITE : 0`, `if (w) fl |= FOLL_WRITE`), so the pages taken
   * writable are the ones the transfer writes into.
   */
  acquisitions: { call: CallStmt; longterm: boolean; array: string; field?: string; write: boolean; writeSelected: boolean }[];
}

/** `e` without a leading `&` (`&pages[i]` -> `pages[i]`, `&d->pg` -> `d->pg`). */
export function strip(e: Expr): Expr {
  return e.kind === 'unary' && e.op === '&' ? e.arg : e;
}

function fieldName(e: Expr): string | undefined {
  const s = strip(e);
  return s.kind === 'field' ? s.name : undefined;
}

/** Some assignment of the function gives variable `v` a write flag (`flags |= FOLL_WRITE`, `w ? FOLL_WRITE : 0`). */
function assignedWrite(fn: FunctionIR, v: string): boolean {
  return fn.blocks.some((b) => b.stmts.some((s) => s.kind === 'assign' && s.target.kind === 'var' && s.target.name === v &&
    WRITE_GUP_FLAGS.some((f) => varsOf(s.value).has(f) || exprKey(s.value).includes(f))));
}

/**
 * Results without `fields` (the common query), per lowered body: the answer reads only the
 * function's own statements, so it holds for as long as the body does. Keyed on the blocks array,
 * which the language server's session shares between the copies it makes of an unchanged function
 * on every analysis (their ranges move in place, the statements stay), so the file-wide facts built
 * from it (gupFieldSourcesOfFile) are not recomputed for every function on every keystroke.
 */
const plainMemo = new WeakMap<object, GupPages>();

export function gupPagesOf(fn: FunctionIR, fields: Set<string> = NO_FIELDS): GupPages {
  if (!fields.size) {
    const hit = plainMemo.get(fn.blocks);
    if (hit) return hit;
    const r = gupPagesOfUncached(fn, fields);
    plainMemo.set(fn.blocks, r);
    return r;
  }
  return gupPagesOfUncached(fn, fields);
}

/** No struct fields known to hold GUP'd pages (the default of gupPagesOf). */
export const NO_FIELDS: Set<string> = new Set();

function gupPagesOfUncached(fn: FunctionIR, fields: Set<string>): GupPages {
  const out: GupPages = { arrays: new Set(), vars: new Set(), fieldPages: new Set(), acquisitions: [] };
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const r = lookupApi(s.callee)?.refs;
      if (!r || r.op !== 'acquire' || r.single) continue;
      const arity = r.byArity?.[s.args.length];
      const pa = arity?.pagesArg ?? r.pagesArg;
      const fa = arity?.flagsArg ?? r.flagsArg;
      const arg = s.args[pa];
      if (!arg) continue;
      const key = exprKey(r.allocatesArray ? strip(arg) : arg);
      const flags = fa !== undefined && s.args[fa] ? varsOf(s.args[fa]) : new Set<string>();
      const flagText = fa !== undefined && s.args[fa] ? exprKey(s.args[fa]) : '';
      const longterm = LONGTERM_GUP_FLAGS.some((f) => flags.has(f) || flagText.includes(f));
      const writeSelected = [...flags].some((v) => assignedWrite(fn, v));
      const write = WRITE_GUP_FLAGS.some((f) => flags.has(f) || flagText.includes(f)) || writeSelected;
      out.arrays.add(key);
      // `gup(addr, 1, flags, &page)`: the one-page array is the variable itself.
      if (!r.allocatesArray && arg.kind === 'unary' && arg.op === '&' && arg.arg.kind === 'var') out.vars.add(arg.arg.name);
      // `gup(addr, 1, flags, &d->pg)`: the same, in a field of the function's object.
      if (!r.allocatesArray && arg.kind === 'unary' && arg.op === '&' && arg.arg.kind === 'field') out.fieldPages.add(exprKey(arg.arg));
      const f = fieldName(r.allocatesArray ? strip(arg) : arg);
      out.acquisitions.push({ call: s, longterm, array: key, write, writeSelected, ...(f ? { field: f } : {}) });
    }
  }
  if (!out.arrays.size && !fields.size) return out;
  // Copies of the array and page variables taken from it (one pass in block order, twice for loops).
  for (let pass = 0; pass < 2; pass++) {
    for (const b of fn.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'assign') continue;
        const v = strip(s.value);
        const t = exprKey(s.target);
        if (v.kind === 'index' && isGupArray(v.base, out, fields) && s.target.kind === 'var') out.vars.add(t);
        else if (v.kind === 'field' && out.fieldPages.has(exprKey(v)) && s.target.kind === 'var') out.vars.add(t);
        else if ((v.kind === 'var' || v.kind === 'field') && out.arrays.has(exprKey(v))) out.arrays.add(t);
      }
    }
  }
  return out;
}

/** Field names of the file's structs that hold GUP'd page arrays. */
export function gupFieldsOfFile(fns: FunctionIR[]): Set<string> {
  return new Set(gupFieldSourcesOfFile(fns).keys());
}

/**
 * Field names of the file's structs that hold GUP'd pages, each with the acquisitions that fill
 * it: the array handed to GUP (`obj->pvec`), an array stored in a field (`obj->pages = pages;`),
 * or one page stored in a field's slot (`batch->pages[batch->nr++] = page;`).
 */
export interface GupFieldSource {
  fn: string;
  call: CallStmt;
  write: boolean;
  writeSelected: boolean;
  /** The struct type holding the field where the storing function declares it (`struct batch`). */
  holder?: string;
  /** The field holds one page, not an array (`gup(addr, 1, flags, &d->pg)`, `d->pg = page;`). */
  page?: boolean;
}

export function gupFieldSourcesOfFile(fns: FunctionIR[]): Map<string, GupFieldSource[]> {
  const out = new Map<string, GupFieldSource[]>();
  for (const fn of fns) {
    for (const [field, sources] of fieldSourcesOf(fn)) {
      const list = out.get(field) ?? [];
      for (const x of sources) if (!list.some((y) => y.call === x.call)) list.push(x);
      out.set(field, list);
    }
  }
  return out;
}

/** One function's part of gupFieldSourcesOfFile, per lowered body (as gupPagesOf's plain memo). */
const sourcesMemo = new WeakMap<object, Map<string, GupFieldSource[]>>();

function fieldSourcesOf(fn: FunctionIR): Map<string, GupFieldSource[]> {
  const hit = sourcesMemo.get(fn.blocks);
  if (hit) return hit;
  const out = new Map<string, GupFieldSource[]>();
  const add = (field: string, fn: FunctionIR, g: GupPages, only: CallStmt | undefined, holder: string | undefined, page = false): void => {
    const list = out.get(field) ?? [];
    for (const a of g.acquisitions) {
      if ((only && a.call !== only) || list.some((x) => x.call === a.call)) continue;
      list.push({ fn: fn.name, call: a.call, write: a.write, writeSelected: a.writeSelected, ...(holder ? { holder } : {}), ...(page ? { page } : {}) });
    }
    out.set(field, list);
  };
  {
    const g = gupPagesOf(fn);
    for (const a of g.acquisitions) {
      if (!a.field) continue;
      const arg = a.call.args.find((x) => fieldName(x) === a.field);
      // `&d->pg` handed to a call that fills an array it is given: the field is that one-page array.
      const r = lookupApi(a.call.callee)?.refs;
      const page = !!arg && arg.kind === 'unary' && arg.op === '&' && r?.op === 'acquire' && !r.allocatesArray;
      add(a.field, fn, g, a.call, arg ? holderType(fn, arg) : undefined, page);
    }
    for (const b of fn.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'assign') continue;
        const v = strip(s.value);
        if (s.target.kind === 'field' && g.arrays.has(exprKey(v))) add(s.target.name, fn, g, undefined, holderType(fn, s.target));
        else if (s.target.kind === 'index' && s.target.base.kind === 'field' && v.kind === 'var' && g.vars.has(v.name)) add(s.target.base.name, fn, g, undefined, holderType(fn, s.target));
        else if (s.target.kind === 'field' && isGupPage(v, g, NO_FIELDS)) add(s.target.name, fn, g, undefined, holderType(fn, s.target), true);
      }
    }
  }
  sourcesMemo.set(fn.blocks, out);
  return out;
}

/**
 * The declared struct type of the object whose field `e` reads (`batch->pages[i]`, `&map->pages`:
 * the type of `batch` / `map` as a local or parameter), normalised to `struct name`; undefined
 * when the base is not a declared variable.
 */
export function holderType(fn: FunctionIR, e: Expr): string | undefined {
  let x = strip(e);
  if (x.kind === 'index') x = strip(x.base);
  if (x.kind !== 'field' || x.base.kind !== 'var') return undefined;
  const name = x.base.name;
  const t = fn.locals[name] ?? fn.params.find((p) => p.name === name)?.type;
  if (!t) return undefined;
  const m = /\b(struct|union)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(t);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** Is `e` (a `struct page *` argument) a page GUP took: `pages[i]`, a page variable, `obj->pvec[i]` of a GUP'd field? */
export function isGupPage(e: Expr, g: GupPages, fields: Set<string>): boolean {
  const s = strip(e);
  if (s.kind === 'var') return g.vars.has(s.name);
  if (s.kind === 'field' && g.fieldPages.has(exprKey(s))) return true;
  if (s.kind === 'index') {
    if (g.arrays.has(exprKey(s.base))) return true;
    const f = fieldName(s.base);
    return !!f && fields.has(f);
  }
  if (s.kind === 'unary' && s.op === '*') return g.arrays.has(exprKey(s.arg));
  return false;
}

/** Is `e` a GUP'd page array (for vmap)? */
export function isGupArray(e: Expr, g: GupPages, fields: Set<string>): boolean {
  const s = strip(e);
  if (g.arrays.has(exprKey(s))) return true;
  const f = fieldName(s);
  return !!f && fields.has(f);
}
