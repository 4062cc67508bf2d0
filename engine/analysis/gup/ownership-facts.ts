// Ownership facts the GUP analysis (engine/analysis/gup-refs.ts) asks about single statements:
// does this statement give a page to an owner that keeps it? Kept apart from the interpreter so
// that each mechanism reads on its own (issue 7, "ownership hand-off").

import type { CallStmt, Expr, FileIR, FunctionIR, Stmt } from '../../ir';
import { lookupApi } from '../../kernel/api-table';
import { gupPageAliases, gupPageCarriers } from '../../kernel/api/gup';
import { helperSummary } from '../gup-summaries';

/**
 * The call hands the page named by the variable `name` to an owner that keeps it:
 * - a table hand-off (`skb_fill_page_desc(skb, i, page, ...)`, `sg_set_page(sg, page, ...)`);
 * - a same-file helper whose summary says it stores or hands on that parameter
 *   (`attach_frag(skb, page, ...)` that fills an skb fragment);
 * - an alias or handle of the page stored straight into memory others find
 *   (`slots[n] = folio_page(folio, i)`, `*pfn = page_to_pfn(page)`).
 * A reference taken on the page right after such a call is the one the code keeps for itself
 * (the ring that still lists the page, the folio batch entry) while the owner has the other.
 */
export function handsOnBefore(file: FileIR, c: CallStmt, name: string, globals: Set<string>): boolean {
  const isName = (i: number): boolean => {
    const a = c.args[i];
    return !!a && a.kind === 'var' && a.name === name;
  };
  const r = lookupApi(c.callee)?.refs;
  if (r && r.op === 'handoff') return isName(r.pagesArg);
  if (r) return false;
  const api = lookupApi(c.callee);
  if (api) {
    const through = gupPageAliases[c.callee] ?? gupPageCarriers[c.callee];
    const res = c.result;
    const stored = !!res && !(res.kind === 'var' && (res.name.startsWith('$') || !globals.has(res.name)));
    return through !== undefined && stored && isName(through);
  }
  const sum = helperSummary(file, c.callee);
  if (!sum) return false;
  return c.args.some((_, i) => isName(i) && !!sum.params[i]?.handoff);
}

/** A declared scalar type (an index, a count, a flag word): no pointer, array or aggregate. */
function scalarType(t: string | undefined): boolean {
  if (t === undefined || /[*\[]/.test(t) || /\b(struct|union)\b/.test(t)) return false;
  return /\b(bool|_Bool|char|short|int|long|size_t|ssize_t|loff_t|pgoff_t|sector_t|[us](8|16|32|64)|__[us](8|16|32|64)|unsigned|signed)\b/.test(t);
}

/**
 * `idx = folio->index + 1` into a scalar local: the value only reads fields through the page
 * (or array) variables in `related`, never the variables themselves, so the local carries a
 * number, not a handle on the page. A stored or returned copy of it says nothing about who
 * owns the page. (A PFN or an address comes from a conversion call, handled elsewhere.)
 */
export function readsScalarOnly(targetType: string | undefined, value: Expr, related: Set<string>): boolean {
  if (!scalarType(targetType)) return false;
  let sawField = false;
  const ok = (e: Expr): boolean => {
    switch (e.kind) {
      case 'var': return !related.has(e.name);
      case 'field':
        if (e.arrow && e.base.kind === 'var' && related.has(e.base.name)) { sawField = true; return true; }
        return ok(e.base);
      case 'index': return ok(e.base) && ok(e.index);
      case 'unary': return e.op !== '&' && ok(e.arg);
      case 'binary': return ok(e.left) && ok(e.right);
      case 'unknown': return false;
      default: return true;
    }
  };
  return ok(value) && sawField;
}

/**
 * Some statement after position `at` that `isUse` accepts is reached before the variable `v`
 * is given another value (a declaration, an assignment, a call storing its result in it).
 * Paths through such a redefinition stop there: what they reach afterwards uses another page.
 */
export function usedBeforeRedefined(fn: FunctionIR, at: { block: number; idx: number }, v: string, isUse: (s: Stmt) => boolean): boolean {
  const redefines = (s: Stmt): boolean =>
    (s.kind === 'decl' && s.name === v)
    || (s.kind === 'assign' && s.target.kind === 'var' && s.target.name === v)
    || (s.kind === 'call' && s.result?.kind === 'var' && s.result.name === v);
  /** true: a use; false: redefined first; undefined: neither in this block from `from`. */
  const scan = (block: number, from: number): boolean | undefined => {
    const stmts = fn.blocks[block]?.stmts ?? [];
    for (let i = from; i < stmts.length; i++) {
      if (isUse(stmts[i])) return true;
      if (redefines(stmts[i])) return false;
    }
    return undefined;
  };
  const first = scan(at.block, at.idx + 1);
  if (first !== undefined) return first;
  const seen = new Set<number>();
  const work = (fn.blocks[at.block]?.succs ?? []).map((e) => e.to);
  while (work.length) {
    const b = work.pop()!;
    if (seen.has(b)) continue;
    seen.add(b);
    const r = scan(b, 0);
    if (r === true) return true;
    if (r === false) continue;
    for (const e of fn.blocks[b]?.succs ?? []) if (!seen.has(e.to)) work.push(e.to);
  }
  return false;
}
