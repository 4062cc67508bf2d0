// C syntax tree → FileIR: every function definition in the file lowered to a CFG
// (docs/lowering.md). Never throws: a function whose lowering fails becomes an empty but valid
// FunctionIR with a degraded note, and the rest of the file is still lowered.

import type { FileIR, FunctionIR, Param, SourceRange } from '../ir';
import type { CParser, Tree } from '../syntax/parser';
import { blankKernelMacros } from '../syntax/macros';
import { baseTypeText, normalizeSpace, readDeclarator, storageOf, typeText } from './declarators';
import { type FunctionSignature, FunctionLowerer, type LowerEnv, emptyFunction } from './function';
import { isSyscallDefine, macroDefinitionName, splitTopLevelCommas } from '../syntax/macro-definition';
import { skippableFunctions } from './relevance';
import type { IdentifierMemo, RelevanceOutcome } from '../syntax/relevance-graph';
import { LineIndex, type SNode, type SyntaxProblem, childByField, mirrorTree } from './syntax-tree';

export interface LowerOptions {
  cancelled?: () => boolean;
  /**
   * Batch path only: names of the API-table entries that can start a finding
   * (engine/rules/relevance.ts). When given, top-level functions not connected to any of them
   * by same-file references are not lowered and are absent from FileIR.functions.
   */
  relevantApis?: ReadonlySet<string>;
  /** With relevantApis: told what the filter left out (engine.ts checks it against the functions lowered). */
  relevanceReport?: (o: RelevanceOutcome) => void;
  /** With relevantApis: identifiers of text ranges the text scan already read (blank-irrelevant.ts codeIds). */
  identifierMemo?: IdentifierMemo;
  /** Tests only: sees the syntax mirror once the walk is done (what the lowering still holds). */
  afterWalk?: (root: SNode) => void;
  /** Tests only: sees the mirror's root each time finished top-level items were lowered (what it still holds). */
  afterItems?: (root: SNode) => void;
}

/** Containers at file scope that may hold function definitions. */
const TOP_CONTAINERS = new Set([
  'translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef',
  'linkage_specification', 'declaration_list', 'ERROR',
]);

/** Loose pieces of an unclosed function body inside a file-scope ERROR. */
const UNCLOSED_BODY_ITEMS = new Set([
  'expression_statement', 'declaration', 'if_statement', 'while_statement', 'for_statement', 'do_statement',
  'return_statement', 'goto_statement', 'labeled_statement', 'switch_statement', 'compound_statement',
  'break_statement', 'continue_statement',
]);

const SPECIFIER_TYPES = new Set([
  'primitive_type', 'type_identifier', 'sized_type_specifier', 'struct_specifier', 'union_specifier',
  'enum_specifier', 'storage_class_specifier', 'type_qualifier', 'macro_type_specifier',
]);

/** `[static] NAME(...);` on its own at file scope. */
const MACRO_INVOCATION = /^\s*(?:(?:static|extern)\s+)*([A-Za-z_]\w*)\s*\([\s\S]*\)\s*;?\s*$/;

/** Nesting of #if blocks / ERROR nodes at file scope we follow. */
const MAX_TOP_DEPTH = 64;

/** What a lowered function definition's children become (see walk). */
const RELEASED: SNode[] = Object.freeze([]) as unknown as SNode[];

const MAX_SYNTAX_ERRORS = 500;

class FileLowerer {
  readonly functions: FunctionIR[] = [];
  readonly globals = new Set<string>();
  readonly env: LowerEnv;

  constructor(
    private readonly text: string,
    lines: LineIndex,
    private readonly cancelled?: () => boolean,
  ) {
    const problemOf = new Map<SNode, SyntaxProblem>();
    // Nested definitions are queued, not lowered recursively: 3000 functions each swallowed by
    // the previous one's missing `}` must not deepen the JS stack.
    this.env = { text, lines, problemOf, cancelled, nestedFunction: (n) => this.nestedQueue.push(n) };
  }

  /** Problems the mirror recorded so far: it appends to one array (in source order) that each call hands again. */
  private syncProblems(problems: SyntaxProblem[]): void {
    this.problems = problems;
    for (; this.problemsKnown < problems.length; this.problemsKnown++) this.env.problemOf.set(problems[this.problemsKnown].node, problems[this.problemsKnown]);
  }

  private problemsKnown = 0;

  /** Set when a walk failed: what was lowered is kept, nothing more is (as a failed whole walk). */
  private walkFailed = false;

  /**
   * Lower the finished top-level items of a mirror being built (mirrorTree's onItems) and drop
   * them from `root.children`; the last one stays (a macro-made function's body is the item after
   * its header) unless `final`. Memory: the mirror holds a couple of items, not the file.
   */
  stream(root: SNode, problems: SyntaxProblem[], final: boolean): void {
    if (this.walkFailed) {
      root.children.length = 0;
      return;
    }
    this.syncProblems(problems);
    const kids = root.children;
    try {
      const next = this.walkRange(root, final ? kids.length : kids.length - 1, 0);
      kids.splice(0, next);
    } catch {
      this.walkFailed = true;
      kids.length = 0;
    }
  }

  private readonly nestedQueue: SNode[] = [];

  /** Problems in source order (the mirror records them in a pre-order walk). */
  private problems: SyntaxProblem[] = [];

  problemsIn(start: number, end: number): SyntaxProblem[] {
    const ps = this.problems;
    let lo = 0;
    let hi = ps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ps[mid].node.start < start) lo = mid + 1;
      else hi = mid;
    }
    const out: SyntaxProblem[] = [];
    for (let i = lo; i < ps.length && ps[i].node.start <= end; i++) if (ps[i].node.end <= end) out.push(ps[i]);
    return out;
  }

  /**
   * A file-scope macro invocation (`static DEFINE_PER_CPU(struct foo, bar);`,
   * `module_param(x, int, 0644);`) takes type arguments tree-sitter cannot parse; that is not
   * a mistake in the user's code, so its parse errors are not reported.
   */
  private acceptMacroInvocation(n: SNode): void {
    const inside = this.problemsIn(n.start, n.end);
    if (!inside.length) return;
    const text = this.text.slice(n.start, n.end);
    const m = MACRO_INVOCATION.exec(text);
    if (!m) return;
    for (const p of inside) p.accepted = true;
    if (/^(DEFINE|DECLARE)_/.test(m[1])) {
      // `DEFINE_PER_CPU(type, name)`: the variable is the last argument.
      const last = /([A-Za-z_]\w*)\s*\)\s*;?\s*$/.exec(text);
      if (last) this.globals.add(last[1]);
    }
  }

  private range(n: SNode): SourceRange {
    return this.env.lines.range(n.start, n.end);
  }

  /** Walk the children [0, to) of `node` (the last may consume child `to`); returns the index after the last consumed. */
  private walkRange(node: SNode, to: number, depth: number): number {
    const kids = node.children;
    let i = 0;
    for (; i < to; i++) {
      if (this.cancelled?.()) return kids.length;
      const c = kids[i];
      switch (c.type) {
        case 'function_definition':
          this.functionDefinition(c);
          // Lowered: its mirrored body is not read again (the IR keeps no syntax node; problems
          // keep their own error nodes). Dropping it now lets the mirror of a large file be
          // collected while the walk goes on, so the mirror and the whole IR are never held at
          // once (8 MB of functions: 240 MB of mirror plus 170 MB of IR).
          c.children = RELEASED;
          break;
        case 'declaration':
          this.globalDeclaration(c);
          this.acceptMacroInvocation(c);
          break;
        case 'expression_statement': {
          // `SYSCALL_DEFINE3(name, type, arg, ...)` + `{ ... }`: a function defined by a macro.
          const next = kids[i + 1];
          if (next && next.type === 'compound_statement' && this.macroFunction(c, next)) i++;
          else this.acceptMacroInvocation(c);
          break;
        }
        case 'function_declarator':
        case 'pointer_declarator':
          // Inside an ERROR: a function whose `{ ... }` did not parse (unclosed at end of file).
          if (node.type === 'ERROR') i = this.unclosedFunction(kids, i);
          break;
        default:
          if (TOP_CONTAINERS.has(c.type) && depth < MAX_TOP_DEPTH) this.walkRange(c, c.children.length, depth + 1);
      }
    }
    return i;
  }

  /**
   * `int foo(int a) { stmt; stmt;` left open at the end of the file comes back as a flat ERROR:
   * specifiers, a function_declarator, then loose statements. Rebuild the function from those
   * pieces so a function being typed still gets analysed. Returns the last index consumed.
   */
  private unclosedFunction(kids: SNode[], i: number): number {
    const declNode = kids[i];
    const d = readDeclarator(declNode, this.text);
    if (!d.isFunction || d.functionPointer || !d.name) return i;
    let j = i + 1;
    const stmts: SNode[] = [];
    for (; j < kids.length; j++) {
      const k = kids[j];
      if (!k.named) continue; // `{`
      // Loose expressions are the remains of a statement that lost its shape (`for (` pieces).
      if (!UNCLOSED_BODY_ITEMS.has(k.type) && !(k.type.endsWith('_expression') && k.type !== 'parenthesized_expression')) break;
      stmts.push(k);
    }
    if (!stmts.length) return i; // a broken prototype, not a definition
    let first = i;
    while (first > 0 && SPECIFIER_TYPES.has(kids[first - 1].type)) first--;
    const specs = kids.slice(first, i);
    const base = specs.filter((k) => k.type !== 'storage_class_specifier').map((k) => normalizeSpace(this.text.slice(k.start, k.end))).join(' ');
    const start = kids[first].start;
    const end = stmts[stmts.length - 1].end;
    const body: SNode = { type: 'compound_statement', field: 'body', named: true, start: stmts[0].start, end, children: stmts };
    const sig: FunctionSignature = {
      name: d.name,
      nameRange: this.range(d.nameNode ?? declNode),
      range: this.env.lines.range(start, end),
      returnType: typeText(base, { ...d, arrays: [], functionPointer: false }),
      params: this.params(d.params),
      storage: specs.filter((k) => k.type === 'storage_class_specifier').map((k) => this.text.slice(k.start, k.end)),
    };
    this.lowerSafely(sig, body);
    const fn = this.functions[this.functions.length - 1];
    fn.degraded.unshift({ range: sig.range, reason: 'function body not closed' });
    return j - 1;
  }

  private globalDeclaration(n: SNode): void {
    for (const c of n.children) {
      if (c.field !== 'declarator') continue;
      const d = readDeclarator(c, this.text);
      if (d.name && !(d.isFunction && !d.functionPointer)) this.globals.add(d.name);
    }
  }

  private params(list: SNode | undefined): Param[] {
    const out: Param[] = [];
    if (!list) return out;
    for (const p of list.children) {
      if (p.type !== 'parameter_declaration') continue;
      const base = baseTypeText(p, this.text);
      const declNode = childByField(p, 'declarator');
      const d = readDeclarator(declNode, this.text);
      if (!declNode && base === 'void') continue;
      out.push({ name: declNode ? d.name : '', type: declNode ? typeText(base, d) : base, range: this.range(p) });
    }
    return out;
  }

  private lowerSafely(sig: FunctionSignature, body: SNode | undefined): void {
    let fn: FunctionIR;
    try {
      fn = new FunctionLowerer(this.env).lowerBody(sig, body, sig.params);
    } catch (e) {
      fn = emptyFunction(sig, `lowering failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.functions.push(fn);
    // Functions found inside this one (a missing `}` above them) follow it, in source order.
    if (this.nestedQueue.length && !this.drainingNested) {
      this.drainingNested = true;
      try {
        for (let i = 0; i < this.nestedQueue.length && !this.cancelled?.(); i++) this.functionDefinition(this.nestedQueue[i]);
      } finally {
        this.nestedQueue.length = 0;
        this.drainingNested = false;
      }
    }
  }

  private drainingNested = false;

  private functionDefinition(n: SNode): void {
    // `static int __net_init foo(...)`: an unknown annotation macro between the specifiers and
    // the name parses as an ERROR holding one identifier. The kernel has many of these.
    for (const c of n.children) {
      if (c.type !== 'ERROR' || c.field) continue;
      if (c.children.length === 1 && c.children[0].type === 'identifier' && /^_*[a-z][a-z0-9_]*$/.test(this.text.slice(c.start, c.end))) {
        const p = this.env.problemOf.get(c);
        if (p) p.accepted = true;
      }
    }
    let sig: FunctionSignature;
    try {
      const declNode = childByField(n, 'declarator');
      const d = readDeclarator(declNode, this.text);
      const base = baseTypeText(n, this.text);
      const nameNode = d.nameNode ?? declNode ?? n;
      sig = {
        name: d.name || '<anonymous>',
        nameRange: this.range(nameNode),
        range: this.range(n),
        returnType: typeText(base, { ...d, arrays: [], functionPointer: false }),
        params: this.params(d.params),
        storage: storageOf(n, this.text),
      };
    } catch (e) {
      sig = { name: '<unknown>', nameRange: this.range(n), range: this.range(n), returnType: '', params: [], storage: [] };
    }
    this.lowerSafely(sig, childByField(n, 'body'));
  }

  /**
   * `SYSCALL_DEFINEn(name, type1, arg1, ...)` / `COMPAT_SYSCALL_DEFINEn` become `sys_name` /
   * `compat_sys_name` with typed parameters; any other `MACRO(name, ...)` followed by a body
   * is lowered as a function named after its first argument.
   */
  private macroFunction(stmt: SNode, body: SNode): boolean {
    const call = stmt.children.find((c) => c.named);
    if (!call || call.type !== 'call_expression') return false;
    const fnNode = childByField(call, 'function');
    if (!fnNode || fnNode.type !== 'identifier') return false;
    const macro = this.text.slice(fnNode.start, fnNode.end);
    const argList = childByField(call, 'arguments');
    if (!argList) return false;
    const inner = this.text.slice(argList.start + 1, Math.max(argList.start + 1, argList.end - 1));
    const pieces = splitTopLevelCommas(inner);
    const parts = pieces.map((p) => p.text);
    const first = normalizeSpace(parts[0] ?? '');
    const params: Param[] = [];
    let returnType = '';
    const argRange = this.env.lines.range(argList.start, argList.end);
    // The same name the batch relevance filters give it (engine/syntax/macro-definition.ts).
    const name = macroDefinitionName(macro, first);
    if (isSyscallDefine(macro)) {
      returnType = 'long';
      for (let k = 1; k + 1 < parts.length; k += 2) {
        // The parameter spans its type and name arguments: `unsigned long, start`.
        const from = argList.start + 1 + pieces[k].start;
        const to = argList.start + 1 + pieces[k + 1].start + pieces[k + 1].text.length;
        const range = from < to && to <= argList.end ? this.env.lines.range(from, to) : argRange;
        params.push({ name: normalizeSpace(parts[k + 1]), type: normalizeSpace(parts[k]), range });
      }
    }
    const problem = stmt.children[stmt.children.length - 1];
    const p = problem && this.env.problemOf.get(problem);
    if (p && problem.missing) p.accepted = true;
    // The arguments did not parse as expressions; that is expected of a declaration macro.
    for (const c of argList.children) {
      const q = c.type === 'ERROR' ? this.env.problemOf.get(c) : undefined;
      if (q) q.accepted = true;
    }
    const firstArg = argList.children.find((c) => c.named);
    const sig: FunctionSignature = {
      name,
      nameRange: this.range(firstArg ?? fnNode),
      range: this.env.lines.range(stmt.start, body.end),
      returnType,
      params,
      storage: [],
    };
    this.lowerSafely(sig, body);
    return true;
  }
}


/**
 * Lower a parsed file. `text` must be the text the tree was parsed from (after
 * blankKernelMacros, which keeps offsets, so ranges also fit the original).
 */
export function lowerTree(tree: Tree, text: string, opts?: LowerOptions): FileIR {
  const lines = new LineIndex(text);
  let root: SNode;
  let problems: SyntaxProblem[];
  let file: FileLowerer;
  try {
    let skip: Set<number> | undefined;
    try {
      skip = opts?.relevantApis ? skippableFunctions(tree, text, opts.relevantApis, opts.cancelled, opts.relevanceReport, opts.identifierMemo) : undefined;
    } catch {
      skip = undefined; // the filter is an optimisation: when in doubt, lower everything
    }
    // Each top-level item is lowered as soon as it is mirrored, and dropped: the mirror of the
    // whole file (240 MB for 8 MB of functions) is never held, only a couple of items.
    file = new FileLowerer(text, lines, opts?.cancelled);
    const lowerer = file;
    ({ root, problems } = mirrorTree(tree, opts?.cancelled, text, skip && skip.size ? skip : undefined, (r, ps) => {
      lowerer.stream(r, ps, false);
      opts?.afterItems?.(r);
    }));
  } catch (e) {
    return { functions: [], globals: [], syntaxErrors: [{ range: lines.range(0, 0), message: `cannot read syntax tree: ${String(e)}` }] };
  }
  // The rest (the last items; a failure of the walk itself keeps what was lowered).
  file.stream(root, problems, true);
  opts?.afterWalk?.(root);
  const syntaxErrors: FileIR['syntaxErrors'] = [];
  for (const p of problems) {
    if (p.accepted) continue;
    if (syntaxErrors.length >= MAX_SYNTAX_ERRORS) break;
    syntaxErrors.push({ range: lines.range(p.node.start, p.node.end), message: p.message });
  }
  // Attach the problems inside each function to it.
  if (syntaxErrors.length) {
    for (const fn of file.functions) {
      for (const p of file.problemsIn(fn.range.start, fn.range.end)) {
        if (p.accepted) continue;
        if (fn.degraded.length >= 200) break;
        fn.degraded.push({ range: lines.range(p.node.start, p.node.end), reason: p.message });
      }
    }
  }
  return { functions: file.functions, globals: [...file.globals], syntaxErrors };
}

/** Blank kernel annotation macros, parse, lower. */
export function lowerC(parser: CParser, text: string, opts?: LowerOptions): FileIR {
  const blanked = blankKernelMacros(text);
  const tree = parser.parse(blanked);
  try {
    return lowerTree(tree, blanked, opts);
  } finally {
    tree.delete();
  }
}
