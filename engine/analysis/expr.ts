// Expression helpers shared by the static passes: a canonical key (to compare `pages`,
// `obj->pages`, `ret`), C-like rendering for messages, and the root variable of an lvalue.

import type { Expr, SourceRange } from '../ir';

/** Canonical text of an expression; equal keys mean "the same lvalue / value" syntactically. */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case 'int': return String(e.value);
    case 'var': return e.name;
    case 'const': return e.name;
    case 'field': return `${exprKey(e.base)}${e.arrow ? '->' : '.'}${e.name}`;
    case 'index': return `${exprKey(e.base)}[${exprKey(e.index)}]`;
    case 'unary':
      // `*&x` and `&*x` cancel; `(*obj).pages` keys like `obj->pages` through the field case.
      if (e.op === '*' && e.arg.kind === 'unary' && e.arg.op === '&') return exprKey(e.arg.arg);
      if (e.op === '&' && e.arg.kind === 'unary' && e.arg.op === '*') return exprKey(e.arg.arg);
      return `${e.op}${wrap(e.arg)}`;
    case 'binary': return `${wrap(e.left)} ${e.op} ${wrap(e.right)}`;
    case 'unknown': return `?${e.text}`;
  }
}

function wrap(e: Expr): string {
  return e.kind === 'binary' ? `(${exprKey(e)})` : exprKey(e);
}

/** C-like rendering for messages (temporaries shown as `(call result)`). */
export function renderExpr(e: Expr, tempName?: (name: string) => string | undefined): string {
  const r = (x: Expr): string => renderExpr(x, tempName);
  switch (e.kind) {
    case 'int': return e.text ?? String(e.value);
    case 'var': return e.name.startsWith('$') ? (tempName?.(e.name) ?? '(call result)') : e.name;
    case 'const': return e.name;
    case 'field': return `${r(e.base)}${e.arrow ? '->' : '.'}${e.name}`;
    case 'index': return `${r(e.base)}[${r(e.index)}]`;
    case 'unary': return `${e.op}${e.arg.kind === 'binary' ? `(${r(e.arg)})` : r(e.arg)}`;
    case 'binary': {
      const left = e.left.kind === 'binary' ? `(${r(e.left)})` : r(e.left);
      const right = e.right.kind === 'binary' ? `(${r(e.right)})` : r(e.right);
      return `${left} ${e.op} ${right}`;
    }
    case 'unknown': return e.text;
  }
}

/**
 * The variable an lvalue-ish expression hangs off: `obj->pages[i]` → `obj`, `&page` → `page`.
 * Takes a missing expression too (an argument a short call does not have: `args[i]` past its
 * end), which hangs off nothing.
 */
export function rootVar(e: Expr | undefined): string | undefined {
  if (!e) return undefined;
  switch (e.kind) {
    case 'var': return e.name;
    case 'field': return rootVar(e.base);
    case 'index': return rootVar(e.base);
    case 'unary': return e.op === '-' || e.op === '!' || e.op === '~' ? undefined : rootVar(e.arg);
    case 'binary': return e.op === '+' || e.op === '-' ? rootVar(e.left) : undefined;
    default: return undefined;
  }
}

/** Every variable name mentioned anywhere in the expression (none in a missing one). */
export function varsOf(e: Expr | undefined, out: Set<string> = new Set()): Set<string> {
  if (!e) return out;
  switch (e.kind) {
    case 'var': out.add(e.name); break;
    case 'field': varsOf(e.base, out); break;
    case 'index': varsOf(e.base, out); varsOf(e.index, out); break;
    case 'unary': varsOf(e.arg, out); break;
    case 'binary': varsOf(e.left, out); varsOf(e.right, out); break;
    default: break;
  }
  return out;
}

/** True when a named constant (or an identifier the lowering left as a var) occurs in `e`. */
export function mentionsName(e: Expr, name: string): boolean {
  switch (e.kind) {
    case 'const': return e.name === name;
    case 'var': return e.name === name;
    case 'field': return mentionsName(e.base, name);
    case 'index': return mentionsName(e.base, name) || mentionsName(e.index, name);
    case 'unary': return mentionsName(e.arg, name);
    case 'binary': return mentionsName(e.left, name) || mentionsName(e.right, name);
    case 'unknown': return new RegExp(`\\b${name}\\b`).test(e.text);
    default: return false;
  }
}

/** Strip casts the lowering may keep as unknown wrappers? No: casts are `unknown`; keep as is. */
export function isIntValue(e: Expr, v: number): boolean {
  if (e.kind === 'int') return e.value === v;
  if (e.kind === 'unary' && e.op === '-' && e.arg.kind === 'int') return -e.arg.value === v;
  return false;
}

/** The C text of a range on one line (spaces collapsed), for messages and traces; undefined when empty or long. */
export function oneLineText(text: string, r: SourceRange): string | undefined {
  const t = text.slice(r.start, r.end).replace(/\s+/g, ' ').trim();
  return t && t.length <= 160 ? t : undefined;
}
