// Plain C-like text of an IR expression (`&inode->i_rwsem`, `ubuf + off`): what traces, lens
// titles and the IR builder print. Messages that must hide lowering temporaries use
// analysis/expr.ts renderExpr instead.

import type { Expr } from './ir';

export function exprText(e: Expr | undefined): string {
  if (!e) return '';
  switch (e.kind) {
    case 'int': return e.text ?? String(e.value);
    case 'var': return e.name;
    case 'const': return e.name;
    case 'field': return `${exprText(e.base)}${e.arrow ? '->' : '.'}${e.name}`;
    case 'index': return `${exprText(e.base)}[${exprText(e.index)}]`;
    case 'unary': return `${e.op}${exprText(e.arg)}`;
    case 'binary': return `${exprText(e.left)} ${e.op} ${exprText(e.right)}`;
    case 'unknown': return e.text;
  }
}
