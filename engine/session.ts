// Per-document incremental analysis: the engine-side piece the language server drives (and the
// bench measures). No LSP types here: positions are {line, character} in UTF-16 code units, which
// is both what LSP sends and what web-tree-sitter indexes JavaScript strings by (engine/ir.ts).
//
// What makes an edit cheap (clangd's shape, STYLE.md): the tree-sitter tree is kept and edited,
// so re-parsing is incremental; and findings are cached per function, keyed by the function's
// text plus the text of the same-file functions it calls (intra-file helper summaries: a release
// helper defined in the same file counts as a release, issue 2), so an edit inside one function
// re-runs the rules only on that function and on the functions that call it. What a check reads
// beyond those (another function looked up by name, a file-wide fact such as the struct fields
// some function fills with GUP) is recorded while it runs (engine/analysis/file-facts.ts) and the
// entry is reused only while each read gives the same answer.

import { Edit } from 'web-tree-sitter';
import type { FileIR, FunctionIR, SourceRange } from './ir';
import type { Finding, InputProblem } from './findings';
import { sortAndDedupe, type Engine, type Tree } from './engine';
import { blankKernelMacros } from './syntax/macros';
import { lowerTree } from './lower/lower';
import { functionsByNameOf, runRules } from './rules/run';
import { CheckReads, type FactRead, type FactScope } from './analysis/file-facts';
import { lineOfOffset, treeSitterLineStarts, treeSitterPoint } from './line-starts';
import { BoundedParser, isLive, ParserFailed, ParseStopped, parserIsReady, type SyntaxNode } from './syntax/parser';
import { budgetNote } from './budget';
import { textMayReport } from './rules/rule-relevance';
import { mentionsExpect } from './rules/annotations';
import { plainDefinitions } from './syntax/blank-irrelevant';
import { hashText, sameFileCallGraphKeys } from './session-keys';

export interface Position {
  line: number;
  character: number;
}

export interface ContentChange {
  /** Absent: the whole document is replaced. */
  range?: { start: Position; end: Position };
  text: string;
}

export interface SessionOptions {
  /** Enabled rule ids; undefined = every rule. */
  rules?: string[];
  /** Kernel version the API table and rules assume (`v6.1`). */
  kernel?: string;
}

export interface SessionResult {
  findings: Finding[];
  problems: InputProblem[];
  /** The lowered file (C documents only): code lens. Live: valid until the next analyze(). */
  file?: FileIR;
  /** Edit count of the text this result belongs to (see DocumentSession.edits). */
  edits: number;
}

export type DocumentKind = 'c' | 'patch';

const PATCH_EXT = /\.(patch|diff|mbox|eml)$/i;

/** Which analysis a document gets, from its path (and, for the server, its language id). */
export function documentKind(path: string, languageId?: string): DocumentKind {
  if (languageId === 'diff' || languageId === 'patch' || languageId === 'git-commit' || languageId === 'mail') return 'patch';
  if (PATCH_EXT.test(path)) return 'patch';
  return 'c';
}

/** Start offsets of every line; `\r\n`, `\n` and lone `\r` all end a line, as LSP says. */
function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (ch === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** A tree-sitter edit: where the old and new texts differ (common prefix / suffix). */
function diffEdit(oldText: string, newText: string, oldStarts: number[], newStarts: number[]): Edit | undefined {
  if (oldText === newText) return undefined;
  const max = Math.min(oldText.length, newText.length);
  let pre = 0;
  while (pre < max && oldText.charCodeAt(pre) === newText.charCodeAt(pre)) pre++;
  let suf = 0;
  while (suf < max - pre && oldText.charCodeAt(oldText.length - 1 - suf) === newText.charCodeAt(newText.length - 1 - suf)) suf++;
  // Never split a CRLF or a surrogate pair: widen by one where the cut falls inside either.
  if (pre > 0 && (isLowSurrogate(oldText.charCodeAt(pre)) || (oldText.charCodeAt(pre - 1) === 13 && oldText.charCodeAt(pre) === 10))) pre--;
  const oldEnd = oldText.length - suf;
  const newEnd = newText.length - suf;
  return new Edit({
    startIndex: pre,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: treeSitterPoint(newStarts, pre),
    oldEndPosition: treeSitterPoint(oldStarts, oldEnd),
    newEndPosition: treeSitterPoint(newStarts, newEnd),
  });
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Cached findings of one function, positions relative to the function's start. */
interface CacheEntry {
  findings: Finding[];
  /** Set when a finding points outside the function: reuse only at the same absolute place. */
  absoluteKey?: string;
  /**
   * What the checks read beyond the function and its callees (engine/analysis/file-facts.ts),
   * each with the answer they got: reuse only while every read answers the same.
   */
  deps?: EntryDeps;
  /** Last analysis that used it (entries unused for a while are dropped). */
  used: number;
}

/** The recorded reads of a cache entry (see CheckReads). */
interface EntryDeps {
  /** Same-file functions looked up by name, with their own-text hash then ('' when absent). */
  names: [string, string][];
  facts: FactRead[];
  /** Set when the checks walked every function outside a declared fact: the whole file's key. */
  wholeFile?: string;
}

/** The answers of the current text to what cache entries read (each computed at most once). */
class DepsCheck {
  private byNameOwn: Map<string, string> | undefined;
  private whole: string | undefined;
  private digests = new Map<string, string>();
  constructor(private readonly functions: FunctionIR[], private readonly own: string[], readonly scope: FactScope) {}

  ownOf(name: string): string {
    if (!this.byNameOwn) {
      this.byNameOwn = new Map();
      this.functions.forEach((f, i) => { if (!this.byNameOwn!.has(f.name)) this.byNameOwn!.set(f.name, this.own[i]); });
    }
    return this.byNameOwn.get(name) ?? '';
  }

  wholeFile(): string {
    return (this.whole ??= hashText(this.own.join('\u0000')));
  }

  digest(f: FactRead): string {
    let d = this.digests.get(f.key);
    if (d === undefined) {
      d = f.replay(this.scope);
      this.digests.set(f.key, d);
    }
    return d;
  }

  holds(deps: EntryDeps | undefined): boolean {
    if (!deps) return true;
    if (deps.wholeFile !== undefined && deps.wholeFile !== this.wholeFile()) return false;
    for (const [name, h] of deps.names) if (this.ownOf(name) !== h) return false;
    for (const f of deps.facts) if (this.digest(f) !== f.digest) return false;
    return true;
  }

  /** The deps to store for what one check read (its own facts' digests are what it saw). */
  record(r: CheckReads | undefined): EntryDeps | undefined {
    if (!r || (!r.names.size && !r.facts.size && !r.wide)) return undefined;
    const deps: EntryDeps = { names: [...r.names].map((n) => [n, this.ownOf(n)]), facts: [...r.facts.values()] };
    if (r.wide) deps.wholeFile = this.wholeFile();
    // What the check saw is what this text answers: later lookups in this analysis reuse it.
    for (const f of deps.facts) if (!this.digests.has(f.key)) this.digests.set(f.key, f.digest);
    return deps;
  }
}

function shiftRange(r: SourceRange, dOffset: number, dRow: number): SourceRange {
  return { start: r.start + dOffset, end: r.end + dOffset, startRow: r.startRow + dRow, startCol: r.startCol, endRow: r.endRow + dRow, endCol: r.endCol };
}

/**
 * Messages name lines ("taken by pin_user_pages() at line 12"), so a cached finding's text moves
 * with its function too. Lines inside the function are stored relative to its first row and
 * rewritten on reuse; a line outside it makes the entry absolute (`outside`).
 */
const LINE_REF = /\bline (\d+)\b/g;
const REL_LINE = /\u0002(-?\d+)\u0003/g;

function relativizeText(s: string, fn: FunctionIR, outside: { hit: boolean }): string {
  return s.replace(LINE_REF, (m, n: string) => {
    const row = Number(n) - 1;
    if (row < fn.range.startRow || row > fn.range.endRow) {
      outside.hit = true;
      return m;
    }
    return `line \u0002${row - fn.range.startRow}\u0003`;
  });
}

function absolutizeText(s: string, startRow: number): string {
  return s.includes('\u0002') ? s.replace(REL_LINE, (_m, n: string) => String(Number(n) + startRow + 1)) : s;
}

/** Map every range and every "line N" of a finding; `text` rewrites messages. */
function mapFinding(f: Finding, range: (r: SourceRange) => SourceRange, text: (s: string) => string): Finding {
  const out: Finding = {
    ...f,
    message: text(f.message),
    range: range(f.range),
    related: f.related.map((r) => ({ ...r, message: text(r.message), range: range(r.range) })),
  };
  if (f.trace)
    out.trace = f.trace.map((t) => {
      const u = { ...t, operation: text(t.operation) };
      if (t.range) u.range = range(t.range);
      if (t.note !== undefined) u.note = text(t.note);
      if (t.delta !== undefined) u.delta = text(t.delta);
      return u;
    });
  if (f.fixes) out.fixes = f.fixes.map((x) => ({ title: text(x.title), edits: x.edits.map((e) => ({ ...e, range: range(e.range) })) }));
  return out;
}

/** A finding of `fn` with positions relative to the function (for the cache). */
function toRelative(f: Finding, fn: FunctionIR, outside: { hit: boolean }): Finding {
  return mapFinding(f, (r) => shiftRange(r, -fn.range.start, -fn.range.startRow), (s) => relativizeText(s, fn, outside));
}

/** A cached finding placed back at the function's current position. */
function toAbsolute(f: Finding, fn: FunctionIR): Finding {
  return mapFinding(f, (r) => shiftRange(r, fn.range.start, fn.range.startRow), (s) => absolutizeText(s, fn.range.startRow));
}

/** Every range a finding carries. */
function rangesOf(f: Finding): SourceRange[] {
  const out = [f.range, ...f.related.map((r) => r.range)];
  for (const t of f.trace ?? []) if (t.range) out.push(t.range);
  for (const x of f.fixes ?? []) for (const e of x.edits) out.push(e.range);
  return out;
}

/**
 * Move, in place, a range that lies after an edit (tree-sitter's own rule for points past the
 * edit). Ranges can be shared between IR objects: `seen` makes each move once.
 */
function mover(edit: Edit): (r: SourceRange) => void {
  const dIndex = edit.newEndIndex - edit.oldEndIndex;
  const dRow = edit.newEndPosition.row - edit.oldEndPosition.row;
  const oldEndRow = edit.oldEndPosition.row;
  const dCol = edit.newEndPosition.column - edit.oldEndPosition.column;
  const seen = new Set<SourceRange>();
  return (r) => {
    // A range that ends before the edit stays; one that spans it (an ERROR node around the
    // edited function) only has its end moved.
    if (r.end < edit.oldEndIndex || seen.has(r)) return;
    seen.add(r);
    if (r.start >= edit.oldEndIndex) {
      r.start += dIndex;
      if (r.startRow === oldEndRow) r.startCol += dCol;
      r.startRow += dRow;
    }
    r.end += dIndex;
    if (r.endRow === oldEndRow) r.endCol += dCol;
    r.endRow += dRow;
  };
}

/**
 * Move every range of a function's IR in place (allocation-free: this runs on every function
 * after the edit, on every keystroke). Expressions carry no ranges. The equivalence test in
 * test/server/session.test.ts compares against a fresh lowering, so a range-bearing field added
 * to engine/ir.ts and missed here shows up there.
 */
function moveFunction(fn: FunctionIR, m: (r: SourceRange) => void): void {
  m(fn.range);
  m(fn.nameRange);
  for (const p of fn.params) m(p.range);
  for (const b of fn.blocks) {
    for (const st of b.stmts) {
      m(st.range);
      if (st.kind === 'call') {
        for (const a of st.argRanges) m(a);
        m(st.calleeRange);
      }
    }
    for (const e of b.succs) if (e.range) m(e.range);
  }
  for (const l of fn.loops) m(l.range);
  for (const d of fn.degraded) m(d.range);
}

export class DocumentSession {
  readonly uri: string;
  readonly path: string;
  readonly kind: DocumentKind;
  private engine: Engine;
  private _text: string;
  private lineStarts: number[] | undefined;
  /** Incremented on every change: results and cancellations compare against it. */
  private _edits = 0;
  private options: SessionOptions;
  private last: SessionResult | undefined;
  /** The tree of `parsedBlanked`, and the parser that made it (our own, so parses are incremental). */
  private tree: Tree | undefined;
  private parser: BoundedParser | undefined;
  private parsedBlanked: string | undefined;
  private parsedStarts: number[] | undefined;
  /** The lowering of `parsedBlanked`. */
  private parsedFile: FileIR | undefined;
  private cache = new Map<string, CacheEntry>();
  private outsideText: string | undefined;
  /** Hash of each function's own text in the last analysis (parallel to its functions). */
  private lastOwn: string[] | undefined;
  /** The start column of each function when `lastOwn` was computed (its key includes it). */
  private lastOwnCols: number[] | undefined;
  /** Set by the one-function lowering path: which function changed, under which names. */
  private lastEdit: { index: number; names: string[] } | undefined;
  private runs = 0;
  /** A fresh parse relowerOneFunction made and found different: the whole-file path takes it. */
  private freshTree: Tree | undefined;
  /** How the last analysis went (tests and the bench look at it). */
  stats = { functions: 0, reanalyzed: 0, incrementalParse: false, relowered: -1, freshChecks: 0, ms: { lower: 0, keys: 0, rules: 0, total: 0 }, lowerMs: { diff: 0, parse: 0, check: 0, iso: 0, shift: 0 } };

  constructor(engine: Engine, uri: string, path: string, text: string, opts: SessionOptions & { languageId?: string } = {}) {
    this.engine = engine;
    this.uri = uri;
    this.path = path;
    this._text = text;
    this.kind = documentKind(path, opts.languageId);
    this.options = { rules: opts.rules, kernel: opts.kernel };
  }

  get text(): string {
    return this._text;
  }

  /** How many changes were applied so far (settings changes count too). */
  get edits(): number {
    return this._edits;
  }

  /** The latest result, if it still describes the current text and settings. */
  get current(): SessionResult | undefined {
    return this.last && this.last.edits === this._edits ? this.last : undefined;
  }

  /** The latest result, possibly for an older text. */
  get lastResult(): SessionResult | undefined {
    return this.last;
  }

  setOptions(opts: SessionOptions): void {
    this.options = { rules: opts.rules, kernel: opts.kernel };
    // Findings depend on the rule set and the kernel version: nothing cached stays valid.
    this.cache.clear();
    this.lastOwn = undefined;
    this._edits++;
  }

  /** Drop the kept tree and everything derived from it (the next parse starts afresh). */
  private forgetTree(): void {
    this.tree?.delete();
    this.tree = undefined;
    this.freshTree?.delete();
    this.freshTree = undefined;
    this.parsedFile = undefined;
    this.parsedBlanked = undefined;
    this.parsedStarts = undefined;
    this.lastOwn = undefined;
    this.lastEdit = undefined;
  }

  /** Free the tree-sitter tree (wasm memory is not garbage-collected promptly). */
  dispose(): void {
    this.forgetTree();
    this.parser?.delete();
    this.parser = undefined;
    this.cache.clear();
  }

  private starts(): number[] {
    if (!this.lineStarts) this.lineStarts = computeLineStarts(this._text);
    return this.lineStarts;
  }

  /** Offset of an LSP-style position, clamped to the line (LSP: a character past the end means the end). */
  offsetAt(pos: Position): number {
    const starts = this.starts();
    if (pos.line < 0) return 0;
    if (pos.line >= starts.length) return this._text.length;
    const lineStart = starts[pos.line];
    let lineEnd = pos.line + 1 < starts.length ? starts[pos.line + 1] : this._text.length;
    // Do not land inside the line break.
    while (lineEnd > lineStart && (this._text.charCodeAt(lineEnd - 1) === 10 || this._text.charCodeAt(lineEnd - 1) === 13)) lineEnd--;
    return Math.min(lineStart + Math.max(0, pos.character), lineEnd);
  }

  positionAt(offset: number): Position {
    const starts = this.starts();
    offset = Math.max(0, Math.min(offset, this._text.length));
    const line = lineOfOffset(starts, offset);
    return { line, character: offset - starts[line] };
  }

  /**
   * Apply one LSP content change. The tree is not edited here: the next parse diffs the blanked
   * text it parsed last against the new one (blanking kernel macros can change text outside the
   * edited range, e.g. when a comment opens), so the tree edit is right by construction.
   */
  applyChange(change: ContentChange): void {
    this._edits++;
    if (!change.range) {
      this._text = change.text;
    } else {
      const start = this.offsetAt(change.range.start);
      const end = Math.max(start, this.offsetAt(change.range.end));
      this._text = this._text.slice(0, start) + change.text + this._text.slice(end);
    }
    this.lineStarts = undefined;
  }

  /** Analyze the current text synchronously (the bench's path). */
  analyze(cancelled: () => boolean = () => false): SessionResult {
    const edits = this._edits;
    let result: Omit<SessionResult, 'edits'> | undefined;
    if (this.kind === 'patch') result = this.analyzePatch(cancelled);
    else {
      const steps = this.analyzeCSteps(cancelled);
      let step = steps.next();
      while (!step.done) step = steps.next();
      result = step.value;
    }
    // Cancelled part-way: what was finished is cached; the caller gets an empty, uncached result.
    const out: SessionResult = { ...(result ?? { findings: [], problems: [] }), edits };
    if (result && !cancelled() && edits === this._edits) this.last = out;
    return out;
  }

  private analyzePatch(cancelled: () => boolean): Omit<SessionResult, 'edits'> {
    try {
      const r = this.engine.analyzePatch(this._text, { path: this.path, rules: this.options.rules, kernel: this.options.kernel, cancelled });
      return { findings: r.findings, problems: r.problems };
    } catch (e) {
      if (e instanceof ParserFailed) return { findings: [], problems: [{ severity: 'error', message: `Faultline could not analyze this text: ${e.message}` }] };
      throw e;
    }
  }

  /**
   * Parse and lower the blanked text. When the edit since the last parse sits inside one function
   * body and tree-sitter reports no structural change outside it, only that function is lowered
   * again (parsed alone through `includedRanges`, which keeps absolute positions); the others are
   * reused, moved if they follow the edit. Anything else lowers the whole file. Either way the
   * kept tree is re-parsed incrementally.
   */
  private parseAndLower(blanked: string, cancelled: () => boolean): FileIR {
    // Rows as tree-sitter counts them (only `\n` ends a row), for the tree edit and the moved IR:
    // with LSP's rows (a lone `\r` ends one too) an edit removing a lone CR moved every later
    // function one row off what a fresh parse says (fuzz run, seed 1, input 9864).
    const newStarts = treeSitterLineStarts(blanked);
    const prevFile = this.parsedFile;
    let edit: Edit | undefined;
    let tree: Tree;
    let oldTree: Tree | undefined;
    if (!this.parser) this.parser = new BoundedParser();
    // After a parser failure the runtime was replaced: the kept tree belongs to the dead one.
    if (this.tree && !isLive(this.tree)) this.forgetTree();
    const limits = { limits: { cancelled } };
    const l0 = now();
    if (this.tree && this.parsedBlanked !== undefined && this.parsedStarts) {
      edit = diffEdit(this.parsedBlanked, blanked, this.parsedStarts, newStarts);
      this.stats.lowerMs.diff = now() - l0;
      this.stats.incrementalParse = true;
      if (!edit) {
        if (prevFile) {
          this.stats.relowered = 0;
          // Nothing changed: every key of the last analysis still holds.
          this.lastEdit = { index: -1, names: [] };
          return prevFile;
        }
        tree = this.tree;
      } else {
        this.tree.edit(edit);
        oldTree = this.tree;
        // The kept tree is edited: if this parse stops, it no longer matches any text we know.
        this.tree = undefined;
        this.parsedFile = undefined;
        try {
          tree = this.parser.parse(blanked, oldTree, limits) ?? this.parser.parse(blanked, null, limits)!;
        } catch (e) {
          oldTree.delete();
          throw e;
        }
      }
    } else {
      tree = this.parser.parse(blanked, null, limits) ?? this.parser.parse(blanked, null, limits)!;
      this.stats.incrementalParse = false;
    }

    this.stats.lowerMs.parse = now() - l0 - this.stats.lowerMs.diff;
    this.lastEdit = undefined;
    let file: FileIR | undefined;
    this.stats.freshChecks = 0;
    if (edit && oldTree && prevFile) file = this.relowerOneFunction(blanked, edit, oldTree, tree, prevFile, cancelled);
    if (!file) {
      // Error recovery in an incremental re-parse can differ from a fresh parse of the same text;
      // the whole-file path is the slow one anyway, so with errors around it parses afresh and
      // the editor shows exactly what the CLI reports.
      if (oldTree && tree.rootNode.hasError) {
        let fresh: Tree | null = this.freshTree ?? null;
        this.freshTree = undefined;
        try {
          fresh ??= this.parser.parse(blanked, null, limits);
        } catch (e) {
          tree.delete();
          oldTree.delete();
          throw e;
        }
        if (fresh) {
          tree.delete();
          tree = fresh;
        }
      }
      file = lowerTree(tree, blanked, { cancelled });
      this.stats.relowered = file.functions.length;
    }
    if (oldTree && oldTree !== tree) oldTree.delete();
    this.tree = tree;
    this.parsedBlanked = blanked;
    this.parsedStarts = newStarts;
    this.parsedFile = cancelled() ? undefined : file;
    return file;
  }

  private relowerOneFunction(blanked: string, edit: Edit, oldTree: Tree, tree: Tree, prev: FileIR, cancelled: () => boolean): FileIR | undefined {
    const c0 = now();
    const idx = prev.functions.findIndex((f) => f.range.start < edit.startIndex && edit.oldEndIndex < f.range.end);
    if (idx < 0) return undefined;
    const old = prev.functions[idx];
    if (prev.functions.some((f, i) => i !== idx && f.range.start < old.range.end && old.range.start < f.range.end)) return undefined;
    const newEnd = old.range.end + (edit.newEndIndex - edit.oldEndIndex);
    // Structure outside the function must be untouched by the re-parse.
    for (const r of tree.getChangedRanges(oldTree)) if (r.startIndex < old.range.start || r.endIndex > newEnd) return undefined;
    // And the function must still be one plain function definition with the same extent
    // (SYSCALL_DEFINE-style macro functions span two nodes: they take the whole-file path).
    const node = tree.rootNode.namedDescendantForIndex(old.range.start, newEnd);
    if (!node || node.type !== 'function_definition' || node.startIndex !== old.range.start || node.endIndex !== newEnd) return undefined;
    // Error recovery next to the edited function: see neighboursKeepTheirRecovery. Where the edited
    // function has no error before or after the edit, the parser enters and leaves it in the same
    // state either way.
    // Else a fresh parse decides: the same top-level structure (and the same trees wherever there
    // is an error) keeps the one-function path; a different one goes to the whole-file path with it.
    if (tree.rootNode.hasError && (node.hasError || topLevelHasError(oldTree, old.range.start)) && !neighboursKeepTheirRecovery(tree, node, blanked) && !this.windowKeepsRecovery(tree, node, blanked, cancelled)) {
      let fresh: Tree | null;
      try {
        fresh = this.parser!.parse(blanked, null, { limits: { cancelled } });
      } catch (e) {
        if (e instanceof ParseStopped) return undefined;
        throw e;
      }
      if (!fresh) return undefined;
      this.stats.freshChecks++;
      if (!sameTopLevel(tree, fresh)) {
        this.freshTree = fresh;
        return undefined;
      }
      fresh.delete();
    }
    const c1 = now();
    const startPoint = node.startPosition;
    const endPoint = node.endPosition;
    let iso: Tree | null;
    try {
      iso = this.parser!.parse(blanked, null, {
        includedRanges: [{ startIndex: old.range.start, endIndex: newEnd, startPosition: startPoint, endPosition: endPoint }],
        limits: { cancelled },
      });
    } catch (e) {
      // Stopped or failed alone: the whole-file path (with its own bound) decides.
      if (e instanceof ParseStopped) return undefined;
      throw e;
    }
    if (!iso) return undefined;
    let part: FileIR;
    try {
      // Alone, the function must parse exactly as it does in the file (error recovery inside a
      // half-typed function can differ when the rest of the file is absent).
      // Without errors on either side the (context-free) grammar gives the same tree; only
      // error recovery needs the structural comparison, which costs a walk of both subtrees.
      const isoRoot = iso.rootNode;
      if (isoRoot.namedChildCount !== 1) return undefined;
      const same = !isoRoot.hasError && !node.hasError ? isoRoot.namedChild(0)?.type === 'function_definition' : isoRoot.namedChild(0)?.toString() === node.toString();
      if (!same) return undefined;
      part = lowerTree(iso, blanked, { cancelled });
    } finally {
      iso.delete();
    }
    if (part.functions.length !== 1 || part.functions[0].range.start !== old.range.start || part.functions[0].range.end !== newEnd) return undefined;
    const c2 = now();
    // The previous FileIR is dead from here on (SessionResult.file lives until the next analysis).
    const move = mover(edit);
    const functions = prev.functions.slice();
    functions[idx] = part.functions[0];
    for (let i = idx + 1; i < functions.length; i++) moveFunction(functions[i], move);
    // Inside = what lowerTree counts as the function's (it attaches those to fn.degraded).
    const syntaxErrors = prev.syntaxErrors.filter((e) => !(e.range.start >= old.range.start && e.range.end <= old.range.end));
    for (const e of syntaxErrors) move(e.range);
    syntaxErrors.push(...part.syntaxErrors);
    syntaxErrors.sort((a, b) => a.range.start - b.range.start);
    const c3 = now();
    this.stats.lowerMs = { ...this.stats.lowerMs, check: c1 - c0, iso: c2 - c1, shift: c3 - c2 };
    this.stats.relowered = 1;
    this.lastEdit = { index: idx, names: [old.name, part.functions[0].name] };
    return { functions, globals: prev.globals, syntaxErrors };
  }

  /**
   * The cheap form of the fresh-parse check: the run of top-level nodes around the edited function
   * that have errors, bounded on each side by a clean node (or the file's end; at most
   * WINDOW_NODES each way), parsed alone (includedRanges: absolute positions) from the top-level
   * state a clean node leaves the parser in. The same nodes there as in the incremental tree keep
   * the one-function path; otherwise the whole file is parsed afresh.
   */
  private windowKeepsRecovery(tree: Tree, edited: { startIndex: number; endIndex: number }, blanked: string, cancelled: () => boolean): boolean {
    const self = editedTopLevel(tree, edited);
    if (!self) return false;
    // The run: nodes whose recovery may reach out of them (comments inside it), up to a node that
    // keeps its recovery on each side (or the file's edge).
    const run: SyntaxNode[] = [self];
    let prev = self.previousSibling;
    for (let k = 0; prev && (prev.type === 'comment' || !keepsItsRecovery(prev, blanked)); prev = prev.previousSibling) {
      if (++k > WINDOW_NODES) return false;
      run.unshift(prev);
    }
    let next = self.nextSibling;
    for (let k = 0; next && (next.type === 'comment' || !keepsItsRecovery(next, blanked)); next = next.nextSibling) {
      if (++k > WINDOW_NODES) return false;
      run.push(next);
    }
    // From right after the bounding node before (its trailing text is the window's) to the start
    // of the bounding node after (or the end of the text).
    const startIndex = prev ? prev.endIndex : 0;
    const startPosition = prev ? prev.endPosition : { row: 0, column: 0 };
    const endIndex = next ? next.startIndex : blanked.length;
    const endPosition = next ? next.startPosition : tree.rootNode.endPosition;
    let win: Tree | null;
    try {
      win = this.parser!.parse(blanked, null, { includedRanges: [{ startIndex, endIndex, startPosition, endPosition }], limits: { cancelled } });
    } catch (e) {
      if (e instanceof ParseStopped) return false;
      throw e;
    }
    if (!win) return false;
    try {
      this.stats.freshChecks++;
      const w = win.rootNode;
      if (w.childCount !== run.length) return false;
      for (let i = 0; i < run.length; i++) if (!sameRecovery(run[i], w.child(i)!)) return false;
      return true;
    } finally {
      win.delete();
    }
  }

  /**
   * The C analysis as steps: it yields between chunks of rule work so the async driver can give
   * the event loop a turn (a newer edit then cancels the rest). Chunks already done stay in the
   * cache, so cancelled work is not lost: the next analysis picks up from there.
   */
  private *analyzeCSteps(cancelled: () => boolean): Generator<void, Omit<SessionResult, 'edits'> | undefined, void> {
    const text = this._text;
    const t0 = now();
    const blanked = blankKernelMacros(text);
    let file: FileIR;
    try {
      file = this.parseAndLower(blanked, cancelled);
    } catch (e) {
      this.forgetTree();
      if (e instanceof ParseStopped) {
        if (e.reason === 'cancelled') return undefined;
        // Said where the user looks; the same note the CLI prints for this text.
        // (Not for a text that names nothing reportable: nothing can be missing there.)
        return { findings: textMayReport(text) ? [budgetNote(undefined, 'Parsing', e.bound)] : [], problems: [] };
      }
      if (e instanceof ParserFailed) return { findings: [], problems: [{ severity: 'error', message: `Faultline could not analyze this text: ${e.message}` }] };
      throw e;
    }
    const t1 = now();
    const run = ++this.runs;

    // `@faultline expect` annotations compare a whole function's findings, and are checked
    // against the file's functions; with one in the text, run everything (fixtures, rarely edited).
    const expectAnnotations = mentionsExpect(text);
    // On the one-function path only that function's text changed (nothing outside it moved
    // structurally), so keys of functions that do not reach it are still right.
    const edited = this.lastEdit;
    this.lastEdit = undefined;
    const reuseKeys = edited !== undefined && this.lastOwn?.length === file.functions.length && !expectAnnotations;
    if (!reuseKeys) {
      // Text outside every function (globals, macros, struct definitions, file-scope annotations)
      // can change what a function's findings are without changing the function: when it changes,
      // nothing cached is trusted. Typing inside a function leaves it alone.
      let outside = '';
      let at = 0;
      for (const fn of file.functions) {
        if (fn.range.start < at) continue;
        outside += text.slice(at, fn.range.start) + '\u0000';
        at = fn.range.end;
      }
      outside += text.slice(at);
      if (outside !== this.outsideText || expectAnnotations) {
        this.cache.clear();
        this.outsideText = outside;
      }
    }

    // Own-text hashes: reused for the functions the one-function path did not touch.
    // A function moved along the edited row (its start column changed: lines that end in a lone
    // CR are one tree-sitter row, and so are two functions on one line) gets a new key: cached
    // findings keep the columns of the function's first row as they were, which a fresh analysis
    // no longer says (fuzz run, seed 31, input 32008).
    const own: string[] = file.functions.map((fn, i) =>
      reuseKeys && i !== edited!.index && this.lastOwnCols?.[i] === fn.range.startCol ? this.lastOwn![i] : hashText(`${fn.range.startCol}\u0000${fn.name}\u0000`) + hashText(text, fn.range.start, fn.range.end));
    const graph = sameFileCallGraphKeys(file.functions, own);
    const findings: Finding[] = [];
    const stale: { fn: FunctionIR; index: number; key: string; absoluteKey: string }[] = [];
    // Fresh FunctionIR identities: the analyses memoise per FunctionIR object (and per FileIR and
    // per functionsByName), which is right for one-shot engine runs but not for IR this session
    // reuses across edits (same object, moved in place, its helpers changed). A shallow copy is a
    // new identity; one copy of the file per analysis, so the chunks (and the file-wide facts the
    // cache entries are checked against) share helper summaries.
    const copies = file.functions.map((f) => ({ ...f }));
    const fileCopy: FileIR = { ...file, functions: copies };
    const deps = new DepsCheck(file.functions, own, { byName: functionsByNameOf(fileCopy, true), text, cancelled });
    file.functions.forEach((fn, i) => {
      const key = graph.key(i);
      const hit = expectAnnotations ? undefined : this.cache.get(key);
      if (hit && (hit.absoluteKey === undefined || hit.absoluteKey === graph.absoluteKey(i)) && deps.holds(hit.deps)) {
        hit.used = run;
        for (const f of hit.findings) findings.push(toAbsolute(f, fn));
      } else {
        stale.push({ fn, index: i, key, absoluteKey: graph.absoluteKey(i) });
      }
    });
    this.lastOwn = cancelled() ? undefined : own;
    this.lastOwnCols = file.functions.map((fn) => fn.range.startCol);
    const t2 = now();
    this.stats = { ...this.stats, functions: file.functions.length, reanalyzed: stale.length };

    const runOpts = { rules: this.options.rules, kernel: this.options.kernel, cancelled };
    // Annotation problems outside every function (an `expect` with no function under it, a
    // suppression without a reason at file scope): every analysis, the same as the CLI's.
    for (const f of runRules(fileCopy, text, { ...runOpts, only: new Set(), fileScope: true })) findings.push(f);
    // `expect` annotations are checked against the whole set of findings: one chunk then.
    const chunkSize = expectAnnotations ? Math.max(1, stale.length) : RULE_CHUNK;
    for (let c = 0; c < stale.length; c += chunkSize) {
      if (c > 0) {
        yield;
        if (cancelled()) return undefined;
      }
      const chunk = stale.slice(c, c + chunkSize);
      // The rules read same-file helpers through ctx.functionsByName (the whole file); findings in
      // the helpers themselves come from their own cache entries.
      const only = new Set(chunk.map((st) => copies[st.index]));
      const producers = new Map<Finding, FunctionIR>();
      const reads = new Map<FunctionIR, CheckReads>();
      const fresh = runRules(fileCopy, text, { ...runOpts, only, producers, reads });
      if (cancelled()) return undefined;
      // A finding a function's check produced belongs to that function's entry: its key covers
      // everything the analysis read. Filing it by extent instead went wrong where error recovery
      // nests extents (a function wrapping the rest of the file): the outer function's finding was
      // also cached under the inner one, whose key an edit of the outer one does not change, and
      // came back stale after that edit (fuzz run, seed 7, input 5548).
      // Annotation problems (no producer) belong to every chunk function whose extent holds them;
      // one outside every function is kept as is, never cached.
      const byChunkFn: Finding[][] = chunk.map(() => []);
      const chunkIndex = new Map(chunk.map((st, k) => [st.fn, k] as const));
      const copyIndex = new Map(chunk.map((st, k) => [copies[st.index], k] as const));
      for (const f of fresh) {
        const producer = producers.get(f);
        const k = producer && copyIndex.get(producer);
        if (k !== undefined) {
          byChunkFn[k].push(f);
          continue;
        }
        const holders = functionsHolding(file.functions, f.range);
        if (!holders.length) findings.push(f);
        for (const h of holders) {
          const k = chunkIndex.get(h);
          if (k !== undefined) byChunkFn[k].push(f);
        }
      }
      chunk.forEach((st, k) => {
        const mine = byChunkFn[k];
        const outside = { hit: mine.some((f) => rangesOf(f).some((r) => !rangeWithin(r, st.fn.range))) };
        const relative = mine.map((f) => toRelative(f, st.fn, outside));
        this.cache.set(st.key, {
          findings: relative,
          absoluteKey: outside.hit ? st.absoluteKey : undefined,
          deps: deps.record(reads.get(copies[st.index])),
          used: run,
        });
        // Published findings never share range objects with the IR (which later edits move).
        for (const f of relative) findings.push(toAbsolute(f, st.fn));
      });
    }
    // Entries not used by this analysis describe text that is gone (or an older version of it).
    if (this.cache.size > file.functions.length * 2 + 64) for (const [k, e] of this.cache) if (e.used !== run) this.cache.delete(k);

    const out = { ...sortAndDedupe(findings), problems: [], file };
    const t3 = now();
    this.stats.ms = { lower: t1 - t0, keys: t2 - t1, rules: t3 - t2, total: t3 - t0 };
    return out;
  }

  /**
   * Analyze, yielding to the event loop first so a newer edit can arrive and cancel this one (the
   * server's path). Resolves undefined when cancelled or superseded.
   */
  async analyzeAsync(cancelled: () => boolean = () => false): Promise<SessionResult | undefined> {
    const edits = this._edits;
    const stale = () => cancelled() || this._edits !== edits;
    // After a parser failure (in this document or another), wait for the fresh parser.
    if (!parserIsReady()) await this.engine.ready();
    await yieldToEventLoop();
    if (stale()) return undefined;
    if (this.kind === 'patch') {
      const r = this.analyze(stale);
      return stale() ? undefined : r;
    }
    const steps = this.analyzeCSteps(stale);
    let step = steps.next();
    while (!step.done) {
      await yieldToEventLoop();
      if (stale()) {
        steps.return(undefined);
        return undefined;
      }
      step = steps.next();
    }
    if (!step.value || stale()) return undefined;
    const out: SessionResult = { ...step.value, edits };
    this.last = out;
    return out;
  }
}

/**
 * With syntax errors next to the edited function, whether the incremental tree still gives the
 * structure a fresh parse of the text gives. The incremental parse reuses the other functions'
 * subtrees, error recovery included, and reports no change there; but when the edited function
 * has (or had) an error, the parser's recovery inside it can carry into the next top-level item,
 * and a fresh parse of the new text then recovers differently there (an unclosed call in the next
 * function that now swallows the one after: fuzz run, seed 7, input 28039). So the top-level
 * neighbours of the edited function (comments skipped) must be clean, or be function definitions
 * whose errors stay inside a plain, balanced top-level item of the text that ends at their closing
 * brace (the batch parse's test, engine.ts errorsStayInside): their recovery then did not reach
 * outside them. Else the whole-file path parses afresh. Errors further away are separated from the
 * edit by a clean item, where the parser's state is the same either way; and tree-sitter does not
 * reuse a node whose lookahead reached into the edit. The text scan runs only when a neighbour has
 * an error.
 */
function neighboursKeepTheirRecovery(tree: Tree, edited: { startIndex: number; endIndex: number }, blanked: string): boolean {
  const self = editedTopLevel(tree, edited);
  if (!self) return false;
  return keepsItsRecovery(skipComments(self.previousSibling, false), blanked) && keepsItsRecovery(skipComments(self.nextSibling, true), blanked);
}

/** The edited function's node when it is a top-level node itself (not inside an ERROR node). */
function editedTopLevel(tree: Tree, edited: { startIndex: number; endIndex: number }): SyntaxNode | undefined {
  const self = tree.rootNode.firstChildForIndex(edited.startIndex);
  return self && self.startIndex === edited.startIndex && self.endIndex === edited.endIndex ? self : undefined;
}

function skipComments(n: SyntaxNode | null, forward: boolean): SyntaxNode | null {
  while (n && n.type === 'comment') n = forward ? n.nextSibling : n.previousSibling;
  return n;
}

/**
 * A top-level node (or none) whose recovery cannot reach outside it: no error, or a function
 * definition within a plain, balanced top-level item of the text ending at its closing brace.
 * Scanned from the end of the top-level node before it (a point where the scan is at the top
 * level), not from the start of the text: this runs while typing.
 */
function keepsItsRecovery(n: SyntaxNode | null, blanked: string): boolean {
  if (!n || !n.hasError) return true;
  if (n.type !== 'function_definition') return false;
  const before = n.previousSibling;
  const from = before ? before.endIndex : 0;
  const itemStart = plainDefinitions(blanked.slice(from, n.endIndex))?.get(n.endIndex - from);
  return itemStart !== undefined && n.startIndex >= itemStart + from;
}

/** Same top-level nodes (type, extent) and, where one has an error, the same tree under it. */
function sameTopLevel(a: Tree, b: Tree): boolean {
  const ra = a.rootNode;
  const rb = b.rootNode;
  const n = ra.childCount;
  if (n !== rb.childCount) return false;
  const ca = a.walk();
  const cb = b.walk();
  try {
    if (!ca.gotoFirstChild() || !cb.gotoFirstChild()) return n === 0;
    do {
      if (!sameRecovery(ca.currentNode, cb.currentNode)) return false;
      cb.gotoNextSibling();
    } while (ca.gotoNextSibling());
    return true;
  } finally {
    ca.delete();
    cb.delete();
  }
}

/** Two top-level nodes of two parses are the same: type, extent and, where one has an error, the tree under it. */
function sameRecovery(a: SyntaxNode, b: SyntaxNode): boolean {
  if (a.type !== b.type || a.startIndex !== b.startIndex || a.endIndex !== b.endIndex || a.hasError !== b.hasError) return false;
  return !a.hasError || a.toString() === b.toString();
}

/** Whether the top-level node of `tree` that starts at `start` (edited: positions moved) has an error. */
function topLevelHasError(tree: Tree, start: number): boolean {
  const cursor = tree.walk();
  try {
    if (!cursor.gotoFirstChildForIndex(start)) return true;
    return cursor.startIndex !== start || cursor.currentNode.hasError;
  } finally {
    cursor.delete();
  }
}

/** Top-level nodes with errors a window check spans on each side of the edited function. */
const WINDOW_NODES = 8;

/** Stale functions checked between two turns of the event loop (analyzeAsync). */
const RULE_CHUNK = 8;

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** setImmediate where there is one (Node); a zero timeout in a browser. */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise<void>((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * The functions of `functions` (sorted by start) whose extent holds `r`: a binary search for the
 * last one starting at or before it, then a walk back over the ones that may still enclose it.
 */
function functionsHolding(functions: FunctionIR[], r: SourceRange): FunctionIR[] {
  let lo = 0;
  let hi = functions.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (functions[mid].range.start <= r.start) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const out: FunctionIR[] = [];
  // Plain files have disjoint extents (one step back); nested ones (error recovery, macro-made
  // functions) are few and adjacent.
  let misses = 0;
  for (let i = at; i >= 0 && misses < 16; i--) {
    const g = functions[i];
    if (rangeWithin(r, g.range)) out.push(g);
    else misses++;
  }
  return out;
}

/** True when `inner` lies inside `outer`. */
export function rangeWithin(inner: SourceRange, outer: SourceRange): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}
