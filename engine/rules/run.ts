// Runs the selected rules over every function of a file and applies in-source annotations
// (docs/annotations.md). A rule that throws on one function yields no finding for that pair plus
// an info-level `degraded` note: one broken check never takes the others down (STYLE.md,
// rust-analyzer: "a panic in one feature never takes down the server").

import type { FileIR, FunctionIR, SourceRange } from '../ir';
import type { Finding } from '../findings';
import type { Rule, RuleContext, RuleMeta } from './types';
import { allRules } from './registry';
import { functionForExpect, parseAnnotations, type Annotation } from './annotations';
import { budgetNote } from '../budget';
import { CheckReads, FunctionsByName, recordReads } from '../analysis/file-facts';

/** Findings about the annotations themselves (missing reason, unmet expectation). */
export const annotationMeta: RuleMeta = {
  id: 'annotation',
  severity: 'warning',
  title: 'Faultline annotation problem',
  docs: 'docs/annotations.md',
  description: 'A `@faultline suppress` without a reason, or a `@faultline expect` that does not match the findings of its function.',
};

/** Notes that a rule could not check a function (it threw); never an error. */
export const degradedMeta: RuleMeta = {
  id: 'degraded',
  severity: 'info',
  title: 'A check could not run on this function',
  docs: 'docs/annotations.md',
  description: 'A rule failed internally on this function; its findings for the function are missing.',
};

export interface RunOptions {
  rules?: string[];
  kernel?: string;
  cancelled?: () => boolean;
  /**
   * Check only these functions of `file` (the others still serve as same-file helpers through
   * ctx.functionsByName). Default: every function. Annotation problems are then reported for
   * annotations of these functions only, plus file-scope ones when `fileScope` is true.
   */
  only?: ReadonlySet<FunctionIR>;
  /** With `only`: also report annotation problems outside every function (default false). */
  fileScope?: boolean;
  /**
   * Filled with the function whose check produced each finding (rule findings, budget notes,
   * degraded notes; annotation problems have none). The session files a finding under its
   * producer: with nested extents (error recovery wrapping one function in another) the extent
   * that holds a finding is not the analysis that made it.
   */
  producers?: Map<Finding, FunctionIR>;
  /**
   * Filled with what each checked function's checks read beyond the function and its same-file
   * callees (engine/analysis/file-facts.ts): the session keys its cached findings on it.
   */
  reads?: Map<FunctionIR, CheckReads>;
}

/** One functionsByName per FileIR: the analyses memoise per map, so chunks of one run share it. */
const byNameOf = new WeakMap<FileIR, Map<string, FunctionIR>>();

/**
 * The file's functions by name as the rules see them (the first definition of a name wins).
 * `tracked`: a map that tells the read recorder what the checks look up (the session's; the first
 * call for a file decides). The CLI's is a plain Map: V8 keeps a plain Map's get() fast, and the
 * batch path records nothing.
 */
export function functionsByNameOf(file: FileIR, tracked = false): Map<string, FunctionIR> {
  let functionsByName = byNameOf.get(file);
  if (!functionsByName) {
    // The first definition of a name wins (a later one is a redefinition under another #ifdef).
    const first = new Map<string, FunctionIR>();
    for (const f of file.functions) if (!first.has(f.name)) first.set(f.name, f);
    functionsByName = tracked ? new FunctionsByName(first) : first;
    byNameOf.set(file, functionsByName);
  }
  return functionsByName;
}

/** Annotations and line starts of the last text seen (parsed once per text, not per chunk). */
let annotationCache: { text: string; annotations: Annotation[]; lines: string[]; lineStarts: number[] } | undefined;

function annotationsOf(text: string): { annotations: Annotation[]; lines: string[]; lineStarts: number[] } {
  if (annotationCache && annotationCache.text === text) {
    // Equal content in another string (the CLI's decoded copy, then the engine's): keep the
    // newer reference, so the next call (the session calls once per chunk of 8 functions) is an
    // identity hit instead of a comparison of the whole text (8 MB: 1,400 of them took 1.4 s).
    annotationCache.text = text;
    return annotationCache;
  }
  const annotations = parseAnnotations(text);
  let lines: string[] = [];
  const lineStarts: number[] = [];
  if (annotations.length) {
    lines = text.split('\n');
    let off = 0;
    for (const l of lines) {
      lineStarts.push(off);
      off += l.length + 1;
    }
  }
  annotationCache = { text, annotations, lines, lineStarts };
  return annotationCache;
}

function rowRange(row: number, col: number, length: number): SourceRange {
  return { start: 0, end: 0, startRow: row, startCol: col, endRow: row, endCol: col + length };
}

function withOffsets(r: SourceRange, lineStarts: number[]): SourceRange {
  const s = (lineStarts[r.startRow] ?? 0) + r.startCol;
  const e = (lineStarts[r.endRow] ?? 0) + r.endCol;
  return { ...r, start: s, end: e };
}

export function runRules(file: FileIR, text: string, opts: RunOptions = {}): Finding[] {
  const cancelled = opts.cancelled ?? (() => false);
  const selected: Rule[] = opts.rules && opts.rules.length ? allRules.filter((r) => opts.rules!.includes(r.meta.id)) : allRules;
  const functionsByName = functionsByNameOf(file, opts.reads !== undefined);
  const raw: Finding[] = [];
  const noted = new Set<string>();
  const ctx: RuleContext = {
    file,
    text,
    functionsByName,
    kernel: opts.kernel,
    cancelled,
    budgetHit(fn, analysis, bound) {
      const k = `${fn.name}\u0000${analysis}`;
      if (noted.has(k)) return;
      noted.add(k);
      raw.push(budgetNote(fn, analysis, bound));
    },
  };
  // `only` in its own order (callers pass file order): filtering the file per chunk is quadratic.
  const functions: Iterable<FunctionIR> = opts.only ?? file.functions;
  const producers = opts.producers;
  for (const fn of functions) {
    const from = raw.length;
    const reads = opts.reads ? new CheckReads({ byName: functionsByName, text, cancelled }) : undefined;
    const outer = reads ? recordReads(reads) : undefined;
    try {
      for (const rule of selected) {
        if (cancelled()) return raw;
        try {
          raw.push(...rule.check(fn, ctx));
        } catch (err) {
          raw.push({
            rule: degradedMeta.id,
            severity: degradedMeta.severity,
            message: `${rule.meta.id} could not check ${fn.name}(): ${err instanceof Error ? err.message : String(err)}`,
            range: fn.nameRange,
            function: fn.name,
            related: [],
          });
        }
      }
    } finally {
      if (reads) recordReads(outer);
    }
    if (reads) opts.reads!.set(fn, reads);
    if (producers) for (let i = from; i < raw.length; i++) producers.set(raw[i], fn);
  }
  const scope = opts.only ? { only: opts.only, fileScope: opts.fileScope === true } : undefined;
  return applyAnnotations(raw, file, text, selected.map((r) => r.meta.id), scope);
}

function applyAnnotations(findings: Finding[], file: FileIR, text: string, ranRules: string[], scope?: { only: ReadonlySet<FunctionIR>; fileScope: boolean }): Finding[] {
  const { annotations, lines, lineStarts } = annotationsOf(text);
  if (!annotations.length) return sortFindings(findings);
  // Whether an annotation problem belongs to this run (see RunOptions.only): to the functions
  // whose extent holds its range (as the session files findings), else to the file scope.
  const mine = (range: SourceRange): boolean => {
    if (!scope) return true;
    let owned = false;
    for (const fn of file.functions) {
      if (range.start < fn.range.start || range.end > fn.range.end) continue;
      if (scope.only.has(fn)) return true;
      owned = true;
    }
    return !owned && scope.fileScope;
  };
  const out: Finding[] = [];
  const suppressions = annotations.filter((a) => a.kind === 'suppress');
  for (const f of findings) {
    const row = f.range.startRow;
    const hit = suppressions.some((s) => (s.row === row || s.row === row - 1) && s.rules.includes(f.rule));
    if (!hit) out.push(f);
  }
  const fnAt = (row: number): FunctionIR | undefined => file.functions.find((fn) => fn.range.startRow <= row && row <= fn.range.endRow);
  for (const s of suppressions) {
    if (s.reason || !mine(withOffsets(rowRange(s.row, s.col, s.length), lineStarts))) continue;
    out.push({
      rule: annotationMeta.id,
      severity: annotationMeta.severity,
      message: `\`@faultline suppress ${s.rules.join(',')}\` has no reason; write \`@faultline suppress ${s.rules.join(',') || '<rule-id>'}: <why this is safe>\``,
      range: withOffsets(rowRange(s.row, s.col, s.length), lineStarts),
      function: fnAt(s.row)?.name ?? '',
      related: [],
    });
  }
  for (const a of annotations) {
    if (a.kind !== 'expect') continue;
    const fn = functionForExpect(a, file.functions, lines);
    const range = withOffsets(rowRange(a.row, a.col, a.length), lineStarts);
    // An `expect` belongs to the function it describes (often the one just below the comment,
    // so outside its extent): checked in the run that has that function's findings, never in
    // the file-scope pass.
    if (scope ? (fn ? !scope.only.has(fn) : !mine(range)) : false) continue;
    if (!fn) {
      out.push({ rule: annotationMeta.id, severity: annotationMeta.severity, message: '`@faultline expect` is not at the top of a function', range, function: '', related: [] });
      continue;
    }
    const expected = new Set(a.rules.filter((r) => ranRules.includes(r)));
    const found = new Set(out.filter((f) => f.function === fn.name && ranRules.includes(f.rule)).map((f) => f.rule));
    const same = expected.size === found.size && [...expected].every((r) => found.has(r));
    if (same) continue;
    const exp = expected.size ? [...expected].sort().join(', ') : 'clean';
    const got = found.size ? [...found].sort().join(', ') : 'no findings';
    out.push({
      rule: annotationMeta.id,
      severity: annotationMeta.severity,
      message: `${fn.name}(): expected ${exp}, found ${got}`,
      range,
      function: fn.name,
      related: [],
    });
  }
  return sortFindings(out);
}

function sortFindings(f: Finding[]): Finding[] {
  return f.sort((a, b) => a.range.startRow - b.range.startRow || a.range.startCol - b.range.startCol || a.rule.localeCompare(b.rule));
}
