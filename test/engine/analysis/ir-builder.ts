// A tiny builder for hand-written FunctionIRs, so analysis tests do not depend on the C front end.
import type { Block, CallStmt, Edge, Expr, FileIR, FunctionIR, LoopInfo, SourceRange, Stmt } from '../../../engine/ir';

export function at(row: number): SourceRange {
  return { start: row * 100, end: row * 100 + 10, startRow: row, startCol: 0, endRow: row, endCol: 10 };
}

export const v = (name: string): Expr => ({ kind: 'var', name });
export const n = (value: number): Expr => ({ kind: 'int', value });
export const c = (name: string): Expr => ({ kind: 'const', name });
export const idx = (base: Expr, index: Expr): Expr => ({ kind: 'index', base, index });
export const bin = (op: string, left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
export const not = (arg: Expr): Expr => ({ kind: 'unary', op: '!', arg });
export const addr = (arg: Expr): Expr => ({ kind: 'unary', op: '&', arg });
export const field = (base: Expr, name: string): Expr => ({ kind: 'field', base, name, arrow: true });

export function call(row: number, callee: string, args: Expr[], result?: Expr): CallStmt {
  return { kind: 'call', callee, args, argRanges: args.map(() => at(row)), result, calleeRange: at(row), range: at(row) };
}
export const assign = (row: number, target: Expr, value: Expr): Stmt => ({ kind: 'assign', target, value, range: at(row) });
export const ret = (row: number, value?: Expr): Stmt => ({ kind: 'return', value, range: at(row) });

export interface BlockSpec {
  stmts?: Stmt[];
  succs?: Edge[];
  label?: string;
}

/** Block 0 is the entry, block 1 the exit. */
export function fn(name: string, blocks: BlockSpec[], extra: Partial<FunctionIR> = {}): FunctionIR {
  const bs: Block[] = blocks.map((b, id) => ({ id, stmts: b.stmts ?? [], succs: b.succs ?? [], label: b.label }));
  return {
    name,
    range: { start: 0, end: 10_000, startRow: 0, startCol: 0, endRow: 99, endCol: 1 },
    nameRange: at(0),
    returnType: 'int',
    params: [],
    blocks: bs,
    entry: 0,
    exit: 1,
    loops: [] as LoopInfo[],
    locals: {},
    storage: ['static'],
    degraded: [],
    ...extra,
  };
}

export const edge = (to: number, cond?: Expr, label?: string, row?: number): Edge => ({ to, cond, label, range: row !== undefined ? at(row) : undefined });

export function file(...functions: FunctionIR[]): FileIR {
  return { functions, globals: [], syntaxErrors: [] };
}
