// Lowering of one C function body to the IR's CFG (docs/lowering.md describes the result).
//
// Calls are hoisted into their own `call` statements in evaluation order; `&&`, `||`, `!` and
// `?:` in branch conditions become separate edges (short-circuit), each carrying one atomic
// condition. Anything we do not understand degrades to `havoc` or an `unknown` expression,
// never to an exception: the caller wraps each function anyway, but a precise degrade note is
// worth more than an empty function.

import type { CallStmt, Expr, FunctionIR, LoopInfo, Param, SourceRange } from '../ir';
import { CfgBuilder, type PendingLoop } from './cfg';
import {
  baseTypeText,
  normalizeSpace,
  parseNumberLiteral,
  readDeclarator,
  storageOf,
  typeText,
} from './declarators';
import {
  ASSIGN_WRAPPERS,
  IDENTITY_WRAPPERS,
  isLoopMacroName,
  isScopedGuardName,
  loopMacroShape,
} from './loop-macros';
import { type LineIndex, type SNode, type SyntaxProblem, childByField } from './syntax-tree';

/** Nesting of statements + expressions we follow before degrading (keeps the JS stack safe). */
export const MAX_NESTING = 200;
/** Longest source text copied into an `unknown`/`havoc` note. */
const MAX_NOTE = 120;

export interface LowerEnv {
  text: string;
  lines: LineIndex;
  /** Syntax problems by node, so the lowering can accept a loop macro's missing `;`. */
  problemOf: Map<SNode, SyntaxProblem>;
  cancelled?: () => boolean;
  /**
   * A full function definition found inside a body: almost always the next function, swallowed
   * because a `}` is missing above (the user is typing). The file lowers it on its own.
   */
  nestedFunction?: (n: SNode) => void;
}

class Cancelled extends Error {}
class TooDeep extends Error {}

const COMPARISON_FLIP: Record<string, string> = {
  '<': '>=', '>=': '<', '>': '<=', '<=': '>', '==': '!=', '!=': '==',
};

const STATEMENT_TYPES = new Set([
  'attributed_statement', 'break_statement', 'case_statement', 'compound_statement', 'continue_statement',
  'do_statement', 'expression_statement', 'for_statement', 'goto_statement', 'if_statement',
  'labeled_statement', 'return_statement', 'switch_statement', 'while_statement', 'declaration',
  'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'ERROR',
  'type_definition', 'seh_try_statement', 'seh_leave_statement', 'function_definition', 'macro_type_specifier',
]);

/** A macro argument that is a type name: `struct foo`, `unsigned long`, `const struct foo *`. */
const TYPE_ARGUMENT = /^\s*((const|volatile|struct|union|enum|unsigned|signed|long|short|int|char|_Bool|bool)\s+)*[A-Za-z_]\w*[\s*]*$/;


const EXPRESSION_TYPES = new Set([
  'alignof_expression', 'assignment_expression', 'binary_expression', 'call_expression', 'cast_expression',
  'char_literal', 'compound_literal_expression', 'concatenated_string', 'conditional_expression',
  'extension_expression', 'false', 'field_expression', 'generic_expression', 'gnu_asm_expression',
  'identifier', 'null', 'number_literal', 'offsetof_expression', 'parenthesized_expression',
  'pointer_expression', 'sizeof_expression', 'string_literal', 'subscript_expression', 'true',
  'unary_expression', 'update_expression', 'comma_expression',
]);

/** The statements after the current one in its list (a loop macro's body is the next one). */
interface Rest {
  items: SNode[];
  from: number;
}

function nextStatement(rest: Rest | undefined): SNode | undefined {
  const n = rest?.items[rest.from];
  return n && STATEMENT_TYPES.has(n.type) && n.type !== 'case_statement' ? n : undefined;
}

function afterNext(rest: Rest | undefined): Rest | undefined {
  return rest ? { items: rest.items, from: rest.from + 1 } : undefined;
}

/** A macro invocation heading a block: `name(args) body`. */
interface MacroHead {
  name: string;
  args: SNode[];
  /** The invocation without its body (ranges). */
  head: SNode;
  nameNode: SNode;
  /** The call_expression when it parsed as one. */
  call?: SNode;
}

interface SwitchContext {
  dispatch: number;
  scrutinee: Expr;
  sawDefault: boolean;
}

interface JumpTarget {
  block: number;
  /** How many guard scopes were open where the target lives (a jump leaves the deeper ones). */
  scopes: number;
}

/**
 * A `guard(mutex)(&l)` / `scoped_guard(spinlock, &l)` taken in a scope: released when control
 * leaves the scope (cleanup attribute), which the lowering makes explicit as a `~guard(mutex)`
 * call with the same arguments.
 */
interface GuardHeld {
  callee: string;
  args: Expr[];
  argRanges: SourceRange[];
  calleeRange: SourceRange;
}

interface LabelState {
  block: number;
  placed: boolean;
  /** Where `name:` is written (a backward goto's loop spans from here to the goto). */
  at?: number;
  /** Guard scopes open at the label. */
  scopes?: number;
  gotoLoop?: PendingLoop;
  firstGoto?: SourceRange;
}

/** The callee text of a call we keep as a call (e.g. `guard(mutex)` or `ops->read`). */
interface CalleeInfo {
  name: string;
  node: SNode;
}

export interface FunctionSignature {
  name: string;
  nameRange: SourceRange;
  range: SourceRange;
  returnType: string;
  params: Param[];
  storage: string[];
}

export class FunctionLowerer {
  private readonly cfg = new CfgBuilder();
  private temps = 0;
  private depth = 0;
  private statements = 0;
  private readonly locals = new Map<string, string>();
  private readonly paramNames = new Set<string>();
  private readonly degraded: { range: SourceRange; reason: string }[] = [];
  private readonly labels = new Map<string, LabelState>();
  private readonly breakStack: JumpTarget[] = [];
  private readonly continueStack: JumpTarget[] = [];
  private readonly switchStack: SwitchContext[] = [];
  /** One frame per open `{ }` (and scoped_guard block): the guards taken in it. */
  private readonly scopes: GuardHeld[][] = [];
  private readonly text: string;

  constructor(private readonly env: LowerEnv) {
    this.text = env.text;
  }

  // ---------------------------------------------------------------- helpers

  private src(n: SNode): string {
    return this.text.slice(n.start, n.end);
  }

  private note(n: SNode): string {
    const s = normalizeSpace(this.text.slice(n.start, Math.min(n.end, n.start + MAX_NOTE * 2)));
    return s.length > MAX_NOTE ? s.slice(0, MAX_NOTE) + '…' : s;
  }

  private range(n: SNode): SourceRange {
    return this.env.lines.range(n.start, n.end);
  }

  private degrade(n: SNode, reason: string): void {
    if (this.degraded.length < 200) this.degraded.push({ range: this.range(n), reason });
  }

  private temp(): Expr {
    return { kind: 'var', name: `$t${++this.temps}` };
  }

  /** One more level of statement/expression nesting; throws TooDeep past MAX_NESTING. */
  private enter(): void {
    if (++this.depth > MAX_NESTING) {
      this.depth--;
      throw new TooDeep();
    }
  }

  private leave(): void {
    this.depth--;
  }

  private firstNamed(n: SNode): SNode | undefined {
    for (const c of n.children) if (c.named) return c;
    return undefined;
  }

  /** Strip `( )`, casts and `__extension__`: what remains decides how an expression lowers. */
  private strip(n: SNode): SNode {
    for (let i = 0; i < MAX_NESTING; i++) {
      if (n.type === 'parenthesized_expression') {
        const inner = this.firstNamed(n);
        if (!inner || inner.type === 'compound_statement') return n;
        n = inner;
      } else if (n.type === 'cast_expression') {
        const v = childByField(n, 'value');
        if (!v) return n;
        n = v;
      } else if (n.type === 'extension_expression') {
        const inner = this.firstNamed(n);
        if (!inner) return n;
        n = inner;
      } else {
        return n;
      }
    }
    return n;
  }

  /**
   * The arguments of a call, one node per comma-separated argument. Kernel macros take types
   * (`container_of(p, struct foo, member)`, `min_t(unsigned long, a, b)`), which tree-sitter
   * splits into an identifier plus an ERROR node; such an argument becomes one synthetic
   * `type_argument` node (an unknown value), and its ERROR is not reported when the text
   * reads as a type.
   */
  private callArgs(call: SNode): SNode[] {
    const list = childByField(call, 'arguments');
    if (!list) return [];
    let simple = true;
    for (const c of list.children) if (c.type === 'ERROR') simple = false;
    if (simple) return list.children.filter((c) => c.named);
    const out: SNode[] = [];
    let group: SNode[] = [];
    const flush = (): void => {
      const named = group.filter((c) => c.named);
      if (named.length === 1 && named[0].type !== 'ERROR') out.push(named[0]);
      else if (group.length) {
        const start = group[0].start;
        const end = group[group.length - 1].end;
        const text = this.text.slice(start, end);
        if (TYPE_ARGUMENT.test(text)) {
          for (const g of group) {
            const p = g.type === 'ERROR' ? this.env.problemOf.get(g) : undefined;
            if (p) p.accepted = true;
          }
        }
        out.push({ type: 'type_argument', field: null, named: true, start, end, children: group });
      }
      group = [];
    };
    for (const c of list.children) {
      if (c.type === '(' || c.type === ')') continue;
      if (c.type === ',') flush();
      else group.push(c);
    }
    flush();
    return out;
  }

  /** The identifier a call is made through, if it is a plain name. */
  private calleeName(call: SNode): string | undefined {
    const f = childByField(call, 'function');
    if (!f) return undefined;
    const s = this.strip(f);
    return s.type === 'identifier' ? this.src(s) : undefined;
  }

  private isConstName(name: string): boolean {
    return /^[A-Z_][A-Z0-9_]*$/.test(name) && /[A-Z]/.test(name) && !this.locals.has(name) && !this.paramNames.has(name);
  }

  /** Whether evaluating `n` can have an effect (call, assignment, ++/--, asm). Bounded scan. */
  private hasEffects(n: SNode): boolean {
    const stack = [n];
    let budget = 4096;
    while (stack.length) {
      const x = stack.pop() as SNode;
      if (--budget < 0) return true;
      switch (x.type) {
        case 'call_expression':
        case 'assignment_expression':
        case 'update_expression':
        case 'gnu_asm_expression':
        case 'compound_statement':
        case 'ERROR':
          return true;
        case 'sizeof_expression':
        case 'alignof_expression':
        case 'offsetof_expression':
          continue;
        default:
          for (const c of x.children) stack.push(c);
      }
    }
    return false;
  }

  private isConstantTruth(n: SNode): boolean | undefined {
    const s = this.strip(n);
    if (s.type === 'number_literal') {
      const v = parseNumberLiteral(this.src(s));
      return Number.isNaN(v) ? undefined : v !== 0;
    }
    if (s.type === 'true') return true;
    if (s.type === 'false') return false;
    return undefined;
  }

  private checkCancel(): void {
    if ((++this.statements & 0xff) === 0 && this.env.cancelled?.()) throw new Cancelled();
  }

  // ---------------------------------------------------------------- entry points

  lowerBody(sig: FunctionSignature, body: SNode | undefined, params: Param[]): FunctionIR {
    for (const p of params) if (p.name) this.paramNames.add(p.name);
    let reachedEnd = true;
    if (body) {
      try {
        this.blockBody(body);
      } catch (e) {
        if (e instanceof Cancelled) {
          this.degrade(body, 'cancelled');
          reachedEnd = false;
        } else if (e instanceof TooDeep) {
          this.degrade(body, `nesting deeper than ${MAX_NESTING}`);
          reachedEnd = false;
        } else {
          throw e;
        }
      }
    }
    if (this.cfg.cur !== null || !reachedEnd) {
      // Falling off the end of the function: an implicit `return;` at the closing brace.
      const closing = body ? this.env.lines.range(Math.max(body.start, body.end - 1), body.end) : sig.range;
      this.cfg.emit({ kind: 'return', range: closing });
      this.cfg.jump(this.cfg.exit, 'end of function', closing);
    }
    for (const [name, l] of this.labels) {
      if (!l.placed) {
        // `goto out` with no `out:` in this function (or it was lost to a parse error).
        const r = l.firstGoto ?? sig.range;
        this.degraded.push({ range: r, reason: `label '${name}' is not defined` });
        this.cfg.edge(l.block, this.cfg.exit, undefined, `undefined label ${name}`);
      }
    }
    const done = this.cfg.finish();
    const locals: Record<string, string> = {};
    for (const [k, v] of this.locals) if (k !== '__proto__') locals[k] = v;
    return {
      name: sig.name,
      range: sig.range,
      nameRange: sig.nameRange,
      returnType: sig.returnType,
      params,
      blocks: done.blocks,
      entry: done.entry,
      exit: done.exit,
      loops: done.loops,
      locals,
      storage: sig.storage,
      degraded: this.degraded,
    };
  }

  // ---------------------------------------------------------------- statements

  /** The statements of a `{ }` (or of a case, or a preprocessor branch), with loop-macro detection. */
  private statementList(items: SNode[]): void {
    for (let i = 0; i < items.length; i++) {
      const n = items[i];
      i += this.stmt(n, { items, from: i + 1 });
    }
  }

  private blockBody(n: SNode): void {
    this.scopes.push([]);
    try {
      this.statementList(n.children.filter((c) => c.named));
      // Falling out of the block at its `}` runs the guards' cleanups.
      if (this.cfg.cur !== null) this.releaseGuards(this.scopes.length - 1, this.env.lines.range(Math.max(n.start, n.end - 1), n.end));
    } finally {
      this.scopes.pop();
    }
  }

  private target(block: number): JumpTarget {
    return { block, scopes: this.scopes.length };
  }

  /** Emit `~guard(...)` for every guard in scopes [depth, top), innermost first. */
  private releaseGuards(depth: number, range: SourceRange): void {
    for (let d = this.scopes.length - 1; d >= Math.max(0, depth); d--) {
      const frame = this.scopes[d];
      for (let k = frame.length - 1; k >= 0; k--) {
        const g = frame[k];
        this.cfg.emit({ kind: 'call', callee: `~${g.callee}`, args: g.args, argRanges: g.argRanges, range, calleeRange: g.calleeRange });
      }
    }
  }

  private holdGuard(g: GuardHeld): void {
    const top = this.scopes[this.scopes.length - 1];
    if (top) top.push(g);
  }

  /**
   * Lower one statement. `follow` is the next statement in the enclosing list: a loop macro
   * written without `;` (`for_each_sg(...) { ... }`) ends at the macro and its body is the
   * following statement, which we then consume (returns true).
   */
  private stmt(n: SNode, rest?: Rest): number {
    this.checkCancel();
    try {
      this.enter();
    } catch (e) {
      if (!(e instanceof TooDeep)) throw e;
      this.degrade(n, `nesting deeper than ${MAX_NESTING}`);
      this.cfg.emit({ kind: 'havoc', range: this.range(n), text: this.note(n) });
      return 0;
    }
    const loops = this.cfg.activeLoopDepth;
    const breaks = this.breakStack.length;
    const continues = this.continueStack.length;
    const scopes = this.scopes.length;
    const switches = this.switchStack.length;
    try {
      return this.stmtInner(n, rest);
    } catch (e) {
      if (!(e instanceof TooDeep)) throw e;
      // Unwind what the aborted statement had opened, then keep going after it.
      this.cfg.abandonLoopsAbove(loops);
      this.breakStack.length = breaks;
      this.continueStack.length = continues;
      this.scopes.length = scopes;
      this.switchStack.length = switches;
      this.degrade(n, `nesting deeper than ${MAX_NESTING}`);
      this.cfg.emit({ kind: 'havoc', range: this.range(n), text: this.note(n) });
      return 0;
    } finally {
      this.leave();
    }
  }

  private stmtInner(n: SNode, rest?: Rest): number {
    switch (n.type) {
      case 'compound_statement':
        this.blockBody(n);
        return 0;
      case 'expression_statement':
        return this.expressionStatement(n, rest);
      case 'declaration': {
        // `for_each_online_cpu(cpu) foo(cpu);` reads as a declaration: a macro type
        // `for_each_online_cpu(cpu)` declaring `foo(cpu)`. It is a loop macro and its body.
        const typeNode = childByField(n, 'type');
        const macroName = typeNode && typeNode.type === 'macro_type_specifier' ? childByField(typeNode, 'name') : undefined;
        if (typeNode && macroName && (isLoopMacroName(this.src(macroName)) || isScopedGuardName(this.src(macroName)))) {
          const td = childByField(typeNode, 'type');
          const only = td && td.children.length === 1 ? td.children[0] : undefined;
          const args = only && (only.type === 'type_identifier' || only.type === 'identifier') ? [{ ...only, type: 'identifier', field: null }] : td ? [td] : [];
          const body: SNode = { type: 'misparsed_statement', field: null, named: true, start: typeNode.end, end: n.end, children: n.children.filter((c) => c.field === 'declarator') };
          return this.macroBlock({ name: this.src(macroName), args, head: typeNode, nameNode: macroName }, body, rest);
        }
        this.declaration(n);
        return 0;
      }
      case 'misparsed_statement':
        for (const d of n.children) this.declaratorAsStatement(d);
        return 0;
      case 'if_statement':
        return this.ifStatement(n, rest);
      case 'while_statement':
        return this.whileStatement(n, rest);
      case 'do_statement':
        this.doStatement(n);
        return 0;
      case 'for_statement':
        return this.forStatement(n, rest);
      case 'return_statement':
        this.returnStatement(n);
        return 0;
      case 'goto_statement':
        this.gotoStatement(n);
        return 0;
      case 'break_statement':
      case 'continue_statement':
        this.breakContinue(n);
        return 0;
      case 'labeled_statement':
        return this.labeledStatement(n, rest);
      case 'switch_statement':
        this.switchStatement(n);
        return 0;
      case 'case_statement':
        this.caseLabel(n);
        return 0;
      case 'macro_type_specifier': {
        // `NAME(x);` read as a type: a macro invocation used as a statement.
        const nameNode = childByField(n, 'name');
        const td = childByField(n, 'type');
        if (!nameNode) return 0;
        const text = td ? normalizeSpace(this.src(td)) : '';
        const arg: Expr = /^[A-Za-z_]\w*$/.test(text) ? (this.isConstName(text) ? { kind: 'const', name: text } : { kind: 'var', name: text }) : { kind: 'unknown', text };
        this.cfg.emit({
          kind: 'call', callee: this.src(nameNode), args: td ? [arg] : [], argRanges: td ? [this.range(td)] : [],
          range: this.range(n), calleeRange: this.range(nameNode),
        });
        return 0;
      }
      case 'attributed_statement': {
        const inner = n.children.find((c) => c.named && c.type !== 'attribute_declaration');
        return inner ? this.stmt(inner, rest) : 0;
      }
      case 'preproc_if':
      case 'preproc_ifdef':
      case 'preproc_elif':
      case 'preproc_elifdef':
      case 'preproc_else':
        this.preprocBranches(n);
        return 0;
      case 'ERROR':
        this.errorStatement(n);
        return 0;
      case 'function_definition':
        this.nestedDefinition(n);
        return 0;
      case 'type_definition':
      case 'preproc_def':
      case 'preproc_function_def':
      case 'preproc_call':
      case 'preproc_include':
      case 'struct_specifier':
      case 'union_specifier':
      case 'enum_specifier':
      case ';':
        return 0;
      default:
        if (EXPRESSION_TYPES.has(n.type)) {
          this.expr(n, true);
          return 0;
        }
        if (n.named) {
          this.degrade(n, `unsupported statement '${n.type}'`);
          this.cfg.emit({ kind: 'havoc', range: this.range(n), text: this.note(n) });
        }
        return 0;
    }
  }

  /**
   * `#if A ... #elif B ... #else ... #endif` inside a body: each branch may be the compiled one,
   * so the CFG branches without a condition and joins after.
   */
  private preprocBranches(n: SNode): void {
    const branchStart = this.cfg.here();
    const after = this.cfg.newBlock();
    let alt: SNode | undefined = n;
    let sawElse = false;
    const earlier: { key: string; value: boolean }[] = [];
    for (let guard = 0; alt && guard < 64; guard++) {
      const stmts = alt.children.filter(
        (c) => c.named && c.field !== 'condition' && c.field !== 'name' && c.field !== 'alternative' && c.type !== 'preproc_arg' && c.type !== 'preproc_directive',
      );
      const start = this.cfg.newBlock();
      const own = alt.type === 'preproc_else' ? undefined : this.preprocCondition(alt);
      const facts = [...earlier.map((f) => ({ key: f.key, value: !f.value })), ...(own ? [own] : [])];
      this.cfg.edge(branchStart, start, undefined, alt.type === 'preproc_else' ? '#else' : '#if');
      const edges = this.cfg.blocks[branchStart]!.succs;
      if (facts.length) edges[edges.length - 1]!.preproc = facts;
      if (own) earlier.push(own);
      this.cfg.setCur(start);
      this.statementList(stmts);
      this.cfg.fallInto(after);
      this.cfg.setCur(null);
      if (alt.type === 'preproc_else') sawElse = true;
      alt = alt.type === 'preproc_else' ? undefined : childByField(alt, 'alternative');
    }
    if (!sawElse) {
      this.cfg.edge(branchStart, after, undefined, '#if not compiled');
      const edges = this.cfg.blocks[branchStart]!.succs;
      if (earlier.length) edges[edges.length - 1]!.preproc = earlier.map((f) => ({ key: f.key, value: !f.value }));
    }
    this.cfg.setCur(after);
  }

  /** `#ifdef X` → (defined(X), true), `#ifndef X` → (defined(X), false), `#if E` → (E, true). */
  private preprocCondition(n: SNode): { key: string; value: boolean } | undefined {
    const name = childByField(n, 'name');
    if (name) {
      const negated = /^#\s*(ifndef|elifndef)/.test(this.src(n));
      return { key: `defined(${this.src(name)})`, value: !negated };
    }
    const cond = childByField(n, 'condition');
    if (!cond) return undefined;
    const text = normalizeSpace(this.src(cond));
    const m = /^!\s*(defined\s*\(?\s*\w+\s*\)?)$/.exec(text);
    const norm = (t: string): string => t.replace(/^defined\s*\(?\s*(\w+)\s*\)?$/, 'defined($1)');
    return m ? { key: norm(m[1]!), value: false } : { key: norm(text), value: true };
  }

  /** An ERROR node: lower the statements and expressions we can still recognise inside it. */
  private errorStatement(n: SNode): void {
    this.cfg.emit({ kind: 'havoc', range: this.range(n), text: `syntax error: ${this.note(n)}` });
    const kids = n.children.filter((c) => c.named);
    // `name(args) {` that recovery left as identifier + argument_list + compound: a macro block.
    const items: SNode[] = [];
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i];
      if (STATEMENT_TYPES.has(k.type) && k.type !== 'ERROR') items.push(k);
      else if (k.type === 'ERROR') items.push(k);
      else if (k.type === 'call_expression' || k.type === 'assignment_expression' || k.type === 'update_expression') items.push(k);
    }
    this.statementList(items);
  }

  private expressionStatement(n: SNode, rest?: Rest): number {
    const e = n.children.find((c) => c.named);
    if (!e) return 0;
    const last = n.children[n.children.length - 1];
    const missingSemicolon = last && last.missing === true;
    const follow = nextStatement(rest);
    if (missingSemicolon && e.type === 'call_expression' && follow) {
      const name = this.calleeName(e);
      if (name !== undefined || childByField(e, 'function')?.type === 'call_expression') {
        const problem = this.env.problemOf.get(last);
        if (problem) problem.accepted = true;
        const fnNode = childByField(e, 'function') as SNode;
        return 1 + this.macroBlock({ name: name ?? '', args: this.callArgs(e), head: e, nameNode: fnNode, call: e }, follow, afterNext(rest));
      }
    }
    this.expr(e, true);
    return 0;
  }

  /**
   * `for_each_x(cpu) { int v; ... }` with a declaration first in the block parses as an
   * old-style function definition; it is the same loop macro.
   */
  private nestedDefinition(n: SNode): void {
    const declNode = childByField(n, 'declarator');
    const body = childByField(n, 'body');
    const typeNode = childByField(n, 'type');
    if (typeNode && typeNode.type === 'type_identifier' && declNode && declNode.type === 'parenthesized_declarator' && body) {
      // `for_each_possible_cpu(cpu) {` read as type `for_each_possible_cpu` + declarator `(cpu)`.
      const inner = declNode.children.find((c) => c.named);
      const args = inner && inner.type === 'identifier' ? [inner] : [];
      this.macroBlock({ name: this.src(typeNode), args, head: { ...declNode, start: typeNode.start }, nameNode: typeNode }, body);
      return;
    }
    const fd = declNode && declNode.type === 'function_declarator' ? declNode : undefined;
    const nameNode = fd ? childByField(fd, 'declarator') : undefined;
    const params = fd ? childByField(fd, 'parameters') : undefined;
    if (typeNode && this.env.nestedFunction) {
      this.degrade(n, 'a function definition inside a function (missing closing brace above?)');
      this.env.nestedFunction(n);
      return;
    }
    if (!fd || !nameNode || nameNode.type !== 'identifier' || !body || typeNode) {
      this.degrade(n, 'a function definition inside a function');
      this.cfg.emit({ kind: 'havoc', range: this.range(n), text: this.note(n) });
      return;
    }
    const args: SNode[] = [];
    for (const p of params ? params.children : []) {
      if (!p.named) continue;
      const only = p.type === 'parameter_declaration' && p.children.length === 1 ? p.children[0] : undefined;
      // `cpu` in `for_each_cpu(cpu)` parsed as a parameter type name: it is a variable.
      if (only && (only.type === 'type_identifier' || only.type === 'identifier')) args.push({ ...only, type: 'identifier', field: null });
      else args.push(p);
    }
    this.macroBlock({ name: this.src(nameNode), args, head: fd, nameNode }, body);
  }

  /** The macro itself as a call statement (an unknown name: checks treat it as havoc). */
  private macroCall(m: MacroHead): void {
    if (m.call) {
      this.expr(m.call, true);
      return;
    }
    const lowered = m.args.map((a) => this.expr(a, false));
    this.cfg.emit({
      kind: 'call', callee: m.name, args: lowered, argRanges: m.args.map((a) => this.range(a)),
      range: this.range(m.head), calleeRange: this.range(m.nameNode),
    });
  }

  /** `for_each_x(args) body`, `scoped_guard(lock, &l) body`, or an unknown `MACRO(args) body`. */
  private macroBlock(m: MacroHead, body: SNode, rest?: Rest): number {
    let used = 0;
    const name = m.name;
    const call = m.head;
    const range = this.env.lines.range(call.start, body.end);
    if (isScopedGuardName(name)) {
      // Seen as a lock taken for the block: `scoped_guard(spinlock, &l)` → call `scoped_guard(spinlock)`(&l).
      const args = m.args;
      const kind = args[0] ? normalizeSpace(this.src(args[0])) : '';
      // scoped_cond_guard(kind, fail, lock...): the second argument is what runs when the lock
      // cannot be taken (`return -EINTR`), not a lock argument.
      const conditional = name === 'scoped_cond_guard';
      const lockArgs = args.slice(conditional ? 2 : 1);
      const lowered = lockArgs.map((a) => this.expr(a, false));
      const taken = conditional ? this.temp() : undefined;
      const stmt: CallStmt = {
        kind: 'call',
        callee: `${name}(${kind})`,
        args: lowered,
        argRanges: lockArgs.map((a) => this.range(a)),
        range: this.range(call),
        calleeRange: this.range(m.nameNode),
      };
      if (taken) stmt.result = taken;
      this.cfg.emit(stmt);
      const after = this.cfg.newBlock();
      if (taken) {
        const enter = this.cfg.newBlock();
        const fail = this.cfg.newBlock();
        const from = this.cfg.here();
        this.cfg.edge(from, enter, taken, 'lock taken', stmt.range);
        this.cfg.edge(from, fail, this.negate(taken), 'lock not taken', stmt.range);
        this.cfg.setCur(fail);
        const failText = args[1] ? normalizeSpace(this.src(args[1])) : '';
        const ret = /^return\b\s*(.*)$/.exec(failText);
        if (ret) {
          const v = /^-\s*([A-Z][A-Z0-9_]*)$/.exec(ret[1]);
          const value: Expr | undefined = v ? { kind: 'unary', op: '-', arg: { kind: 'const', name: v[1] } } : ret[1] ? { kind: 'unknown', text: ret[1] } : undefined;
          const r = this.range(args[1]);
          this.releaseGuards(0, r);
          this.cfg.emit(value ? { kind: 'return', value, range: r } : { kind: 'return', range: r });
          this.cfg.jump(this.cfg.exit, 'return', r);
        } else {
          this.cfg.jump(after, 'lock not taken');
        }
        this.cfg.setCur(enter);
      }
      // scoped_guard is a one-shot `for`: break/continue inside leave the block.
      this.breakStack.push(this.target(after));
      this.continueStack.push(this.target(after));
      this.scopes.push([{ callee: `${name}(${kind})`, args: lowered, argRanges: stmt.argRanges, calleeRange: stmt.calleeRange }]);
      try {
        used = this.stmt(body, rest);
        if (this.cfg.cur !== null) this.releaseGuards(this.scopes.length - 1, this.env.lines.range(Math.max(body.start, body.end - 1), body.end));
      } finally {
        this.scopes.pop();
        this.breakStack.pop();
        this.continueStack.pop();
      }
      this.cfg.fallInto(after);
      return used;
    }
    if (!isLoopMacroName(name)) {
      // An unknown `MACRO(args) { ... }`: the macro as a call, then the block once.
      this.macroCall(m);
      used = this.stmt(body, rest);
      return used;
    }
    const args = m.args;
    const shape = loopMacroShape(name);
    // Arguments are evaluated once, before the first iteration (list heads, sg tables...).
    for (const a of args) if (this.hasEffects(a)) this.expr(a, true);
    const cursors: SNode[] = [];
    if (shape) {
      for (const i of shape.cursors) if (args[i]) cursors.push(args[i]);
    } else {
      // Unknown iterator: its cursors are the local variables it is given (a list head or a
      // count is usually a parameter or an expression); failing that, the first plain name,
      // which is where most kernel iterators put the cursor.
      const plain = args.filter((a) => a.type === 'identifier' && !this.isConstName(this.src(a)));
      const locals = plain.filter((a) => this.locals.has(this.src(a)));
      cursors.push(...(locals.length ? locals : plain.slice(0, 1)));
    }
    const counted = shape?.counted && args[shape.counted.index] && args[shape.counted.count]
      && this.strip(args[shape.counted.index]).type === 'identifier' ? shape.counted : undefined;
    let induction: LoopInfo['induction'];
    if (counted) {
      const iv = this.strip(args[counted.index]);
      const indexVar: Expr = { kind: 'var', name: this.src(iv) };
      const bound = this.pure(args[counted.count]);
      induction = { variable: this.src(iv), init: { kind: 'int', value: 0 }, cond: { kind: 'binary', op: '<', left: indexVar, right: bound }, step: { kind: 'binary', op: '+', left: indexVar, right: { kind: 'int', value: 1 } } };
      this.cfg.emit({ kind: 'assign', target: indexVar, value: { kind: 'int', value: 0 }, range: this.range(args[counted.index]) });
    }
    const header = this.cfg.newBlock();
    const loop = this.cfg.beginLoop({ kind: 'macro', header, body: [], range, macro: name }, header);
    if (induction) loop.info.induction = induction;
    this.cfg.fallInto(header);
    const bodyStart = this.cfg.newBlock();
    const after = this.cfg.newBlock();
    const callRange = this.range(call);
    if (induction) {
      this.cfg.edge(header, bodyStart, induction.cond, `next ${name}`, callRange);
      this.cfg.edge(header, after, this.negate(induction.cond), `${name} done`, callRange);
    } else {
      this.cfg.edge(header, bodyStart, undefined, `next ${name}`, callRange);
      this.cfg.edge(header, after, undefined, `${name} done`, callRange);
    }
    this.cfg.setCur(bodyStart);
    for (const c of cursors) {
      const target = this.lvalue(c);
      this.cfg.emit({ kind: 'havoc', target, range: this.range(c), text: `${name} cursor` });
    }
    const cont = this.cfg.newBlock();
    this.breakStack.push(this.target(after));
    this.continueStack.push(this.target(cont));
    try {
      used = this.stmt(body, rest);
    } finally {
      this.breakStack.pop();
      this.continueStack.pop();
    }
    this.cfg.fallInto(cont);
    if (induction) {
      const v: Expr = { kind: 'var', name: induction.variable };
      this.cfg.emit({ kind: 'assign', target: v, value: { kind: 'binary', op: '+', left: v, right: { kind: 'int', value: 1 } }, op: '++', range: callRange });
    }
    this.cfg.jump(header, 'loop back', callRange);
    this.cfg.endLoop(loop);
    this.cfg.setCur(after);
    return used;
  }

  /**
   * A statement tree-sitter read as a declarator (`foo(cpu)`, `*p = 0`, `per_cpu(x, cpu) = 0`
   * after a one-argument macro): lower it as the expression it is.
   */
  private declaratorAsStatement(d: SNode): void {
    if (d.type === 'init_declarator') {
      const target = this.declaratorAsExpression(childByField(d, 'declarator'));
      const value = childByField(d, 'value');
      if (value) this.exprInto(value, target, this.range(d));
      return;
    }
    this.declaratorAsExpression(d, 0, true);
  }

  private declaratorAsExpression(d: SNode | undefined, depth = 0, discard = false): Expr {
    if (!d || depth > 32) return { kind: 'unknown', text: d ? this.note(d) : '?' };
    switch (d.type) {
      case 'identifier':
        return this.exprInner(d, false);
      case 'pointer_declarator':
        return { kind: 'unary', op: '*', arg: this.declaratorAsExpression(childByField(d, 'declarator'), depth + 1) };
      case 'parenthesized_declarator':
        return this.declaratorAsExpression(d.children.find((c) => c.named), depth + 1);
      case 'array_declarator': {
        const size = childByField(d, 'size');
        return { kind: 'index', base: this.declaratorAsExpression(childByField(d, 'declarator'), depth + 1), index: size ? this.expr(size, false) : { kind: 'unknown', text: '' } };
      }
      case 'function_declarator': {
        const nameNode = childByField(d, 'declarator');
        const params = childByField(d, 'parameters');
        const args: Expr[] = [];
        const argRanges: SourceRange[] = [];
        for (const p of params ? params.children : []) {
          if (!p.named) continue;
          const text = normalizeSpace(this.src(p));
          args.push(/^[A-Za-z_]\w*$/.test(text) ? (this.isConstName(text) ? { kind: 'const', name: text } : { kind: 'var', name: text }) : { kind: 'unknown', text });
          argRanges.push(this.range(p));
        }
        const call: CallStmt = {
          kind: 'call', callee: nameNode ? normalizeSpace(this.src(nameNode)) : '?', args, argRanges,
          range: this.range(d), calleeRange: this.range(nameNode ?? d),
        };
        if (!discard) call.result = this.temp();
        this.cfg.emit(call);
        return call.result ?? { kind: 'unknown', text: `${call.callee}(...)` };
      }
      default:
        this.cfg.emit({ kind: 'havoc', range: this.range(d), text: this.note(d) });
        return { kind: 'unknown', text: this.note(d) };
    }
  }

  private declaration(n: SNode): void {
    const base = baseTypeText(n, this.text);
    const storage = storageOf(n, this.text);
    const isStatic = storage.includes('static');
    for (const d of n.children) {
      if (d.field !== 'declarator') continue;
      const info = readDeclarator(d, this.text);
      if (!info.name) continue;
      if (info.isFunction && !info.functionPointer) continue; // a prototype inside a body
      const type = typeText(base, info);
      this.locals.set(info.name, type);
      const declRange = this.range(d);
      const decl: { kind: 'decl'; name: string; type: string; range: SourceRange; arrayLength?: number } = {
        kind: 'decl', name: info.name, type, range: declRange,
      };
      if (info.arrays.length) decl.arrayLength = info.arrays[0];
      this.cfg.emit(decl);
      if (info.init && !isStatic) {
        const target: Expr = { kind: 'var', name: info.name };
        if (info.init.type === 'initializer_list') {
          // `= { NULL }`, `= {}`: hoist calls inside, the aggregate value itself is not modelled.
          if (this.hasEffects(info.init)) this.initializerEffects(info.init);
          this.cfg.emit({ kind: 'assign', target, value: { kind: 'unknown', text: this.note(info.init) }, range: declRange });
          this.designatedFields(info.init, target, declRange);
        } else {
          this.exprInto(info.init, target, declRange);
        }
      }
    }
  }

  /**
   * `struct bio_vec bv = { .bv_page = p, .bv_len = n }`: each designated field with a plain
   * value is an assignment `bv.bv_page = p` (values with calls were hoisted already and stay
   * unmodelled).
   */
  private designatedFields(list: SNode, target: Expr, range: SourceRange): void {
    for (const c of list.children) {
      if (c.type !== 'initializer_pair') continue;
      const designators = c.children.filter((x) => x.field === 'designator');
      const v = childByField(c, 'value');
      if (designators.length !== 1 || designators[0].type !== 'field_designator' || !v) continue;
      if (v.type === 'initializer_list' || this.hasEffects(v)) continue;
      const fname = designators[0].children.find((x) => x.type === 'field_identifier');
      if (!fname) continue;
      const field: Expr = { kind: 'field', base: target, name: this.src(fname), arrow: false };
      this.cfg.emit({ kind: 'assign', target: field, value: this.pure(v), range });
    }
  }

  private initializerEffects(list: SNode): void {
    for (const c of list.children) {
      if (!c.named) continue;
      if (c.type === 'initializer_pair') {
        const v = childByField(c, 'value');
        if (v) {
          if (v.type === 'initializer_list') this.initializerEffects(v);
          else if (this.hasEffects(v)) this.expr(v, true);
        }
      } else if (c.type === 'initializer_list') {
        this.initializerEffects(c);
      } else if (this.hasEffects(c)) {
        this.expr(c, true);
      }
    }
  }

  private ifStatement(n: SNode, rest?: Rest): number {
    const condNode = childByField(n, 'condition');
    const cons = childByField(n, 'consequence');
    const elseClause = childByField(n, 'alternative');
    const alt = elseClause ? elseClause.children.find((c) => c.named) : undefined;
    const thenB = this.cfg.newBlock();
    const elseB = this.cfg.newBlock();
    if (condNode) this.cond(condNode, thenB, elseB, 'then', 'else');
    else this.cfg.jump(thenB);
    const after = this.cfg.newBlock();
    let consumed = 0;
    this.cfg.setCur(thenB);
    if (cons) consumed = this.stmt(cons, alt ? undefined : rest);
    this.cfg.fallInto(after);
    this.cfg.setCur(elseB);
    if (alt) consumed = this.stmt(alt, rest);
    this.cfg.fallInto(after);
    return consumed;
  }

  private whileStatement(n: SNode, rest?: Rest): number {
    const condNode = childByField(n, 'condition');
    const body = childByField(n, 'body');
    const header = this.cfg.newBlock();
    const loop = this.cfg.beginLoop({ kind: 'while', header, body: [], range: this.range(n) }, header);
    this.cfg.fallInto(header);
    const bodyStart = this.cfg.newBlock();
    const after = this.cfg.newBlock();
    if (condNode) this.cond(condNode, bodyStart, after, 'loop', 'loop exit');
    else this.cfg.jump(bodyStart);
    this.cfg.setCur(bodyStart);
    let consumed = 0;
    this.breakStack.push(this.target(after));
    this.continueStack.push(this.target(header));
    try {
      if (body) consumed = this.stmt(body, rest);
    } finally {
      this.breakStack.pop();
      this.continueStack.pop();
    }
    this.cfg.jump(header, 'loop back', this.range(n));
    this.cfg.endLoop(loop);
    this.cfg.setCur(after);
    return consumed;
  }

  private doStatement(n: SNode): void {
    const condNode = childByField(n, 'condition');
    const body = childByField(n, 'body');
    // `do { ... } while (0)` is a block, not a loop (kernel macro idiom).
    const once = condNode ? this.isConstantTruth(condNode) === false : false;
    const bodyStart = this.cfg.newBlock();
    const condB = this.cfg.newBlock();
    const loop = once ? undefined : this.cfg.beginLoop({ kind: 'do', header: condB, body: [], range: this.range(n) }, bodyStart);
    this.cfg.fallInto(bodyStart);
    const after = this.cfg.newBlock();
    this.breakStack.push(this.target(after));
    this.continueStack.push(this.target(condB));
    try {
      if (body) this.stmt(body);
    } finally {
      this.breakStack.pop();
      this.continueStack.pop();
    }
    this.cfg.fallInto(condB);
    if (condNode) this.cond(condNode, bodyStart, after, 'loop back', 'loop exit');
    else this.cfg.jump(after);
    if (loop) this.cfg.endLoop(loop);
    this.cfg.setCur(after);
  }

  private forStatement(n: SNode, rest?: Rest): number {
    const init = childByField(n, 'initializer');
    const condNode = childByField(n, 'condition');
    const update = childByField(n, 'update');
    const body = childByField(n, 'body');
    if (init) {
      if (init.type === 'declaration') this.declaration(init);
      else this.expr(init, true);
    }
    const header = this.cfg.newBlock();
    const info: LoopInfo = { kind: 'for', header, body: [], range: this.range(n) };
    const induction = this.induction(init, condNode, update);
    if (induction) info.induction = induction;
    const loop = this.cfg.beginLoop(info, header);
    this.cfg.fallInto(header);
    const bodyStart = this.cfg.newBlock();
    const after = this.cfg.newBlock();
    const cont = this.cfg.newBlock();
    if (condNode) this.cond(condNode, bodyStart, after, 'loop', 'loop exit');
    else this.cfg.jump(bodyStart);
    this.cfg.setCur(bodyStart);
    let consumed = 0;
    this.breakStack.push(this.target(after));
    this.continueStack.push(this.target(cont));
    try {
      if (body) consumed = this.stmt(body, rest);
    } finally {
      this.breakStack.pop();
      this.continueStack.pop();
    }
    this.cfg.fallInto(cont);
    if (update) this.expr(update, true);
    this.cfg.jump(header, 'loop back', this.range(n));
    this.cfg.endLoop(loop);
    this.cfg.setCur(after);
    return consumed;
  }

  /** `for (i = a; i < n; i++)`: the induction variable, its start, the bound test and the step. */
  private induction(init: SNode | undefined, condNode: SNode | undefined, update: SNode | undefined): LoopInfo['induction'] {
    if (!init || !condNode || !update) return undefined;
    let variable: string | undefined;
    let initExpr: Expr | undefined;
    if (init.type === 'assignment_expression') {
      const l = childByField(init, 'left');
      const op = childByField(init, 'operator');
      const r = childByField(init, 'right');
      if (l?.type === 'identifier' && op && this.src(op) === '=' && r) {
        variable = this.src(l);
        initExpr = this.pure(r);
      }
    } else if (init.type === 'declaration') {
      const ds = init.children.filter((c) => c.field === 'declarator');
      if (ds.length === 1) {
        const d = readDeclarator(ds[0], this.text);
        if (d.name && d.init && d.init.type !== 'initializer_list') {
          variable = d.name;
          initExpr = this.pure(d.init);
        }
      }
    }
    if (!variable || !initExpr) return undefined;
    const c = this.strip(condNode);
    if (c.type !== 'binary_expression') return undefined;
    const cop = childByField(c, 'operator');
    if (!cop || !COMPARISON_FLIP[this.src(cop)]) return undefined;
    const cl = childByField(c, 'left');
    const cr = childByField(c, 'right');
    const mentions = (x: SNode | undefined): boolean => !!x && this.strip(x).type === 'identifier' && this.src(this.strip(x)) === variable;
    if (!mentions(cl) && !mentions(cr)) return undefined;
    // `step` is the value the update assigns: `i + 1` for `i++`, `i - k` for `i -= k`.
    let step: Expr | undefined;
    const iv: Expr = { kind: 'var', name: variable };
    const u = this.strip(update);
    if (u.type === 'update_expression') {
      const arg = childByField(u, 'argument');
      const op = childByField(u, 'operator');
      if (mentions(arg) && op) step = { kind: 'binary', op: this.src(op) === '++' ? '+' : '-', left: iv, right: { kind: 'int', value: 1 } };
    } else if (u.type === 'assignment_expression') {
      const l = childByField(u, 'left');
      const op = childByField(u, 'operator');
      const r = childByField(u, 'right');
      if (mentions(l) && op && r) {
        const o = this.src(op);
        if (o === '+=' || o === '-=') step = { kind: 'binary', op: o[0], left: iv, right: this.pure(r) };
        else if (o === '=') {
          const rr = this.strip(r);
          const rop = rr.type === 'binary_expression' ? childByField(rr, 'operator') : undefined;
          if (rop && (this.src(rop) === '+' || this.src(rop) === '-') && mentions(childByField(rr, 'left'))) step = this.pure(rr);
        }
      }
    }
    if (!step) return undefined;
    return { variable, init: initExpr, cond: this.pure(condNode), step };
  }

  private returnStatement(n: SNode): void {
    const valueNode = n.children.find((c) => c.named);
    const r = this.range(n);
    // The value is computed before the guards' cleanups run.
    const value = valueNode ? this.expr(valueNode, false) : undefined;
    this.releaseGuards(0, r);
    if (value) this.cfg.emit({ kind: 'return', value, range: r });
    else this.cfg.emit({ kind: 'return', range: r });
    this.cfg.jump(this.cfg.exit, 'return', r);
  }

  private label(name: string): LabelState {
    let l = this.labels.get(name);
    if (!l) {
      l = { block: this.cfg.newBlock(name), placed: false };
      this.labels.set(name, l);
    }
    return l;
  }

  private gotoStatement(n: SNode): void {
    const labelNode = childByField(n, 'label');
    if (!labelNode) {
      this.degrade(n, 'goto without a label');
      this.cfg.jump(this.cfg.exit, 'goto ?');
      return;
    }
    const name = this.src(labelNode);
    const l = this.label(name);
    const r = this.range(n);
    if (!l.firstGoto) l.firstGoto = r;
    // Leaving guard scopes: a placed label knows its scope; a forward label is assumed to be
    // at function level (the kernel's `out:` cleanup labels), so nested guards are released.
    this.releaseGuards(l.placed && l.scopes !== undefined ? l.scopes : 1, r);
    if (l.placed && this.cfg.cur !== null) {
      // A backward goto (`goto retry;`): the label heads a loop.
      if (!l.gotoLoop) {
        const from = l.at !== undefined && l.at < r.start ? l.at : r.start;
        l.gotoLoop = this.cfg.addLoop({ kind: 'goto', header: l.block, body: [], range: this.env.lines.range(from, r.end) }, l.block);
      }
      l.gotoLoop.latches.push(this.cfg.cur);
    }
    this.cfg.jump(l.block, `goto ${name}`, r);
  }

  private breakContinue(n: SNode): void {
    const isBreak = n.type === 'break_statement';
    const stack = isBreak ? this.breakStack : this.continueStack;
    const target = stack[stack.length - 1];
    if (!target) {
      this.degrade(n, `${isBreak ? 'break' : 'continue'} outside a loop or switch`);
      this.cfg.jump(this.cfg.exit, isBreak ? 'break' : 'continue', this.range(n));
      return;
    }
    const r = this.range(n);
    this.releaseGuards(target.scopes, r);
    this.cfg.jump(target.block, isBreak ? 'break' : 'continue', r);
  }

  private labeledStatement(n: SNode, rest?: Rest): number {
    const labelNode = childByField(n, 'label');
    if (labelNode) {
      const name = this.src(labelNode);
      const l = this.label(name);
      if (l.placed) this.degrade(labelNode, `label '${name}' defined twice`);
      l.placed = true;
      l.at = n.start;
      l.scopes = this.scopes.length;
      this.cfg.fallInto(l.block, `label ${name}`);
    }
    const inner = n.children.find((c) => c.named && c.field !== 'label');
    if (inner && inner.type === 'expression_statement' && inner.children.length === 1 && inner.children[0].missing) {
      // `out:` right before `}` (C23, accepted by GCC): a label on nothing, not a parse error.
      const p = this.env.problemOf.get(inner.children[0]);
      if (p) p.accepted = true;
      return 0;
    }
    return inner ? this.stmt(inner, rest) : 0;
  }

  private caseStatements(n: SNode): SNode[] {
    return n.children.filter((c) => c.named && c.field !== 'value');
  }

  private switchStatement(n: SNode): void {
    const condNode = childByField(n, 'condition');
    const body = childByField(n, 'body');
    const scrutinee = condNode ? this.expr(condNode, false) : { kind: 'unknown' as const, text: '?' };
    const dispatch = this.cfg.here();
    // Code before the first case label is unreachable.
    this.cfg.setCur(null);
    const after = this.cfg.newBlock();
    const ctx: SwitchContext = { dispatch, scrutinee, sawDefault: false };
    this.switchStack.push(ctx);
    this.breakStack.push(this.target(after));
    try {
      // Case labels are found wherever they sit in the body (also inside `#ifdef` blocks or
      // nested braces): see caseLabel().
      if (body) this.stmt(body);
    } finally {
      this.breakStack.pop();
      this.switchStack.pop();
    }
    if (!ctx.sawDefault) this.cfg.edge(dispatch, after, undefined, 'no case matched', condNode ? this.range(condNode) : undefined);
    this.cfg.fallInto(after);
  }

  /** `case v:` / `default:` of the innermost switch: an edge from its dispatch, fallthrough from above. */
  private caseLabel(n: SNode): void {
    const ctx = this.switchStack[this.switchStack.length - 1];
    if (!ctx) {
      this.degrade(n, 'case label outside a switch');
      this.statementList(this.caseStatements(n));
      return;
    }
    const valueNode = childByField(n, 'value');
    const caseB = this.cfg.newBlock();
    if (valueNode) {
      const v = this.pure(valueNode);
      this.cfg.edge(ctx.dispatch, caseB, { kind: 'binary', op: '==', left: ctx.scrutinee, right: v }, `case ${this.note(valueNode)}`, this.range(n));
    } else {
      ctx.sawDefault = true;
      this.cfg.edge(ctx.dispatch, caseB, undefined, 'default', this.range(n));
    }
    this.cfg.fallInto(caseB, 'fallthrough');
    this.statementList(this.caseStatements(n));
  }

  // ---------------------------------------------------------------- conditions

  private negate(e: Expr): Expr {
    if (e.kind === 'binary' && COMPARISON_FLIP[e.op]) return { kind: 'binary', op: COMPARISON_FLIP[e.op], left: e.left, right: e.right };
    if (e.kind === 'unary' && e.op === '!') return e.arg;
    return { kind: 'unary', op: '!', arg: e };
  }

  /**
   * Lower a branch condition: edges to `t` when it holds and to `f` when it does not. `&&`,
   * `||`, `!`, `?:` and `,` are taken apart (short-circuit); each edge carries one atomic
   * condition, the false edge its negation (flipped comparison, or `!x`).
   */
  private cond(n: SNode, t: number, f: number, tLabel: string, fLabel: string): void {
    this.enter();
    try {
      const s = this.strip(n);
      if (s.type === 'binary_expression') {
        const opNode = childByField(s, 'operator');
        const op = opNode ? this.src(opNode) : '';
        if (op === '&&' || op === '||') {
          const l = childByField(s, 'left');
          const r = childByField(s, 'right');
          if (l && r) {
            const mid = this.cfg.newBlock();
            if (op === '&&') this.cond(l, mid, f, tLabel, fLabel);
            else this.cond(l, t, mid, tLabel, fLabel);
            this.cfg.setCur(mid);
            this.cond(r, t, f, tLabel, fLabel);
            return;
          }
        }
      } else if (s.type === 'unary_expression') {
        const opNode = childByField(s, 'operator');
        const arg = childByField(s, 'argument');
        if (opNode && arg && this.src(opNode) === '!') {
          this.cond(arg, f, t, fLabel, tLabel);
          return;
        }
      } else if (s.type === 'conditional_expression') {
        const c = childByField(s, 'condition');
        const a = childByField(s, 'consequence');
        const b = childByField(s, 'alternative');
        if (c && a && b) {
          const ta = this.cfg.newBlock();
          const tb = this.cfg.newBlock();
          this.cond(c, ta, tb, '?', ':');
          this.cfg.setCur(ta);
          this.cond(a, t, f, tLabel, fLabel);
          this.cfg.setCur(tb);
          this.cond(b, t, f, tLabel, fLabel);
          return;
        }
      } else if (s.type === 'comma_expression') {
        const l = childByField(s, 'left');
        const r = childByField(s, 'right');
        if (l && r) {
          this.expr(l, true);
          this.cond(r, t, f, tLabel, fLabel);
          return;
        }
      } else if (s.type === 'call_expression') {
        const name = this.calleeName(s);
        const args = this.callArgs(s);
        if (name && IDENTITY_WRAPPERS.has(name) && args.length >= 1) {
          this.cond(args[0], t, f, tLabel, fLabel);
          return;
        }
      }
      const v = this.expr(s, false);
      if (v.kind === 'int') {
        this.cfg.jump(v.value !== 0 ? t : f, v.value !== 0 ? tLabel : fLabel, this.range(s));
        return;
      }
      const from = this.cfg.here();
      const r = this.range(s);
      this.cfg.edge(from, t, v, tLabel, r);
      this.cfg.edge(from, f, this.negate(v), fLabel, r);
      this.cfg.setCur(null);
    } finally {
      this.leave();
    }
  }

  // ---------------------------------------------------------------- expressions

  /**
   * Lower an expression for its value (or only its effects when `discard`), hoisting calls and
   * assignments into statements of the current block in C evaluation order.
   */
  expr(n: SNode, discard: boolean): Expr {
    try {
      this.enter();
    } catch (e) {
      if (!(e instanceof TooDeep)) throw e;
      this.degrade(n, `expression nested deeper than ${MAX_NESTING}`);
      if (this.hasEffects(n)) this.cfg.emit({ kind: 'havoc', range: this.range(n), text: this.note(n) });
      return { kind: 'unknown', text: this.note(n) };
    }
    try {
      return this.exprInner(n, discard);
    } finally {
      this.leave();
    }
  }

  private unknown(n: SNode): Expr {
    return { kind: 'unknown', text: this.note(n) };
  }

  private exprInner(n: SNode, discard: boolean): Expr {
    switch (n.type) {
      case 'identifier': {
        const name = this.src(n);
        if (name === 'NULL') return { kind: 'int', value: 0, text: 'NULL' };
        if (this.isConstName(name)) return { kind: 'const', name };
        return { kind: 'var', name };
      }
      case 'number_literal': {
        const raw = this.src(n);
        const v = parseNumberLiteral(raw);
        return Number.isNaN(v) ? { kind: 'unknown', text: raw } : { kind: 'int', value: v, text: raw };
      }
      case 'char_literal':
        return this.charLiteral(n);
      case 'true':
        return { kind: 'int', value: 1, text: 'true' };
      case 'false':
        return { kind: 'int', value: 0, text: 'false' };
      case 'null':
        return { kind: 'int', value: 0, text: 'NULL' };
      case 'string_literal':
      case 'concatenated_string':
        return this.unknown(n);
      case 'parenthesized_expression': {
        const inner = this.firstNamed(n);
        if (!inner) return this.unknown(n);
        if (inner.type === 'compound_statement') return this.statementExpression(inner, discard);
        return this.expr(inner, discard);
      }
      case 'cast_expression': {
        const v = childByField(n, 'value');
        return v ? this.expr(v, discard) : this.unknown(n);
      }
      case 'extension_expression': {
        const inner = this.firstNamed(n);
        return inner ? this.expr(inner, discard) : this.unknown(n);
      }
      case 'type_argument':
      case 'sizeof_expression':
      case 'alignof_expression':
      case 'offsetof_expression':
      case 'generic_expression':
      case 'compound_literal_expression':
      case 'initializer_list':
        return this.unknown(n);
      case 'call_expression':
        return this.call(n, discard ? undefined : 'temp');
      case 'assignment_expression':
        return this.assignment(n);
      case 'update_expression':
        return this.update(n, discard);
      case 'comma_expression': {
        const l = childByField(n, 'left');
        const r = childByField(n, 'right');
        if (l) this.expr(l, true);
        return r ? this.expr(r, discard) : this.unknown(n);
      }
      case 'conditional_expression':
        return this.conditional(n, discard ? undefined : this.temp(), discard);
      case 'binary_expression':
        return this.binary(n, discard);
      case 'unary_expression': {
        const opNode = childByField(n, 'operator');
        const arg = childByField(n, 'argument');
        if (!opNode || !arg) return this.unknown(n);
        const op = this.src(opNode);
        const a = this.expr(arg, discard);
        if (op === '+') return a;
        if (op === '-') {
          if (a.kind === 'int') return { kind: 'int', value: -a.value, text: `-${a.text ?? a.value}` };
          return { kind: 'unary', op: '-', arg: a };
        }
        if (op === '!' || op === '~') return { kind: 'unary', op, arg: a };
        return this.unknown(n);
      }
      case 'pointer_expression': {
        const opNode = childByField(n, 'operator');
        const arg = childByField(n, 'argument');
        if (!opNode || !arg) return this.unknown(n);
        const a = this.expr(arg, false);
        return { kind: 'unary', op: this.src(opNode) === '&' ? '&' : '*', arg: a };
      }
      case 'field_expression': {
        const arg = childByField(n, 'argument');
        const field = childByField(n, 'field');
        const opNode = childByField(n, 'operator');
        if (!arg || !field) return this.unknown(n);
        return { kind: 'field', base: this.expr(arg, false), name: this.src(field), arrow: opNode ? this.src(opNode) === '->' : true };
      }
      case 'subscript_expression': {
        const arg = childByField(n, 'argument');
        const index = childByField(n, 'index');
        if (!arg || !index) return this.unknown(n);
        const base = this.expr(arg, false);
        return { kind: 'index', base, index: this.expr(index, false) };
      }
      case 'gnu_asm_expression':
        this.cfg.emit({ kind: 'havoc', range: this.range(n), text: 'asm' });
        return this.unknown(n);
      case 'ERROR':
        this.cfg.emit({ kind: 'havoc', range: this.range(n), text: `syntax error: ${this.note(n)}` });
        return this.unknown(n);
      default:
        if (this.hasEffects(n)) {
          this.degrade(n, `unsupported expression '${n.type}'`);
          this.cfg.emit({ kind: 'havoc', range: this.range(n), text: this.note(n) });
        }
        return this.unknown(n);
    }
  }

  private charLiteral(n: SNode): Expr {
    const raw = this.src(n);
    const body = raw.replace(/^[LuU8]*'/, '').replace(/'$/, '');
    let v = NaN;
    if (body.length === 1) v = body.charCodeAt(0);
    else if (body.startsWith('\\')) {
      const esc = body.slice(1);
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '?': 63, e: 27 };
      if (esc.length === 1 && esc in simple) v = simple[esc];
      else if (/^x[0-9a-fA-F]+$/.test(esc)) v = parseInt(esc.slice(1), 16);
      else if (/^[0-7]{1,3}$/.test(esc)) v = parseInt(esc, 8);
    }
    return Number.isNaN(v) ? { kind: 'unknown', text: raw } : { kind: 'int', value: v, text: raw };
  }

  /** GNU `({ stmt; stmt; value; })`: the statements inline, the last expression is the value. */
  private statementExpression(block: SNode, discard: boolean): Expr {
    const items = block.children.filter((c) => c.named);
    const last = items[items.length - 1];
    if (last && last.type === 'expression_statement') {
      this.statementList(items.slice(0, -1));
      const e = last.children.find((c) => c.named);
      return e ? this.expr(e, discard) : { kind: 'unknown', text: '({...})' };
    }
    this.statementList(items);
    return { kind: 'unknown', text: '({...})' };
  }

  private binary(n: SNode, discard: boolean): Expr {
    const opNode = childByField(n, 'operator');
    const l = childByField(n, 'left');
    const r = childByField(n, 'right');
    if (!opNode || !l || !r) return this.unknown(n);
    const op = this.src(opNode);
    if ((op === '&&' || op === '||') && this.hasEffects(r)) {
      // Value of a short-circuit with effects on the right: branch so the right side's calls
      // only happen when C would evaluate them.
      const t = this.cfg.newBlock();
      const f = this.cfg.newBlock();
      const after = this.cfg.newBlock();
      const result = discard ? undefined : this.temp();
      this.cond(n, t, f, op === '&&' ? 'both true' : 'either true', op === '&&' ? 'not both' : 'neither');
      this.cfg.setCur(t);
      if (result) this.cfg.emit({ kind: 'assign', target: result, value: { kind: 'int', value: 1 }, range: this.range(n) });
      this.cfg.fallInto(after);
      this.cfg.setCur(f);
      if (result) this.cfg.emit({ kind: 'assign', target: result, value: { kind: 'int', value: 0 }, range: this.range(n) });
      this.cfg.fallInto(after);
      return result ?? { kind: 'unknown', text: this.note(n) };
    }
    const left = this.expr(l, discard);
    const right = this.expr(r, discard);
    return { kind: 'binary', op, left, right };
  }

  /** `c ? a : b`: branches; each side assigns `target` (a temporary or an assigned lvalue). */
  private conditional(n: SNode, target: Expr | undefined, discard: boolean): Expr {
    const c = childByField(n, 'condition');
    const a = childByField(n, 'consequence');
    const b = childByField(n, 'alternative');
    if (!c || !b) return this.unknown(n);
    const ta = this.cfg.newBlock();
    const tb = this.cfg.newBlock();
    const after = this.cfg.newBlock();
    const r = this.range(n);
    if (a) {
      this.cond(c, ta, tb, '?', ':');
      this.cfg.setCur(ta);
      if (target) this.exprInto(a, target, r);
      else if (!discard || this.hasEffects(a)) this.expr(a, true);
    } else {
      // GNU `x ?: y`: x is evaluated once and is the result when it is true.
      const holder = target ?? this.temp();
      this.exprInto(c, holder, r);
      const from = this.cfg.here();
      this.cfg.edge(from, ta, holder, '?', this.range(c));
      this.cfg.edge(from, tb, this.negate(holder), ':', this.range(c));
      this.cfg.setCur(ta);
      target = holder;
    }
    this.cfg.fallInto(after);
    this.cfg.setCur(tb);
    if (target) this.exprInto(b, target, r);
    else this.expr(b, true);
    this.cfg.fallInto(after);
    return target ?? this.unknown(n);
  }

  /** Evaluate `n` and store it into `target`; calls write their result there directly. */
  private exprInto(n: SNode, target: Expr, range: SourceRange): void {
    const s = this.strip(n);
    if (s.type === 'call_expression') {
      const name = this.calleeName(s);
      const args = this.callArgs(s);
      if (name && IDENTITY_WRAPPERS.has(name) && args.length >= 1) {
        this.exprInto(args[0], target, range);
        return;
      }
      if (!(name && ASSIGN_WRAPPERS.has(name))) {
        this.call(s, target);
        return;
      }
    }
    if (s.type === 'conditional_expression') {
      this.conditional(s, target, false);
      return;
    }
    if (s.type === 'parenthesized_expression') {
      const block = this.firstNamed(s);
      const items = block && block.type === 'compound_statement' ? block.children.filter((c) => c.named) : [];
      const last = items[items.length - 1];
      const value = last && last.type === 'expression_statement' ? last.children.find((c) => c.named) : undefined;
      if (value) {
        // `x = ({ ...; v; })`: the statements, then v stored into x.
        this.enter();
        try {
          this.statementList(items.slice(0, -1));
          this.exprInto(value, target, range);
        } finally {
          this.leave();
        }
        return;
      }
    }
    const value = this.expr(s, false);
    this.cfg.emit({ kind: 'assign', target, value, range });
  }

  /** An lvalue: its sub-expressions (index, base pointer) are evaluated, the place is returned. */
  private lvalue(n: SNode): Expr {
    const s = this.strip(n);
    if (s.type === 'identifier') return { kind: 'var', name: this.src(s) };
    return this.expr(s, false);
  }

  private assignment(n: SNode): Expr {
    const l = childByField(n, 'left');
    const opNode = childByField(n, 'operator');
    const r = childByField(n, 'right');
    if (!l || !opNode || !r) return this.unknown(n);
    const op = this.src(opNode);
    const target = this.lvalue(l);
    const range = this.range(n);
    if (op === '=') {
      this.exprInto(r, target, range);
    } else {
      const value = this.expr(r, false);
      this.cfg.emit({ kind: 'assign', target, value: { kind: 'binary', op: op.slice(0, -1), left: target, right: value }, op, range });
    }
    return target;
  }

  private update(n: SNode, discard: boolean): Expr {
    const arg = childByField(n, 'argument');
    const opNode = childByField(n, 'operator');
    if (!arg || !opNode) return this.unknown(n);
    const op = this.src(opNode);
    const target = this.lvalue(arg);
    const range = this.range(n);
    const postfix = opNode.start > arg.start;
    let old: Expr | undefined;
    if (!discard && postfix) {
      old = this.temp();
      this.cfg.emit({ kind: 'assign', target: old, value: target, range });
    }
    this.cfg.emit({ kind: 'assign', target, value: { kind: 'binary', op: op === '++' ? '+' : '-', left: target, right: { kind: 'int', value: 1 } }, op, range });
    return old ?? target;
  }

  private callee(call: SNode): CalleeInfo | undefined {
    const f = childByField(call, 'function');
    if (!f) return undefined;
    const s = this.strip(f);
    if (s.type === 'identifier') return { name: this.src(s), node: s };
    // `guard(mutex)(&lock)`, `ops->read(...)`, `(*fn)(...)`: keep the callee's text as its name;
    // the API table does not know it, so checks treat it as an unknown call.
    return { name: normalizeSpace(this.src(f)).replace(/\s*([(),*>.-])\s*/g, '$1'), node: f };
  }

  /**
   * A call: arguments lowered left to right, then one `call` statement. `result` is where the
   * value goes: an lvalue being assigned, a fresh temporary ('temp'), or nowhere.
   */
  private call(n: SNode, result: Expr | 'temp' | undefined): Expr {
    const info = this.callee(n);
    const args = this.callArgs(n);
    if (info) {
      if (IDENTITY_WRAPPERS.has(info.name) && args.length >= 1) {
        const v = this.expr(args[0], result === undefined);
        for (const extra of args.slice(1)) if (this.hasEffects(extra)) this.expr(extra, true);
        if (result && result !== 'temp') {
          this.cfg.emit({ kind: 'assign', target: result, value: v, range: this.range(n) });
          return result;
        }
        return v;
      }
      if (ASSIGN_WRAPPERS.has(info.name) && args.length === 2) {
        const target = this.lvalue(args[0]);
        this.exprInto(args[1], target, this.range(n));
        return target;
      }
    }
    const lowered: Expr[] = [];
    const argRanges: SourceRange[] = [];
    for (const a of args) {
      lowered.push(this.expr(a, false));
      argRanges.push(this.range(a));
    }
    const stmt: CallStmt = {
      kind: 'call',
      callee: info ? info.name : '?',
      args: lowered,
      argRanges,
      range: this.range(n),
      calleeRange: this.range(info ? info.node : n),
    };
    let value: Expr | undefined;
    if (result === 'temp') value = this.temp();
    else if (result) value = result;
    if (value) stmt.result = value;
    this.cfg.emit(stmt);
    if (info && /^guard\(/.test(info.name)) {
      this.holdGuard({ callee: info.name, args: lowered, argRanges, calleeRange: stmt.calleeRange });
    }
    return value ?? { kind: 'unknown', text: `${stmt.callee}(...)` };
  }

  /** An expression with no statements emitted (loop bounds, case labels): calls become unknown. */
  pure(n: SNode, depth = 0): Expr {
    if (depth > 64) return this.unknown(n);
    const s = this.strip(n);
    switch (s.type) {
      case 'identifier':
      case 'number_literal':
      case 'char_literal':
      case 'true':
      case 'false':
      case 'null':
        return this.exprInner(s, false);
      case 'unary_expression': {
        const opNode = childByField(s, 'operator');
        const arg = childByField(s, 'argument');
        if (!opNode || !arg) return this.unknown(s);
        const op = this.src(opNode);
        const a = this.pure(arg, depth + 1);
        if (op === '-') return a.kind === 'int' ? { kind: 'int', value: -a.value, text: `-${a.text ?? a.value}` } : { kind: 'unary', op: '-', arg: a };
        if (op === '!' || op === '~') return { kind: 'unary', op, arg: a };
        return a;
      }
      case 'binary_expression': {
        const opNode = childByField(s, 'operator');
        const l = childByField(s, 'left');
        const r = childByField(s, 'right');
        if (!opNode || !l || !r) return this.unknown(s);
        return { kind: 'binary', op: this.src(opNode), left: this.pure(l, depth + 1), right: this.pure(r, depth + 1) };
      }
      case 'field_expression': {
        const arg = childByField(s, 'argument');
        const field = childByField(s, 'field');
        const opNode = childByField(s, 'operator');
        if (!arg || !field) return this.unknown(s);
        return { kind: 'field', base: this.pure(arg, depth + 1), name: this.src(field), arrow: opNode ? this.src(opNode) === '->' : true };
      }
      case 'subscript_expression': {
        const arg = childByField(s, 'argument');
        const index = childByField(s, 'index');
        if (!arg || !index) return this.unknown(s);
        return { kind: 'index', base: this.pure(arg, depth + 1), index: this.pure(index, depth + 1) };
      }
      case 'pointer_expression': {
        const opNode = childByField(s, 'operator');
        const arg = childByField(s, 'argument');
        if (!opNode || !arg) return this.unknown(s);
        return { kind: 'unary', op: this.src(opNode) === '&' ? '&' : '*', arg: this.pure(arg, depth + 1) };
      }
      case 'call_expression': {
        const name = this.calleeName(s);
        const args = this.callArgs(s);
        if (name && IDENTITY_WRAPPERS.has(name) && args.length >= 1) return this.pure(args[0], depth + 1);
        return this.unknown(s);
      }
      default:
        return this.unknown(s);
    }
  }
}

export function emptyFunction(sig: FunctionSignature, reason: string): FunctionIR {
  return {
    name: sig.name,
    range: sig.range,
    nameRange: sig.nameRange,
    returnType: sig.returnType,
    params: sig.params,
    blocks: [
      { id: 0, stmts: [], succs: [{ to: 1, label: 'not lowered' }] },
      { id: 1, stmts: [], succs: [] },
    ],
    entry: 0,
    exit: 1,
    loops: [],
    locals: {},
    storage: sig.storage,
    degraded: [{ range: sig.range, reason }],
  };
}
