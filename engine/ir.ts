// The intermediate form every check and the simulator read (ARCHITECTURE.md, "The intermediate
// form"). One FunctionIR per C function: a CFG of blocks holding a handful of statement kinds.
//
// Positions: `start`/`end` are offsets into the source text as web-tree-sitter reports them,
// which are JavaScript string indices (UTF-16 code units), so the server can hand them to LSP
// without re-encoding. Rows are 0-based; columns are UTF-16 code units, 0-based.

export interface SourceRange {
  start: number;
  end: number;
  startRow: number;
  startCol: number;
  endRow: number;
  endCol: number;
}

/** Expressions keep only what the checks need; everything else degrades to `unknown`. */
export type Expr =
  | { kind: 'int'; value: number; text?: string }
  /** A named variable, parameter, global, or a lowering temporary (names starting with `$`). */
  | { kind: 'var'; name: string }
  /** `base->name` (arrow) or `base.name`. */
  | { kind: 'field'; base: Expr; name: string; arrow: boolean }
  /** `base[index]`. */
  | { kind: 'index'; base: Expr; index: Expr }
  /** `-x`, `!x`, `~x`, `*x` (deref), `&x` (addr), `++`/`--` are lowered to assigns. */
  | { kind: 'unary'; op: '-' | '!' | '~' | '*' | '&'; arg: Expr }
  /** Arithmetic, comparison, bitwise. `&&`/`||` only survive in non-branch value contexts. */
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  /** A named constant the lowering could not evaluate (FOLL_PIN, PAGE_SIZE, -EFAULT's EFAULT). */
  | { kind: 'const'; name: string }
  /** sizeof, casts of unknown shape, statement expressions, function pointers calls... */
  | { kind: 'unknown'; text: string };

export interface StmtBase {
  range: SourceRange;
}

/**
 * A direct call by name. Every call in an expression is hoisted by the lowering into its own
 * `call` statement whose result (if used) is a temporary `$tN` or the assigned lvalue, so
 * conditions such as `if (pin_user_pages(...) < 0)` become `$t1 = pin_user_pages(...)` then
 * `assume($t1 < 0)`. Calls the API table does not know and that are not defined in the file
 * act as `havoc` of their result (and of anything passed by address).
 */
export interface CallStmt extends StmtBase {
  kind: 'call';
  callee: string;
  args: Expr[];
  /** Source ranges of each argument, parallel to `args` (for quick fixes and related info). */
  argRanges: SourceRange[];
  /** Where the result goes, if anywhere. */
  result?: Expr;
  /** Range of the callee identifier (hover, code actions). */
  calleeRange: SourceRange;
}

export interface AssignStmt extends StmtBase {
  kind: 'assign';
  target: Expr;
  value: Expr;
  /** Compound assignment operator (`+=`) folded into value; kept for messages. */
  op?: string;
}

/** An unknown expression or call through a pointer: `target` (if any) becomes unconstrained. */
export interface HavocStmt extends StmtBase {
  kind: 'havoc';
  target?: Expr;
  text: string;
}

export interface ReturnStmt extends StmtBase {
  kind: 'return';
  value?: Expr;
}

/** A local declaration without initializer (initializers are lowered to `assign`). */
export interface DeclStmt extends StmtBase {
  kind: 'decl';
  name: string;
  type: string;
  /** `struct page *pages[16]` → 16; unknown-sized arrays → -1. Absent for non-arrays. */
  arrayLength?: number;
}

export type Stmt = CallStmt | AssignStmt | HavocStmt | ReturnStmt | DeclStmt;

/** An edge between blocks; `cond` is what holds when the edge is taken (assume(cond)). */
export interface Edge {
  to: number;
  cond?: Expr;
  /** Why the edge exists, for traces and path messages: `goto out`, `break`, `loop back`... */
  label?: string;
  /** Range of the condition or jump statement that created the edge. */
  range?: SourceRange;
  /**
   * `#if`/`#ifdef`/`#else` branches: what the preprocessor condition(s) must be for this branch
   * to be the compiled one (`{ key: 'defined(CONFIG_64BIT)', value: false }` on an `#else`), so
   * two `#ifdef` blocks on the same symbol can be correlated. Not an `assume`: `cond` stays unset.
   */
  preproc?: { key: string; value: boolean }[];
}

export type LoopKind = 'for' | 'while' | 'do' | 'macro' | 'goto';

export interface LoopInfo {
  kind: LoopKind;
  /** Block that evaluates the loop condition (the target of back edges / `continue`). */
  header: number;
  /** All blocks inside the loop, header included. */
  body: number[];
  range: SourceRange;
  /** For `for (i = a; i < n; i++)`-shaped loops: the induction variable and bound. */
  induction?: { variable: string; init: Expr; cond: Expr; step: Expr };
  /** For macro loops (`for_each_sg(...)`, `list_for_each_entry(...)`): the macro name. */
  macro?: string;
}

export interface Block {
  id: number;
  stmts: Stmt[];
  succs: Edge[];
  /** The block a label names (`out:`), for messages such as "the goto to `out` skips ...". */
  label?: string;
}

export interface Param {
  name: string;
  type: string;
  range: SourceRange;
}

export interface FunctionIR {
  name: string;
  /** The whole function definition. */
  range: SourceRange;
  /** The function's name identifier. */
  nameRange: SourceRange;
  returnType: string;
  params: Param[];
  blocks: Block[];
  entry: number;
  /** A single synthetic exit block; every `return` edge ends here. */
  exit: number;
  loops: LoopInfo[];
  /** Local variable types by name (`struct page **`), from declarations. */
  locals: Record<string, string>;
  /** `static`, `inline`... storage/attributes seen on the definition. */
  storage: string[];
  /** Syntax problems inside the function that made parts degrade to havoc. */
  degraded: { range: SourceRange; reason: string }[];
}

/** The result of lowering a whole translation unit (or a patch fragment). */
export interface FileIR {
  functions: FunctionIR[];
  /** Struct-typed globals and fields are not modelled; names of file-scope variables are kept. */
  globals: string[];
  /** Parse errors (ERROR / MISSING nodes) — the analysis still runs on the rest. */
  syntaxErrors: { range: SourceRange; message: string }[];
}
