// Runs the selected rules over every function of a file and applies in-source annotations
// (docs/annotations.md). A rule that throws on one function yields no finding for that pair plus
// an info-level `degraded` note: one broken check never takes the others down (STYLE.md,
// rust-analyzer: "a panic in one feature never takes down the server").

import type { FileIR, FunctionIR, SourceRange } from '../ir';
import type { Finding } from '../findings';
import type { Rule, RuleContext, RuleMeta } from './types';
import { allRules } from './registry';
import { functionForExpect, parseAnnotations, type Annotation } from './annotations';

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
  const ctx: RuleContext = {
    file,
    text,
    functionsByName: new Map(file.functions.map((f) => [f.name, f] as const)),
    kernel: opts.kernel,
    cancelled,
  };
  const raw: Finding[] = [];
  for (const fn of file.functions) {
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
  }
  return applyAnnotations(raw, file, text, selected.map((r) => r.meta.id));
}

function applyAnnotations(findings: Finding[], file: FileIR, text: string, ranRules: string[]): Finding[] {
  const annotations: Annotation[] = parseAnnotations(text);
  if (!annotations.length) return sortFindings(findings);
  const lines = text.split('\n');
  const lineStarts: number[] = [];
  let off = 0;
  for (const l of lines) {
    lineStarts.push(off);
    off += l.length + 1;
  }
  const out: Finding[] = [];
  const suppressions = annotations.filter((a) => a.kind === 'suppress');
  for (const f of findings) {
    const row = f.range.startRow;
    const hit = suppressions.some((s) => (s.row === row || s.row === row - 1) && s.rules.includes(f.rule));
    if (!hit) out.push(f);
  }
  const fnAt = (row: number): FunctionIR | undefined => file.functions.find((fn) => fn.range.startRow <= row && row <= fn.range.endRow);
  for (const s of suppressions) {
    if (s.reason) continue;
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
