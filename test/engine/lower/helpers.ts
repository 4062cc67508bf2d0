// Test helpers for the lowering: load the parser once, lower a snippet, print IR expressions
// compactly, and enumerate entry→exit paths as readable token sequences.

import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import type { Expr, FileIR, FunctionIR, Stmt } from '../../../engine/ir';

let parser: Promise<CParser> | undefined;

export function getParser(): Promise<CParser> {
  parser ??= loadCParser();
  return parser;
}

export async function lower(text: string): Promise<FileIR> {
  return lowerC(await getParser(), text);
}

export async function lowerOne(text: string, name?: string): Promise<FunctionIR> {
  const ir = await lower(text);
  const fn = name ? ir.functions.find((f) => f.name === name) : ir.functions[0];
  if (!fn) throw new Error(`no function ${name ?? ''} in: ${ir.functions.map((f) => f.name).join(', ')}`);
  return fn;
}

export function showExpr(e: Expr | undefined): string {
  if (!e) return '';
  switch (e.kind) {
    case 'int':
      return e.text ?? String(e.value);
    case 'var':
      return e.name;
    case 'const':
      return e.name;
    case 'field':
      return `${showExpr(e.base)}${e.arrow ? '->' : '.'}${e.name}`;
    case 'index':
      return `${showExpr(e.base)}[${showExpr(e.index)}]`;
    case 'unary':
      return `${e.op}${showExpr(e.arg)}`;
    case 'binary':
      return `(${showExpr(e.left)} ${e.op} ${showExpr(e.right)})`;
    case 'unknown':
      return `?`;
  }
}

export function showStmt(s: Stmt): string {
  switch (s.kind) {
    case 'call':
      return `${s.result ? showExpr(s.result) + '=' : ''}${s.callee}(${s.args.map(showExpr).join(', ')})`;
    case 'assign':
      return `${showExpr(s.target)}:=${showExpr(s.value)}`;
    case 'havoc':
      return `havoc ${showExpr(s.target)}`.trim();
    case 'return':
      return `return ${showExpr(s.value)}`.trim();
    case 'decl':
      return `decl ${s.name}`;
  }
}

export interface PathOptions {
  /** Token kinds to include besides calls, conditions and returns. */
  assigns?: boolean;
  havocs?: boolean;
  decls?: boolean;
  /** How many times one block may appear on a path (2 = loop bodies run 0 or 1 times). */
  maxVisits?: number;
  maxPaths?: number;
}

/**
 * Every entry→exit path, as a string of tokens joined by ' ; ': calls (`f(a)` or `r=f(a)`),
 * branch conditions in brackets (`[ret < 0]`), returns. Unconditional edges add nothing.
 */
export function paths(fn: FunctionIR, opts: PathOptions = {}): string[] {
  const maxVisits = opts.maxVisits ?? 2;
  const maxPaths = opts.maxPaths ?? 500;
  const out: string[] = [];
  const visits = new Map<number, number>();
  const tokens: string[] = [];
  const stmtTokens = (id: number): string[] =>
    fn.blocks[id].stmts
      .filter((s) =>
        s.kind === 'call' || s.kind === 'return' || (opts.assigns && s.kind === 'assign') || (opts.havocs && s.kind === 'havoc') || (opts.decls && s.kind === 'decl'))
      .map(showStmt);
  const walk = (id: number): void => {
    if (out.length >= maxPaths) return;
    const v = visits.get(id) ?? 0;
    if (v >= maxVisits) return;
    visits.set(id, v + 1);
    const mine = stmtTokens(id);
    tokens.push(...mine);
    if (id === fn.exit) {
      out.push(tokens.join(' ; '));
    } else {
      for (const e of fn.blocks[id].succs) {
        if (e.cond) tokens.push(`[${showExpr(e.cond).replace(/^\((.*)\)$/, '$1')}]`);
        walk(e.to);
        if (e.cond) tokens.pop();
      }
    }
    tokens.length -= mine.length;
    visits.set(id, v);
  };
  walk(fn.entry);
  return out;
}

/** Structural sanity every lowered function must satisfy. */
export function checkWellFormed(fn: FunctionIR): void {
  const n = fn.blocks.length;
  fn.blocks.forEach((b, i) => {
    if (b.id !== i) throw new Error(`${fn.name}: block ${i} has id ${b.id}`);
    for (const e of b.succs) if (e.to < 0 || e.to >= n) throw new Error(`${fn.name}: edge to ${e.to} out of range`);
  });
  if (fn.blocks[fn.exit].succs.length) throw new Error(`${fn.name}: exit has successors`);
  for (const b of fn.blocks) {
    if (b.id !== fn.exit && b.succs.length === 0) throw new Error(`${fn.name}: block ${b.id} is a dead end`);
  }
  for (const l of fn.loops) {
    if (!l.body.includes(l.header)) throw new Error(`${fn.name}: loop body lacks its header`);
  }
}
