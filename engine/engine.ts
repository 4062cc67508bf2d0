// The one facade the CLI and the language server call (ARCHITECTURE.md: "two thin faces of the
// same engine: the same input gives the same findings in both"). Text in, findings out; no fs,
// no editor types.

import { Edit } from 'web-tree-sitter';
import type { FileIR } from './ir';
import type { Finding, InputProblem } from './findings';
import { bracketDepth, loadCParser, MAX_PARSE_TOKENS, nestingLimit, parserReady, parseTokenCount, ParseStopped, type CParser, type ParseLimits, type SyntaxNode, type Tree } from './syntax/parser';
import { budgetNote } from './budget';
import { blankIrrelevant, rangesOutside, unblanked, type Blanked, type KeptItem } from './syntax/blank-irrelevant';
import { unaccountedFunction, type IdentifierMemo, type RelevanceOutcome } from './syntax/relevance-graph';
import { blankKernelMacros } from './syntax/macros';
import { lowerTree } from './lower/lower';
import { treeSitterLineStarts, treeSitterPoint } from './line-starts';
import { FILE_SCOPE_BLOCKS } from './lower/syntax-tree';
import { runRules } from './rules/run';
import { fileRelevance, textMayReport } from './rules/rule-relevance';
import { mentionsAnnotation } from './rules/annotations';
import { analyzePatchText, type PatchTarget } from './patch/analyze';
import { looksLikePatch } from './patch/parse';

export type { Tree } from './syntax/parser';
export type { PatchTarget } from './patch/analyze';

export interface AnalyzeOptions {
  /** Path or URI of the document; its extension picks C or patch in `analyze()`. */
  path: string;
  /** Rule ids to run (default: all). */
  rules?: string[];
  /** Architecture profile name, or 'all' (default): findings tied to another profile are dropped. */
  arch?: string;
  /** Kernel version the code targets (`v6.1`). */
  kernel?: string;
  cancelled?: () => boolean;
  /** The previous tree of this document, already `edit()`ed, for an incremental parse (C only). */
  oldTree?: Tree | null;
  /**
   * Patch only: text of a file of the tree the patch applies to (path relative to its root), or
   * undefined. When given, patched files are analyzed whole (hunks applied to the base file, or
   * found already applied) instead of as fragments rebuilt from the hunks.
   */
  readBase?: (path: string) => string | undefined;
  /**
   * Batch use (`faultline check`), C input only (a patch's fragments are lowered whole): do
   * not lower functions that cannot produce a finding (engine/rules/relevance.ts); they are
   * absent from `file`. Findings are the same. The language server keeps the default (false):
   * hovers and lenses need every function.
   */
  skipIrrelevant?: boolean;
}

export interface AnalysisResult {
  findings: Finding[];
  problems: InputProblem[];
  /** The syntax tree of C input (keep it for the next incremental parse). */
  tree?: Tree;
  /** The lowered IR of C input. */
  file?: FileIR;
  /** Patch input: where each finding lands in the patched file (parallel to `findings`). */
  targets?: PatchTarget[];
  /** Patch input: how many patches (mails) the input holds; more than one is a series. */
  patches?: number;
  /** What the text was analyzed as. */
  kind: 'c' | 'patch';
}

export interface Engine {
  /** Analyze C source (a .c or .h file). */
  analyzeC(text: string, opts: AnalyzeOptions): AnalysisResult;
  /** Analyze a patch / mbox / diff; findings are positioned in the PATCH text. */
  analyzePatch(text: string, opts: AnalyzeOptions): AnalysisResult;
  /** Dispatch on the extension (.c/.h → C; .patch/.diff/.mbox/.eml → patch), else sniff the text. */
  analyze(text: string, opts: AnalyzeOptions): AnalysisResult;
  /**
   * Resolves when the parser can be used: after a failure inside the wasm parser (an abort: one
   * input reported as an internal error), a fresh instance is loaded; await this before the next
   * input (the CLI between files, the server before each analysis).
   */
  ready(): Promise<void>;
}

const C_EXT = /\.(c|h)$/i;
const PATCH_EXT = /\.(patch|diff|mbox|mbx|eml)$/i;

/** What a path's extension says the input is (.c/.h → C; .patch/.diff/.mbox/.eml → patch), if anything. */
export function kindOfExtension(path: string): 'c' | 'patch' | undefined {
  if (C_EXT.test(path)) return 'c';
  if (PATCH_EXT.test(path)) return 'patch';
  return undefined;
}

/** Which way `analyze()` goes for this path and text. */
export function inputKindOf(path: string, text: string): 'c' | 'patch' {
  return kindOfExtension(path.replace(/[?#].*$/, '')) ?? (looksLikePatch(text) ? 'patch' : 'c');
}

function compareFindings(a: Finding, b: Finding): number {
  return a.range.start - b.range.start || a.range.startRow - b.range.startRow || a.range.startCol - b.range.startCol ||
    a.range.end - b.range.end || a.rule.localeCompare(b.rule) || a.message.localeCompare(b.message);
}

function findingKey(f: Finding): string {
  return `${f.rule}\u0000${f.range.startRow}:${f.range.startCol}-${f.range.endRow}:${f.range.endCol}\u0000${f.message}`;
}

/** Sort by position, drop exact duplicates (same rule, range and message); keeps `targets` parallel. */
export function sortAndDedupe(findings: Finding[], targets?: PatchTarget[]): { findings: Finding[]; targets?: PatchTarget[] } {
  const idx = findings.map((_, i) => i).sort((i, j) => compareFindings(findings[i], findings[j]) || i - j);
  const seen = new Set<string>();
  const outF: Finding[] = [];
  const outT: PatchTarget[] = [];
  for (const i of idx) {
    const k = findingKey(findings[i]);
    if (seen.has(k)) continue;
    seen.add(k);
    outF.push(findings[i]);
    if (targets) outT.push(targets[i]);
  }
  return targets ? { findings: outF, targets: outT } : { findings: outF };
}

/** The lowering of a text that could not be parsed: no function. */
function EMPTY_FILE(): FileIR {
  return { functions: [], globals: [], syntaxErrors: [] };
}

/**
 * Whether batch mode blanks irrelevant functions before the parse (the parser then skips them
 * through included ranges); a switch for the bench, which measures the shortcut against its
 * absence. Findings must be the same either way.
 */
export const BLANK_IRRELEVANT = { enabled: true };

/**
 * Batch analyses redone on the whole text because a relevance filter left out an item that names
 * a function its graph did not know (runC); tests and the bench read it.
 */
export const batchFallbacks = { count: 0 };

/**
 * Batch parses redone on the whole text because the blanked text's tree had an error outside the
 * kept functions (parseForBatch, errorsStayInside); tests and measurements read it.
 */
export const batchReparses = { count: 0 };

/**
 * Whether every syntax error of a batch tree lies inside a top-level item the scan kept whole and
 * found balanced (blankIrrelevant's keptItems: a function definition with no preprocessor line
 * inside, a macro-made one such as `SYSCALL_DEFINE3(...) { ... }`, or a declaration such as an
 * ops table, `#ifdef`'d members and all), at file scope or in a file-scope `#if`/`#ifdef` block, with
 * the tree's nodes there lying within that item's extent and one of them ending at its end (its
 * closing `}` or `;`). Kernel code is full of such errors (a loop macro the grammar does not know,
 * `list_for_each_entry(...) {`, an initializer with `#ifdef`'d members, the missing `;` the
 * grammar sees after `BPF_CALL_3(...)`): about half of the files that name an API have one, and
 * parsing each of them a second time, whole, was half of the parse time. An error that stays
 * inside a balanced item whose tree ends at the item's own end did not reach into the blanked
 * neighbours, which are the only difference from the whole text; anything else (an ERROR or
 * MISSING node at the top level, a node that runs past its item or into another one, an item the
 * scan found unbalanced or odd, a function with `#if` inside) still parses the whole text.
 * Checked node for node: on the 230 relevant Linux 6.1 files that take this path, every node
 * outside the blanked items is the same as in the whole-text parse.
 */
function errorsStayInside(tree: Tree, keptItems: readonly KeptItem[]): boolean {
  return siblingsStayInside(tree.rootNode.children, keptItems, 0);
}

/**
 * Batch parses that went to the whole text at once (wholeParseCheaper); tests and measurements
 * read it.
 */
export const batchWholeFirst = { count: 0 };

/**
 * The share of the items errorsStayInside cannot vouch for (Blanked.unsure: a function with
 * `#if` inside, an unbalanced item) that tree-sitter parses without a syntax error: on the
 * relevant files of Linux 6.1, 1,050 of 1,169 (958 of 1,070 functions with a preprocessor line
 * inside, 92 of 99 unbalanced items). An error in any one of them costs the blanked parse and
 * then the whole one.
 */
const UNSURE_CLEAN_SHARE = 0.9;

/**
 * Whether parsing the whole text at once is expected to cost less than parsing the blanked text
 * first. Parse time goes with the characters read: the blanked parse reads the kept share `k` of
 * the text and is followed by the whole parse (1) when one of `unsure` items has an error, with
 * probability 1 - q^unsure; so the blanked parse is expected to cost k + 1 - q^unsure, more than
 * the whole parse's 1 when k > q^unsure. Both ways give the same tree for what is analysed (the
 * whole text's; the blanked one only when it is known to be the same): only the time differs. On
 * Linux 6.1 this parses 103 of the 672 relevant files whole at once (60 of the 156 that went
 * back to the whole text, 43 that did not) and parsing takes 4.5 s instead of 5.7 s.
 */
function wholeParseCheaper(length: number, gaps: readonly [number, number][], unsure: number): boolean {
  if (unsure === 0 || length === 0) return false;
  let skipped = 0;
  for (const [s, e] of gaps) skipped += e - s;
  return (length - skipped) / length > UNSURE_CLEAN_SHARE ** unsure;
}

/** Nesting of preprocessor blocks looked into; deeper, the whole text is parsed. */
const MAX_PREPROC_DEPTH = 32;

/**
 * One list of top-level nodes (the file's, or a file-scope `#if`/`#ifdef` block's, or its
 * `#else`/`#elif` branch's: an item under `#ifdef CONFIG_X` is as much a balanced item of the
 * scan as one outside it; the block's own tokens, a missing `#endif` included, count as errors
 * outside). Each node with an error must start inside a kept item, and every node from the
 * first that reaches into that item to the one that ends at its end must lie within it. An
 * ERROR node is never vouched for: it is the recovery itself.
 */
function siblingsStayInside(children: readonly (SyntaxNode | null)[], keptItems: readonly KeptItem[], depth: number): boolean {
  const nodes = children.filter((c): c is SyntaxNode => c !== null);
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k];
    if (!node.hasError) continue;
    if (node.isMissing || node.type === 'ERROR') return false;
    if (FILE_SCOPE_BLOCKS.has(node.type)) {
      if (depth >= MAX_PREPROC_DEPTH || !siblingsStayInside(node.children, keptItems, depth + 1)) return false;
      continue;
    }
    const item = itemAt(keptItems, node.startIndex);
    if (!item) return false;
    // Back to the first node that reaches into the item, on to the one that ends at its end.
    let j = k;
    while (j > 0 && nodes[j - 1].endIndex > item.start) j--;
    if (nodes[j].startIndex < item.start) return false;
    let closed = false;
    for (; j < nodes.length && nodes[j].startIndex < item.end; j++) {
      if (nodes[j].endIndex > item.end) return false;
      if (nodes[j].endIndex === item.end) { closed = true; break; }
    }
    if (!closed) return false;
  }
  return true;
}

/** The kept item whose extent holds `offset` (items are in text order and disjoint). */
function itemAt(items: readonly KeptItem[], offset: number): KeptItem | undefined {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const it = items[mid];
    if (offset < it.start) hi = mid - 1;
    else if (offset >= it.end) lo = mid + 1;
    else return it;
  }
  return undefined;
}

function archFilter(arch: string | undefined): (f: Finding) => boolean {
  if (!arch || arch === 'all') return () => true;
  return (f) => !f.arch || f.arch === arch;
}

class FaultlineEngine implements Engine {
  constructor(private readonly parser: CParser) {}

  private runC(text: string, opts: AnalyzeOptions, oldTree?: Tree | null, skipIrrelevant = false): { findings: Finding[]; tree?: Tree; file: FileIR } {
    const cancelled = opts.cancelled ?? (() => false);
    // Blanking keeps every offset (kernel annotations become spaces), so positions in the tree
    // and the IR are positions in `text`.
    // `@faultline` annotations (expect/suppress) are matched against the file's functions, so a
    // file that has any is lowered whole.
    // Per rule (engine/rules/rule-relevance.ts): the rules that can report on this text, and the
    // names that make a function relevant to one of them. No rule can: nothing to parse.
    const relevance = skipIrrelevant && !mentionsAnnotation(text) ? fileRelevance(text, opts.rules) : undefined;
    if (relevance && !relevance.rules.length) return { findings: [], file: EMPTY_FILE() };
    const relevantApis = relevance?.relevantApis;
    const macrosBlanked = blankKernelMacros(text);
    // The token and nesting bounds are decided on the whole text (a blanked copy has fewer), as
    // the engine and the server parse it; counted once for both parses, and only when the text is
    // long enough to pass them.
    const nesting = nestingLimit();
    const limits: ParseLimits = {
      cancelled,
      tokens: macrosBlanked.length > MAX_PARSE_TOKENS ? parseTokenCount(macrosBlanked, MAX_PARSE_TOKENS) : undefined,
      nesting: macrosBlanked.length > nesting ? bracketDepth(macrosBlanked, nesting) : 0,
    };
    let parsed: { tree: Tree; text: string; outcome?: RelevanceOutcome; identifierMemo?: IdentifierMemo };
    let file: FileIR;
    try {
      parsed = this.parseForBatch(macrosBlanked, relevantApis, oldTree, limits);
      const outcomes: RelevanceOutcome[] = parsed.outcome ? [parsed.outcome] : [];
      file = lowerTree(parsed.tree, parsed.text, { cancelled, relevantApis, relevanceReport: (o) => outcomes.push(o), identifierMemo: parsed.identifierMemo });
      // The relevance filters work on a graph of top-level items; a function they did not see
      // (nested in another by a missing `}`, made by a macro) that a left-out item names means
      // the left-out item may have mattered: analyse the whole text, as the server does.
      if (outcomes.some((o) => unaccountedFunction(o, file.functions, parsed.text) !== undefined)) {
        batchFallbacks.count++;
        parsed.tree.delete();
        parsed = this.parseWhole(macrosBlanked, limits);
        file = lowerTree(parsed.tree, parsed.text, { cancelled });
      }
    } catch (e) {
      // A parse stopped at its bound: nothing of the file is analysed, and the user is told.
      if (e instanceof ParseStopped) return { findings: e.reason === 'cancelled' || !textMayReport(text, opts.rules) ? [] : [budgetNote(undefined, 'Parsing', e.bound)], file: EMPTY_FILE() };
      throw e;
    }
    const findings = runRules(file, text, { rules: relevance ? relevance.rules : opts.rules, kernel: opts.kernel, cancelled });
    return { findings, tree: parsed.tree, file };
  }

  /**
   * In batch mode, functions that cannot report are blanked before the parse as well (offsets
   * unchanged; engine/syntax/blank-irrelevant.ts); lowering's own filter catches the rest. The
   * shortcut must never change a result (ARCHITECTURE.md: the CLI and the server give the same
   * findings): tree-sitter's error recovery near broken code depends on what surrounds it, so
   * when the blanked text does not parse cleanly the whole text is parsed instead, and the
   * blanking pass itself only removes items that are balanced in every bracket kind.
   */
  private parseForBatch(macrosBlanked: string, relevantApis: ReadonlySet<string> | undefined, oldTree: Tree | null | undefined, limits: ParseLimits): { tree: Tree; text: string; outcome?: RelevanceOutcome; identifierMemo?: IdentifierMemo } {
    const blanked = relevantApis && BLANK_IRRELEVANT.enabled ? blankIrrelevant(macrosBlanked, relevantApis) : unblanked(macrosBlanked);
    // Whichever text is parsed, its kept items are the scan's characters: the tree filter reads
    // their identifiers from the scan's memo.
    return { ...this.parseBlanked(macrosBlanked, blanked, oldTree, limits), identifierMemo: blanked.codeIds };
  }

  /** The tree parseForBatch analyses: the blanked text's, or the whole text's (see there). */
  private parseBlanked(macrosBlanked: string, b: Blanked, oldTree: Tree | null | undefined, limits: ParseLimits): { tree: Tree; text: string; outcome?: RelevanceOutcome } {
    const { text: blanked, gaps, blankedRanges, keptItems, outcome, unsure } = b;
    // Likely to end in the whole-text parse anyway: parse that first, and only once.
    if (blanked !== macrosBlanked && !oldTree && wholeParseCheaper(macrosBlanked.length, gaps, unsure)) {
      batchWholeFirst.count++;
      return this.parseWhole(macrosBlanked, limits);
    }
    // The blanked functions' insides are not even read: the parser is given the rest as its
    // included ranges (offsets, rows and columns stay absolute). Only blanks are skipped and each
    // range ends on a blank, so the tokens, and the tree, are those of the blanked text (about a
    // third of the parse time was the lexer walking those blanks). Not with an old tree: an
    // incremental parse keeps to the whole text.
    const ranged = gaps.length && !oldTree;
    const tree = this.parser.parse(blanked, oldTree ?? null, ranged ? { limits, includedRanges: rangesOutside(blanked, gaps) } : { limits });
    if (blanked === macrosBlanked || !tree.rootNode.hasError || errorsStayInside(tree, keptItems)) return { tree, text: blanked, outcome };
    batchReparses.count++;
    if (oldTree) {
      tree.delete();
      return this.parseWhole(macrosBlanked, limits);
    }
    return this.reparseWhole(tree, macrosBlanked, blankedRanges, limits);
  }

  /**
   * The whole text's tree, parsed again from the blanked text's (`blankedTree`, deleted here):
   * each blanked item is an edit of the same length (blanking keeps every offset and row), so
   * tree-sitter parses the restored items and whatever the edits, the errors and the included
   * ranges that changed touch, and reuses the rest of the old tree (the kept functions) where it
   * is valid in the same parse state. Tree-sitter's incremental parse gives the tree a parse
   * from scratch gives; checked node for node (type, field, extent) on every Linux 6.1 file that
   * takes this path. On those 96 files of 6.1: 1.12 s for the parses from scratch, 0.86 s now.
   */
  private reparseWhole(blankedTree: Tree, macrosBlanked: string, blankedRanges: readonly [number, number][], limits: ParseLimits): { tree: Tree; text: string } {
    try {
      const starts = treeSitterLineStarts(macrosBlanked);
      for (const [start, end] of blankedRanges) {
        const from = treeSitterPoint(starts, start);
        const to = treeSitterPoint(starts, end);
        blankedTree.edit(new Edit({ startIndex: start, oldEndIndex: end, newEndIndex: end, startPosition: from, oldEndPosition: to, newEndPosition: to }));
      }
      return { tree: this.parser.parse(macrosBlanked, blankedTree, { limits }), text: macrosBlanked };
    } finally {
      blankedTree.delete();
    }
  }

  /** The whole (macro-blanked) text's tree, as the language server parses it. */
  private parseWhole(macrosBlanked: string, limits: ParseLimits): { tree: Tree; text: string } {
    return { tree: this.parser.parse(macrosBlanked, null, { limits }), text: macrosBlanked };
  }

  analyzeC(text: string, opts: AnalyzeOptions): AnalysisResult {
    const { findings, tree, file } = this.runC(text, opts, opts.oldTree, opts.skipIrrelevant === true);
    const keep = archFilter(opts.arch);
    return { ...sortAndDedupe(findings.filter(keep)), problems: [], tree, file, kind: 'c' };
  }

  analyzePatch(text: string, opts: AnalyzeOptions): AnalysisResult {
    const res = analyzePatchText(text, (frag) => {
      const r = this.runC(frag.text, opts, null);
      // Fragments are throwaway; free the wasm memory now rather than at GC time.
      r.tree?.delete();
      return { findings: r.findings, file: r.file };
    }, { cancelled: opts.cancelled, readBase: opts.readBase });
    const keep = archFilter(opts.arch);
    const findings: Finding[] = [];
    const targets: PatchTarget[] = [];
    res.findings.forEach((f, i) => { if (keep(f)) { findings.push(f); targets.push(res.targets[i]); } });
    const sorted = sortAndDedupe(findings, targets);
    return { findings: sorted.findings, targets: sorted.targets, problems: res.problems, kind: 'patch', patches: res.set.patches.length };
  }

  ready(): Promise<void> {
    return parserReady();
  }

  analyze(text: string, opts: AnalyzeOptions): AnalysisResult {
    return inputKindOf(opts.path, text) === 'patch' ? this.analyzePatch(text, opts) : this.analyzeC(text, opts);
  }
}

/** Load the parser (once per process) and return an engine. */
export async function createEngine(opts?: { wasmDir?: string }): Promise<Engine> {
  const parser = await loadCParser(opts);
  return new FaultlineEngine(parser);
}
