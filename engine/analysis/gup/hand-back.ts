// What a function that implements an acquiring API-table entry (an iov_iter_get_pages variant,
// an mm/gup.c internal) hands back to its caller. The caller reads the return value with the
// entry's convention (engine/kernel/api/refs-schema.ts `returns`): for 'bytes-or-errno' and
// 'count-or-errno', a negative value is an errno and means "nothing taken". A value computed
// from the acquisition's result (`res * PAGE_SIZE - *start`) on a path where that result may
// be 0 can come out negative without being an errno: the caller then takes an offset for an
// error code, or keeps going with a byte count below zero (commit 755890ed646e, "iov_iter: Fix
// iov_iter_get_pages{,_alloc} page fault return value", v5.14).

import type { Expr } from '../../ir';
import { exprKey, isIntValue, varsOf } from '../expr';

/** Values computed from an acquisition's result, by local variable, along one path (interned). */
export class DerivedValues {
  private readonly exprs: Expr[] = [];
  private readonly index = new Map<string, number>();

  intern(e: Expr): number {
    const k = exprKey(e);
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.exprs.length;
      this.exprs.push(e);
      this.index.set(k, i);
    }
    return i;
  }

  get(i: number): Expr {
    return this.exprs[i];
  }

  /** `e` with every variable that holds a derived value replaced by that value. */
  expand(e: Expr, dv: Record<string, number>, depth = 0): Expr {
    if (depth > 6) return e;
    switch (e.kind) {
      case 'var': return dv[e.name] !== undefined ? this.expand(this.get(dv[e.name]), dv, depth + 1) : e;
      case 'unary': return { ...e, arg: this.expand(e.arg, dv, depth) };
      case 'binary': return { ...e, left: this.expand(e.left, dv, depth), right: this.expand(e.right, dv, depth) };
      default: return e;
    }
  }
}

/** Derived values larger than this (in expression nodes) are not followed. */
export const MAX_DERIVED_SIZE = 24;

/** Number of nodes of an expression. */
export function exprSize(e: Expr): number {
  switch (e.kind) {
    case 'field': return 1 + exprSize(e.base);
    case 'index': return 1 + exprSize(e.base) + exprSize(e.index);
    case 'unary': return 1 + exprSize(e.arg);
    case 'binary': return 1 + exprSize(e.left) + exprSize(e.right);
    default: return 1;
  }
}

/** The expression mentions one of the keys (the result or a copy of it). */
export function mentionsAny(e: Expr, keys: string[]): boolean {
  const vs = varsOf(e);
  return keys.some((k) => vs.has(k));
}

/**
 * `e` evaluated with the result (every key in `keys`) set to 0, folded as far as constants
 * allow: `res * PAGE_SIZE - *start` becomes `-*start`.
 */
export function atNothing(e: Expr, keys: string[]): Expr {
  const zero: Expr = { kind: 'int', value: 0 };
  const fold = (x: Expr): Expr => {
    switch (x.kind) {
      case 'var': return keys.includes(x.name) ? zero : x;
      case 'unary': {
        const a = fold(x.arg);
        if (x.op === '-' && isIntValue(a, 0)) return zero;
        return { ...x, arg: a };
      }
      case 'binary': {
        const l = fold(x.left);
        const r = fold(x.right);
        const lz = isIntValue(l, 0);
        const rz = isIntValue(r, 0);
        switch (x.op) {
          case '*': case '&': return lz || rz ? zero : { ...x, left: l, right: r };
          case '<<': case '>>': case '/': return lz ? zero : { ...x, left: l, right: r };
          case '+': case '|': return lz ? r : rz ? l : { ...x, left: l, right: r };
          case '-': return rz ? l : lz ? { kind: 'unary', op: '-', arg: r } : { ...x, left: l, right: r };
          default: return { ...x, left: l, right: r };
        }
      }
      default: return x;
    }
  };
  return fold(e);
}

/**
 * The value is the negation of something that is not a constant (`-*start`, `-off`): it may
 * be negative, and it is no errno (an errno is a negated constant, `-EFAULT`).
 */
export function negativeNonErrno(e: Expr): boolean {
  if (e.kind !== 'unary' || e.op !== '-') return false;
  const a = e.arg;
  return a.kind !== 'const' && a.kind !== 'int' && a.kind !== 'unknown';
}
