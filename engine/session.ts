// Per-document incremental analysis: the engine-side piece the language server drives (and the
// bench measures). No LSP types here: positions are {line, character} in UTF-16 code units, which
// is both what LSP sends and what web-tree-sitter indexes JavaScript strings by (engine/ir.ts).
//
// What makes an edit cheap (clangd's shape, STYLE.md): the tree-sitter tree is kept and edited,
// so re-parsing is incremental; and findings are cached per function, keyed by the function's
// text plus the text of the same-file functions it calls (intra-file helper summaries: a release
// helper defined in the same file counts as a release, issue 2), so an edit inside one function
// re-runs the rules only on that function and on the functions that call it.

import { Edit, Parser } from 'web-tree-sitter';
import type { FileIR, FunctionIR, SourceRange } from './ir';
import type { Finding, InputProblem } from './findings';
import { sortAndDedupe, type Engine, type Tree } from './engine';
import { blankKernelMacros } from './syntax/macros';
import { lowerTree } from './lower/lower';
import { runRules } from './rules/run';

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
  /** The lowered file (C documents only): code lens, hover. */
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

/**
 * Parse with the engine's parser for the first tree of a document. The engine keeps its parser
 * private; analyzeC hands back the tree it made, which is what we need.
 */
function parseWithEngine(engine: Engine, blanked: string): Tree {
  const r = engine.analyzeC(blanked, { path: 'session.c', rules: [], cancelled: () => false });
  if (!r.tree) throw new Error('faultline: the engine returned no syntax tree');
  return r.tree;
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
  const point = (starts: number[], offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: offset - starts[lo] };
  };
  const oldEnd = oldText.length - suf;
  const newEnd = newText.length - suf;
  return new Edit({
    startIndex: pre,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: point(newStarts, pre),
    oldEndPosition: point(oldStarts, oldEnd),
    newEndPosition: point(newStarts, newEnd),
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
  /** Last analysis that used it (entries unused for a while are dropped). */
  used: number;
}

function shiftRange(r: SourceRange, dOffset: number, dRow: number): SourceRange {
  return { start: r.start + dOffset, end: r.end + dOffset, startRow: r.startRow + dRow, startCol: r.startCol, endRow: r.endRow + dRow, endCol: r.endCol };
}

function shiftFinding(f: Finding, dOffset: number, dRow: number): Finding {
  if (dOffset === 0 && dRow === 0) return f;
  const out: Finding = {
    ...f,
    range: shiftRange(f.range, dOffset, dRow),
    related: f.related.map((r) => ({ ...r, range: shiftRange(r.range, dOffset, dRow) })),
  };
  if (f.trace) out.trace = f.trace.map((t) => (t.range ? { ...t, range: shiftRange(t.range, dOffset, dRow) } : t));
  if (f.fixes) out.fixes = f.fixes.map((x) => ({ ...x, edits: x.edits.map((e) => ({ ...e, range: shiftRange(e.range, dOffset, dRow) })) }));
  return out;
}

/** Every range a finding carries. */
function rangesOf(f: Finding): SourceRange[] {
  const out = [f.range, ...f.related.map((r) => r.range)];
  for (const t of f.trace ?? []) if (t.range) out.push(t.range);
  for (const x of f.fixes ?? []) for (const e of x.edits) out.push(e.range);
  return out;
}

/** Same-file functions `fn` calls, transitively (their summaries feed `fn`'s findings). */
function calleeClosure(fn: FunctionIR, byName: Map<string, FunctionIR>, budget = 4096): FunctionIR[] {
  const seen = new Set<string>([fn.name]);
  const out: FunctionIR[] = [];
  const work = [fn];
  while (work.length && budget-- > 0) {
    const f = work.pop()!;
    for (const b of f.blocks)
      for (const s of b.stmts) {
        if (s.kind !== 'call' || seen.has(s.callee)) continue;
        const g = byName.get(s.callee);
        if (!g) continue;
        seen.add(s.callee);
        out.push(g);
        work.push(g);
      }
  }
  return out.sort((a, b) => a.range.start - b.range.start);
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
  private parser: Parser | undefined;
  private parsedBlanked: string | undefined;
  private parsedStarts: number[] | undefined;
  private cache = new Map<string, CacheEntry>();
  private outsideText: string | undefined;
  private runs = 0;
  /** How the last analysis went (tests and the bench look at it). */
  stats = { functions: 0, reanalyzed: 0, incrementalParse: false };

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
    this._edits++;
  }

  /** Free the tree-sitter tree (wasm memory is not garbage-collected promptly). */
  dispose(): void {
    this.tree?.delete();
    this.tree = undefined;
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
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - starts[lo] };
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
    const result = this.kind === 'patch' ? this.analyzePatch(cancelled) : this.analyzeC(cancelled);
    const out: SessionResult = { ...result, edits };
    if (!cancelled() && edits === this._edits) this.last = out;
    return out;
  }

  private analyzePatch(cancelled: () => boolean): Omit<SessionResult, 'edits'> {
    const r = this.engine.analyzePatch(this._text, { path: this.path, rules: this.options.rules, kernel: this.options.kernel, cancelled });
    return { findings: r.findings, problems: r.problems };
  }

  private parse(blanked: string): Tree {
    const newStarts = computeLineStarts(blanked);
    let old: Tree | undefined;
    if (this.tree && this.parser && this.parsedBlanked !== undefined && this.parsedStarts) {
      const edit = diffEdit(this.parsedBlanked, blanked, this.parsedStarts, newStarts);
      if (!edit) {
        this.stats.incrementalParse = true;
        return this.tree;
      }
      this.tree.edit(edit);
      old = this.tree;
    }
    let tree: Tree;
    if (this.parser) {
      tree = this.parser.parse(blanked, old ?? null) ?? this.parser.parse(blanked)!;
      this.stats.incrementalParse = old !== undefined;
    } else {
      // First parse: the engine's own parser (it loaded the grammar); later parses use ours,
      // made from the same language, so the kept tree and the parser always belong together.
      tree = parseWithEngine(this.engine, blanked);
      this.parser = new Parser();
      this.parser.setLanguage(tree.language);
      this.stats.incrementalParse = false;
    }
    if (this.tree && this.tree !== tree) this.tree.delete();
    this.tree = tree;
    this.parsedBlanked = blanked;
    this.parsedStarts = newStarts;
    return tree;
  }

  private analyzeC(cancelled: () => boolean): Omit<SessionResult, 'edits'> {
    const text = this._text;
    const blanked = blankKernelMacros(text);
    const tree = this.parse(blanked);
    const file = lowerTree(tree, blanked, { cancelled });
    const run = ++this.runs;

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
    if (outside !== this.outsideText) {
      this.cache.clear();
      this.outsideText = outside;
    }

    const byName = new Map<string, FunctionIR>();
    for (const fn of file.functions) if (!byName.has(fn.name)) byName.set(fn.name, fn);
    const findings: Finding[] = [];
    const stale: { fn: FunctionIR; key: string; absoluteKey: string }[] = [];
    for (const fn of file.functions) {
      const closure = calleeClosure(fn, byName);
      let key = `${fn.range.startCol}\u0000${functionText(text, fn)}`;
      for (const g of closure) key += `\u0001${g.name}\u0000${functionText(text, g)}`;
      const absoluteKey = [fn, ...closure].map((g) => g.range.start).join(',');
      const hit = this.cache.get(key);
      if (hit && (hit.absoluteKey === undefined || hit.absoluteKey === absoluteKey)) {
        hit.used = run;
        for (const f of hit.findings) findings.push(shiftFinding(f, fn.range.start, fn.range.startRow));
      } else {
        stale.push({ fn, key, absoluteKey });
      }
    }
    this.stats = { ...this.stats, functions: file.functions.length, reanalyzed: stale.length };

    if (stale.length) {
      // Run the rules on the stale functions plus the same-file functions they call (the rules
      // read helpers through ctx.functionsByName); findings in the helpers themselves come from
      // their own cache entries.
      const wanted = new Set<FunctionIR>();
      for (const st of stale) {
        wanted.add(st.fn);
        for (const g of calleeClosure(st.fn, byName)) wanted.add(g);
      }
      const subset: FileIR = stale.length === file.functions.length ? file : { ...file, functions: file.functions.filter((f) => wanted.has(f)) };
      const fresh = runRules(subset, text, { rules: this.options.rules, kernel: this.options.kernel, cancelled });
      if (!cancelled()) {
        for (const st of stale) {
          const mine = fresh.filter((f) => f.range.start >= st.fn.range.start && f.range.end <= st.fn.range.end);
          const outside = mine.some((f) => rangesOf(f).some((r) => !rangeWithin(r, st.fn.range)));
          this.cache.set(st.key, {
            findings: mine.map((f) => shiftFinding(f, -st.fn.range.start, -st.fn.range.startRow)),
            absoluteKey: outside ? st.absoluteKey : undefined,
            used: run,
          });
          findings.push(...mine);
        }
        // A finding outside every function (a file-scope check) is kept as is, never cached.
        for (const f of fresh) if (!file.functions.some((fn) => f.range.start >= fn.range.start && f.range.end <= fn.range.end)) findings.push(f);
      }
    }
    // Entries not used by this analysis describe text that is gone (or an older version of it).
    if (this.cache.size > file.functions.length * 2 + 64) for (const [k, e] of this.cache) if (e.used !== run) this.cache.delete(k);

    return { ...sortAndDedupe(findings), problems: [], file };
  }

  /**
   * Analyze, yielding to the event loop first so a newer edit can arrive and cancel this one (the
   * server's path). Resolves undefined when cancelled or superseded.
   */
  async analyzeAsync(cancelled: () => boolean = () => false): Promise<SessionResult | undefined> {
    const edits = this._edits;
    const stale = () => cancelled() || this._edits !== edits;
    await yieldToEventLoop();
    if (stale()) return undefined;
    const r = this.analyze(stale);
    return stale() ? undefined : r;
  }
}

/** setImmediate where there is one (Node); a zero timeout in a browser. */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise<void>((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Text of a function definition (cache key material). */
export function functionText(text: string, fn: FunctionIR): string {
  return text.slice(fn.range.start, fn.range.end);
}

/** True when `inner` lies inside `outer`. */
export function rangeWithin(inner: SourceRange, outer: SourceRange): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}
