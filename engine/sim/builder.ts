// A small, readable builder that produces engine/ir.ts FunctionIR, so scenarios can be written
// before the C front end lands and the SAME interpreter later runs lowered C (issue 3).
//
//   const f = fn('search_loop', ['ubuf', 'size'], (b) => {
//     b.assign('off', '0');
//     b.loop(() => {
//       b.call('fault_in_writeable', ['ubuf + off', 'size - off'], 'ret');
//       b.if('ret != 0', () => b.ret('-EFAULT'));
//       ...
//     });
//   });
//
// Expressions are written as C text and parsed by a tiny expression parser (identifiers in
// CAPITALS are named constants, like the lowering's `const` nodes).

import type { Block, CallStmt, Edge, Expr, FunctionIR, LoopInfo, SourceRange, Stmt } from '../ir';
import { exprText } from '../ir-text';

export { exprText };

function range(row: number): SourceRange {
  return { start: 0, end: 0, startRow: row, startCol: 0, endRow: row, endCol: 0 };
}

// ---- expression parser ----

const BINARY: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

export function parseExpr(text: string): Expr {
  const toks = text.match(/0x[0-9a-fA-F]+|\d+|[A-Za-z_$][A-Za-z0-9_$]*|->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>&|^!~()[\].,]/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const next = (): string => {
    const t = toks[i++];
    if (t === undefined) throw new Error(`parseExpr: unexpected end of "${text}"`);
    return t;
  };
  function primary(): Expr {
    const t = next();
    if (t === '(') {
      const e = binary(0);
      if (next() !== ')') throw new Error(`parseExpr: expected ) in "${text}"`);
      return postfix(e);
    }
    if (t === '-' || t === '!' || t === '~' || t === '*' || t === '&') {
      const arg = primary();
      if (t === '-' && arg.kind === 'int') return { kind: 'int', value: -arg.value };
      return { kind: 'unary', op: t, arg };
    }
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) return postfix({ kind: 'int', value: Number(t), text: t });
    if (/^[A-Z][A-Z0-9_]*$/.test(t)) return postfix({ kind: 'const', name: t });
    if (/^[A-Za-z_$]/.test(t)) return postfix({ kind: 'var', name: t });
    throw new Error(`parseExpr: unexpected "${t}" in "${text}"`);
  }
  function postfix(e: Expr): Expr {
    for (;;) {
      const t = peek();
      if (t === '[') {
        next();
        const index = binary(0);
        next();
        e = { kind: 'index', base: e, index };
      } else if (t === '->' || t === '.') {
        next();
        e = { kind: 'field', base: e, name: next(), arrow: t === '->' };
      } else return e;
    }
  }
  function binary(minPrec: number): Expr {
    let left = primary();
    for (;;) {
      const op = peek();
      const prec = op !== undefined ? BINARY[op] : undefined;
      if (prec === undefined || prec <= minPrec - 1 || prec < minPrec) return left;
      next();
      const right = binary(prec + 1);
      left = { kind: 'binary', op: op!, left, right };
    }
  }
  const e = binary(0);
  if (i !== toks.length) throw new Error(`parseExpr: trailing "${toks.slice(i).join(' ')}" in "${text}"`);
  return e;
}


function not(e: Expr): Expr {
  return { kind: 'unary', op: '!', arg: e };
}

type ExprLike = string | number | Expr;

function ex(e: ExprLike): Expr {
  if (typeof e === 'number') return { kind: 'int', value: e };
  if (typeof e === 'string') return parseExpr(e);
  return e;
}

// ---- statements and control flow ----

export class FnBuilder {
  private blocks: Block[] = [];
  private cur: number;
  private row = 1;
  private loopStack: { brk: number; cont: number }[] = [];
  private loops: LoopInfo[] = [];
  readonly exit: number;
  readonly locals: Record<string, string> = {};

  constructor(readonly name: string) {
    this.cur = this.newBlock();
    this.exit = this.newBlock();
  }

  private newBlock(label?: string): number {
    const id = this.blocks.length;
    this.blocks.push({ id, stmts: [], succs: [], ...(label ? { label } : {}) });
    return id;
  }

  private emit(s: Stmt): void {
    this.blocks[this.cur].stmts.push(s);
  }

  private edge(from: number, to: number, cond?: Expr, label?: string): void {
    const e: Edge = { to };
    if (cond) e.cond = cond;
    if (label) e.label = label;
    this.blocks[from].succs.push(e);
  }

  private r(): SourceRange {
    return range(this.row++);
  }

  decl(name: string, type = 'long', arrayLength?: number): this {
    this.locals[name] = type;
    this.emit({ kind: 'decl', name, type, range: this.r(), ...(arrayLength !== undefined ? { arrayLength } : {}) });
    return this;
  }

  assign(target: string, value: ExprLike): this {
    this.emit({ kind: 'assign', target: ex(target), value: ex(value), range: this.r() });
    return this;
  }

  call(callee: string, args: ExprLike[] = [], result?: string): this {
    const rr = this.r();
    const s: CallStmt = { kind: 'call', callee, args: args.map(ex), argRanges: args.map(() => rr), calleeRange: rr, range: rr };
    if (result) s.result = ex(result);
    this.emit(s);
    return this;
  }

  havoc(target: string | undefined, text: string): this {
    this.emit({ kind: 'havoc', text, range: this.r(), ...(target ? { target: ex(target) } : {}) });
    return this;
  }

  ret(value?: ExprLike): this {
    this.emit({ kind: 'return', range: this.r(), ...(value !== undefined ? { value: ex(value) } : {}) });
    this.edge(this.cur, this.exit, undefined, 'return');
    this.cur = this.newBlock();
    return this;
  }

  if(cond: ExprLike, then: () => void, otherwise?: () => void): this {
    const c = ex(cond);
    const thenB = this.newBlock();
    const elseB = this.newBlock();
    const join = this.newBlock();
    this.edge(this.cur, thenB, c, 'if');
    this.edge(this.cur, elseB, not(c), 'else');
    this.cur = thenB;
    then();
    this.edge(this.cur, join);
    this.cur = elseB;
    otherwise?.();
    this.edge(this.cur, join);
    this.cur = join;
    return this;
  }

  /** `for (;;)` when `cond` is omitted, else `while (cond)`. */
  loop(body: () => void, cond?: ExprLike): this {
    const header = this.newBlock();
    const bodyB = this.newBlock();
    const exit = this.newBlock();
    this.edge(this.cur, header);
    if (cond === undefined) this.edge(header, bodyB);
    else {
      const c = ex(cond);
      this.edge(header, bodyB, c, 'loop');
      this.edge(header, exit, not(c), 'loop exit');
    }
    const first = this.blocks.length;
    this.loopStack.push({ brk: exit, cont: header });
    this.cur = bodyB;
    body();
    this.loopStack.pop();
    this.edge(this.cur, header, undefined, 'loop back');
    const bodyIds = [header, bodyB];
    for (let i = first; i < this.blocks.length; i++) bodyIds.push(i);
    this.loops.push({ kind: cond === undefined ? 'for' : 'while', header, body: [...new Set(bodyIds)].filter((b) => b !== exit), range: range(this.row) });
    this.cur = exit;
    return this;
  }

  break(): this {
    const l = this.loopStack[this.loopStack.length - 1];
    if (!l) throw new Error('break outside a loop');
    this.edge(this.cur, l.brk, undefined, 'break');
    this.cur = this.newBlock();
    return this;
  }

  continue(): this {
    const l = this.loopStack[this.loopStack.length - 1];
    if (!l) throw new Error('continue outside a loop');
    this.edge(this.cur, l.cont, undefined, 'continue');
    this.cur = this.newBlock();
    return this;
  }

  build(params: string[]): FunctionIR {
    this.edge(this.cur, this.exit, undefined, 'end of function');
    const r = range(0);
    return {
      name: this.name, range: r, nameRange: r, returnType: 'long',
      params: params.map((p) => ({ name: p, type: 'long', range: r })),
      blocks: this.blocks, entry: 0, exit: this.exit, loops: this.loops, locals: this.locals, storage: [], degraded: [],
    };
  }
}

export function fn(name: string, params: string[], body: (b: FnBuilder) => void): FunctionIR {
  const b = new FnBuilder(name);
  body(b);
  return b.build(params);
}
