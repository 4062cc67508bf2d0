// Analyze a patch: rebuild the post-image fragment of each patched .c/.h file, analyze it as C
// (through a callback, so this layer does not know how the engine is set up), and map each
// finding back to the patch text.
//
// Which findings a patch reports (reviewers want what the patch introduces, not old debt):
// a finding is kept when the function it is in contains at least one ADDED line, and none of
// its locations (primary or related) sits on a line we invented to make the fragment parse
// (a synthesized function head or brace). Findings in functions the patch only touches with
// context lines are dropped. When the function cannot be found by name, the finding is kept
// only if its primary line is an added line. With the tree (`readBase`, apply.ts) the whole
// patched file is analyzed, and so is the file before the patch: the patch then reports what it
// introduces (mapIntroduced), wherever that lands.

import type { FileIR, SourceRange } from '../ir';
import type { Finding, InputProblem, RelatedLocation } from '../findings';
import { parsePatchSet, type PatchSet } from './parse';
import type { Fragment, FragmentLine } from './fragments';
import { postImages, type BaseResolver } from './apply';

export interface CAnalysis {
  findings: Finding[];
  file?: FileIR;
}

/** Where a patch finding lands in the patched file (for "mm/gup.c:123" notes). */
export interface PatchTarget {
  path: string;
  /** 1-based line in the post-image file. */
  line: number;
  /** 1-based column (UTF-16 units). */
  column: number;
  /** 1-based index of the patch in a series (mbox), and its subject. */
  patchIndex: number;
  subject?: string;
}

export interface PatchAnalysis {
  findings: Finding[];
  /** Parallel to `findings`. */
  targets: PatchTarget[];
  problems: InputProblem[];
  set: PatchSet;
  fragments: Fragment[];
}

export interface PatchAnalyzeOptions {
  cancelled?: () => boolean;
  /** Files of the tree the patch applies to: analyze whole patched files instead of fragments. */
  readBase?: BaseResolver;
}

type Where = 'patch' | 'invented' | 'outside';

function whereOf(line: FragmentLine): Where {
  return line.kind === 'synthetic' || line.kind === 'gap' ? 'invented' : line.kind === 'base' ? 'outside' : 'patch';
}

function mapPoint(set: PatchSet, frag: Fragment, row: number, col: number): { row: number; col: number; offset: number; line: FragmentLine } | undefined {
  const line = frag.lines[row];
  if (!line) return undefined;
  const patchCol = line.patchCol + Math.min(col, line.text.length);
  const start = set.lineStarts[line.patchRow] ?? 0;
  return { row: line.patchRow, col: patchCol, offset: start + patchCol, line };
}

interface Mapped { range: SourceRange; where: Where; start: FragmentLine }

function rowRangeOf(set: PatchSet, line: FragmentLine, fromCol = 0): SourceRange {
  const start = set.lineStarts[line.patchRow] ?? 0;
  const a = line.patchCol + Math.min(fromCol, line.text.length);
  const b = line.patchCol + line.text.length;
  return { start: start + a, end: start + b, startRow: line.patchRow, startCol: a, endRow: line.patchRow, endCol: b };
}

function mapRange(set: PatchSet, frag: Fragment, r: SourceRange): Mapped | undefined {
  const a = mapPoint(set, frag, r.startRow, r.startCol);
  if (!a) return undefined;
  const where = whereOf(a.line);
  if (where !== 'patch') return { range: rowRangeOf(set, a.line), where, start: a.line };
  const b = mapPoint(set, frag, r.endRow, r.endCol);
  // A range that ends outside the patch text, on an invented line, or on a patch row before it
  // started (past a removed line) is clipped to the end of its first line.
  if (!b || whereOf(b.line) !== 'patch' || b.row < a.row) return { range: rowRangeOf(set, a.line, r.startCol), where, start: a.line };
  return {
    range: { start: a.offset, end: Math.max(a.offset, b.offset), startRow: a.row, startCol: a.col, endRow: b.row, endCol: b.col },
    where,
    start: a.line,
  };
}

function functionOf(file: FileIR | undefined, f: Finding) {
  return file?.functions.find((g) => g.name === f.function && g.range.startRow <= f.range.startRow && f.range.startRow <= g.range.endRow);
}

/** First added line of the function (0-based fragment row), or undefined when it has none. */
function firstAddedRow(frag: Fragment, fn: { range: SourceRange }): number | undefined {
  for (let r = fn.range.startRow; r <= fn.range.endRow && r < frag.lines.length; r++) {
    if (frag.lines[r].kind === 'added') return r;
  }
  return undefined;
}

/**
 * Rule messages cite lines ("taken at line 26"); in a fragment those are fragment rows, which
 * mean nothing to a reviewer. Rewrite them to the patched file's line numbers (the note under
 * each finding names the file), leaving lines we invented alone.
 */
export function fileLines(frag: Fragment, message: string): string {
  return message.replace(/\b(lines?) (\d+)\b/g, (m, word: string, n: string) => {
    const l = frag.lines[Number(n) - 1];
    return l && l.fileLine !== undefined && whereOf(l) !== 'invented' ? `${word} ${l.fileLine}` : m;
  });
}

/**
 * Map one finding of a post-image to the patch text, or undefined when the patch does not own
 * it. With a whole file (the tree was available), a finding whose primary line is outside the
 * hunks (the leaking `return` the patch did not touch) is anchored on the first added line of
 * its function; the note under it still names the real line. Related locations outside the
 * patch text are dropped (the message cites their lines).
 */
export function mapFinding(set: PatchSet, frag: Fragment, file: FileIR | undefined, f: Finding): { finding: Finding; target: PatchTarget } | undefined {
  let primary = mapRange(set, frag, f.range);
  if (!primary || primary.where === 'invented') return undefined;
  const fn = functionOf(file, f);
  const added = fn ? firstAddedRow(frag, fn) : undefined;
  if (fn && added === undefined) return undefined;
  if (!fn && primary.start.kind !== 'added') return undefined;
  const original = primary.start;
  if (primary.where === 'outside') {
    const line = frag.lines[added!];
    const indent = line.text.length - line.text.trimStart().length;
    primary = { range: rowRangeOf(set, line, indent), where: 'patch', start: line };
  }
  const related: RelatedLocation[] = [];
  for (const rl of f.related) {
    const m = mapRange(set, frag, rl.range);
    if (!m || m.where === 'invented') return undefined; // reasoning about code we invented
    if (m.where === 'outside') continue;
    related.push({ range: m.range, message: fileLines(frag, rl.message) });
  }
  const trace = f.trace?.map((s) => {
    if (!s.range) return s;
    const m = mapRange(set, frag, s.range);
    return m && m.where === 'patch' ? { ...s, range: m.range } : { ...s, range: undefined };
  });
  const fixes = f.fixes?.flatMap((fix) => {
    const edits = fix.edits.map((e) => ({ e, m: mapRange(set, frag, e.range) }));
    // A fix is an edit of the source file; in a patch it only makes sense on the added lines.
    if (edits.some(({ m }) => !m || m.where !== 'patch' || m.start.kind !== 'added')) return [];
    return [{ title: fix.title, edits: edits.map(({ e, m }) => ({ range: m!.range, newText: e.newText })) }];
  });
  const finding: Finding = { ...f, message: fileLines(frag, f.message), range: primary.range, related };
  if (trace) finding.trace = trace;
  if (fixes) finding.fixes = fixes;
  const target: PatchTarget = {
    path: frag.path,
    line: original.fileLine ?? 0,
    column: f.range.startCol + 1,
    patchIndex: frag.patchIndex + 1,
    subject: frag.patch.subject,
  };
  return { finding, target };
}

/**
 * Identity of a finding across the pre- and post-image: rule, function and message with the
 * numbers taken out (the patch moves lines).
 */
function findingIdentity(f: Finding): string {
  return `${f.rule}\u0000${f.function}\u0000${f.message.replace(/\d+/g, '#')}`;
}

/** The added line nearest (in file lines) to fragment row `row`, or undefined. */
function nearestAddedRow(frag: Fragment, row: number): number | undefined {
  let best: number | undefined;
  frag.lines.forEach((l, r) => {
    if (l.kind === 'added' && (best === undefined || Math.abs(r - row) < Math.abs(best - row))) best = r;
  });
  return best;
}

/**
 * Whole-file mode: keep what the patch introduces — post-image findings with no counterpart in
 * the pre-image (so old debt in a changed function is not blamed on the patch, and a bug the
 * patch causes in an unchanged caller is). A new finding in a function without added lines is
 * anchored on the nearest added line, and says where it really is.
 */
function mapIntroduced(set: PatchSet, frag: Fragment, post: CAnalysis, pre: CAnalysis): { finding: Finding; target: PatchTarget }[] {
  const before = new Map<string, number>();
  for (const f of pre.findings) before.set(findingIdentity(f), (before.get(findingIdentity(f)) ?? 0) + 1);
  const out: { finding: Finding; target: PatchTarget }[] = [];
  for (const f of post.findings) {
    const id = findingIdentity(f);
    const seen = before.get(id) ?? 0;
    if (seen > 0) { before.set(id, seen - 1); continue; }
    const m = mapFinding(set, frag, post.file, f);
    if (m) { out.push(m); continue; }
    const row = nearestAddedRow(frag, f.range.startRow);
    const line = row === undefined ? undefined : frag.lines[row];
    const original = frag.lines[f.range.startRow];
    if (!line || !original || original.kind === 'synthetic' || original.kind === 'gap') continue;
    const indent = line.text.length - line.text.trimStart().length;
    const where = original.fileLine !== undefined ? ` (at line ${original.fileLine} of ${frag.path}, in ${f.function}(), which this patch does not change)` : '';
    out.push({
      finding: { ...f, message: fileLines(frag, f.message) + where, range: rowRangeOf(set, line, indent), related: [], trace: undefined, fixes: undefined },
      target: { path: frag.path, line: original.fileLine ?? 0, column: f.range.startCol + 1, patchIndex: frag.patchIndex + 1, subject: frag.patch.subject },
    });
  }
  return out;
}

/** Parse and analyze a patch / mbox / diff. Never throws on bad input. */
export function analyzePatchText(text: string, analyzeC: (source: { text: string; path: string }) => CAnalysis, opts: PatchAnalyzeOptions = {}): PatchAnalysis {
  const set = parsePatchSet(text, { cancelled: opts.cancelled });
  const problems = [...set.problems];
  const fragments = postImages(set, opts.readBase ? { readBase: opts.readBase, cancelled: opts.cancelled } : undefined);
  const findings: Finding[] = [];
  const targets: PatchTarget[] = [];
  for (const frag of fragments) {
    if (opts.cancelled?.()) break;
    let res: CAnalysis;
    let pre: CAnalysis | undefined;
    try {
      res = analyzeC(frag);
      if (frag.whole && frag.preText !== undefined) pre = frag.preText === '' ? { findings: [] } : analyzeC({ text: frag.preText, path: frag.path });
    } catch (e) {
      // One fragment that trips the analysis must not hide the others' findings.
      problems.push({ severity: 'error', message: `analysis of ${frag.path} (patch ${frag.patchIndex + 1}) failed: ${(e as Error)?.message ?? e}` });
      continue;
    }
    const mapped = pre ? mapIntroduced(set, frag, res, pre) : res.findings.map((f) => mapFinding(set, frag, res.file, f));
    for (const m of mapped) if (m) { findings.push(m.finding); targets.push(m.target); }
  }
  return { findings, targets, problems, set, fragments };
}
