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
//
// A series is judged in its final state (series.ts): each file's state after the last patch
// that touches it is analyzed, and a finding names the patch that introduced it — the first
// patch from which it is present in every later state. A finding a later patch fixes is absent
// from the final state and is not reported.
//
// Line numbers in messages: rules cite lines of what they analyzed ("taken at line 26"). A
// finding is shown on the patch text, so its message cites patch lines (the same numbers as its
// location); a line that is not in the patch is cited as "line N of FILE". The target (where the
// finding is in the patched file: checkpatch --showfile, SARIF) carries the same message with
// patched-file lines, agreeing with its own location.

import type { FileIR, SourceRange } from '../ir';
import type { Finding, InputProblem, RelatedLocation } from '../findings';
import { parsePatchSet, type PatchSet } from './parse';
import type { Fragment, FragmentLine } from './fragments';
import type { BaseResolver } from './apply';
import { seriesHistories, type FileHistory } from './series';
import { rowRange } from './lines';

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
  /** 1-based index of the patch in a series (mbox) that introduced the finding, and its subject. */
  patchIndex: number;
  subject?: string;
  /** The finding's message citing patched-file lines (agrees with `line`). */
  message?: string;
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

/** Did the patch change the code on this line (added it, or removed lines next to it)? */
const isChanged = (l: FragmentLine) => l.kind === 'added' || l.changed === true;

/** First changed line of the function (0-based fragment row), or undefined when it has none. */
function firstAddedRow(frag: Fragment, fn: { range: SourceRange }): number | undefined {
  for (let r = fn.range.startRow; r <= fn.range.endRow && r < frag.lines.length; r++) {
    if (isChanged(frag.lines[r])) return r;
  }
  return undefined;
}

const LINE_REF = /\b(lines?) (\d+)\b/g;

function outsidePatch(word: string): string {
  return word === 'line' ? 'a line outside the patch' : 'lines outside the patch';
}

/**
 * Rule messages cite lines of the text they analyzed ("taken at line 26"); in a fragment those
 * are fragment rows, which mean nothing to a reader. Rewrite them to the patched file's lines
 * (for the target, which points into that file); a line we invented is "a line outside the patch".
 */
export function fileLines(frag: Fragment, message: string): string {
  return message.replace(LINE_REF, (m, word: string, n: string) => {
    const l = frag.lines[Number(n) - 1];
    if (!l) return m;
    if (whereOf(l) === 'invented' || l.fileLine === undefined) return outsidePatch(word);
    return `${word} ${l.fileLine}`;
  });
}

/**
 * The same rewrite for a message shown on the patch text: lines of the patch (1-based rows of
 * the patch text, the numbering of the finding's own location); a line of the tree's file that
 * the patch does not show is "line N of FILE".
 */
export function patchLines(frag: Fragment, message: string): string {
  return message.replace(LINE_REF, (m, word: string, n: string) => {
    const l = frag.lines[Number(n) - 1];
    if (!l) return m;
    const where = whereOf(l);
    if (where === 'invented') return outsidePatch(word);
    if (where === 'patch') return `${word} ${l.patchRow + 1}`;
    return l.fileLine !== undefined ? `${word} ${l.fileLine} of ${frag.path}` : outsidePatch(word);
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
  if (!fn && !isChanged(primary.start)) return undefined;
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
    related.push({ range: m.range, message: patchLines(frag, rl.message) });
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
  const finding: Finding = { ...f, message: patchLines(frag, f.message), range: primary.range, related };
  if (trace) finding.trace = trace;
  if (fixes) finding.fixes = fixes;
  const target: PatchTarget = {
    path: frag.path,
    line: original.fileLine ?? 0,
    column: f.range.startCol + 1,
    patchIndex: frag.patchIndex + 1,
    subject: frag.patch.subject,
    message: fileLines(frag, f.message),
  };
  return { finding, target };
}

/**
 * Identity of a finding across the pre- and post-image and across the states of a series: rule,
 * function and message with the numbers taken out (patches move lines).
 */
function findingIdentity(f: Finding): string {
  return `${f.rule}\u0000${f.function}\u0000${f.message.replace(/\d+/g, '#')}`;
}

/** The added line nearest (in file lines) to fragment row `row`, or undefined. */
function nearestAddedRow(frag: Fragment, row: number): number | undefined {
  let best: number | undefined;
  frag.lines.forEach((l, r) => {
    if (isChanged(l) && (best === undefined || Math.abs(r - row) < Math.abs(best - row))) best = r;
  });
  return best;
}

interface MappedFinding { finding: Finding; target: PatchTarget; id: string }

/**
 * Whole-file mode: keep what the patch introduces — post-image findings with no counterpart in
 * the pre-image (so old debt in a changed function is not blamed on the patch, and a bug the
 * patch causes in an unchanged caller is). A new finding in a function without added lines is
 * anchored on the nearest added line, and says where it really is.
 */
function mapIntroduced(set: PatchSet, frag: Fragment, post: CAnalysis, pre: CAnalysis): MappedFinding[] {
  const before = new Map<string, number>();
  for (const f of pre.findings) before.set(findingIdentity(f), (before.get(findingIdentity(f)) ?? 0) + 1);
  const out: MappedFinding[] = [];
  for (const f of post.findings) {
    const id = findingIdentity(f);
    const seen = before.get(id) ?? 0;
    if (seen > 0) { before.set(id, seen - 1); continue; }
    const m = mapFinding(set, frag, post.file, f);
    if (m) { out.push({ ...m, id }); continue; }
    const row = nearestAddedRow(frag, f.range.startRow);
    const line = row === undefined ? undefined : frag.lines[row];
    const original = frag.lines[f.range.startRow];
    if (!line || !original || original.kind === 'synthetic' || original.kind === 'gap') continue;
    const indent = line.text.length - line.text.trimStart().length;
    const where = original.fileLine !== undefined ? ` (at line ${original.fileLine} of ${frag.path}, in ${f.function}(), which this patch does not change)` : '';
    out.push({
      finding: { ...f, message: patchLines(frag, f.message) + where, range: rowRangeOf(set, line, indent), related: [], trace: undefined, fixes: undefined },
      target: { path: frag.path, line: original.fileLine ?? 0, column: f.range.startCol + 1, patchIndex: frag.patchIndex + 1, subject: frag.patch.subject, message: fileLines(frag, f.message) },
      id,
    });
  }
  return out;
}

/** Fragment mode: the findings the patch owns (see the top of this file). */
function mapOwned(set: PatchSet, frag: Fragment, res: CAnalysis): MappedFinding[] {
  const out: MappedFinding[] = [];
  for (const f of res.findings) {
    const m = mapFinding(set, frag, res.file, f);
    if (m) out.push({ ...m, id: findingIdentity(f) });
  }
  return out;
}

function hunkHeader(set: PatchSet, text: string, row: number): string {
  const start = set.lineStarts[row] ?? 0;
  const end = set.lineStarts[row + 1] ?? text.length;
  const line = text.slice(start, end).replace(/\r?\n$/, '');
  const m = /^@@ [^@]*@@/.exec(line);
  return m ? m[0] : line;
}

/** Parse and analyze a patch / mbox / diff. Never throws on bad input. */
export function analyzePatchText(text: string, analyzeC: (source: { text: string; path: string }) => CAnalysis, opts: PatchAnalyzeOptions = {}): PatchAnalysis {
  const set = parsePatchSet(text, { cancelled: opts.cancelled });
  const problems = [...set.problems];
  const histories = seriesHistories(set, opts.readBase ? { readBase: opts.readBase, cancelled: opts.cancelled } : undefined);
  const findings: Finding[] = [];
  const targets: PatchTarget[] = [];
  const fragments: Fragment[] = [];
  const unanalyzable: string[] = [];
  for (const h of histories) {
    if (opts.cancelled?.()) break;
    const final = h.steps[h.steps.length - 1];
    fragments.push(final);
    for (const hunk of final.unanalyzed ?? []) {
      problems.push({
        severity: 'info',
        message: `could not analyze ${h.path} hunk ${hunkHeader(set, text, hunk.headerRow)}: its header names no function (a plain diff -u), so the function cannot be rebuilt from the hunk; pass --tree DIR (the kernel tree the patch applies to)`,
        range: rowRange(set.lineStarts, hunk.headerRow),
      });
    }
    if (!final.whole && (final.unanalyzed?.length ?? 0) >= (h.changedRuns ?? 0) && (final.unanalyzed?.length ?? 0) > 0) unanalyzable.push(h.path);
    let judged: { mapped: MappedFinding[]; introducedBy: (m: MappedFinding) => number };
    try {
      judged = judgeHistory(set, h, analyzeC, opts.cancelled);
    } catch (e) {
      // One file that trips the analysis must not hide the others' findings.
      problems.push({ severity: 'error', message: `analysis of ${h.path} (patch ${final.patchIndex + 1}) failed: ${(e as Error)?.message ?? e}` });
      continue;
    }
    for (const m of judged.mapped) {
      const index = judged.introducedBy(m);
      findings.push(m.finding);
      targets.push({ ...m.target, patchIndex: index + 1, subject: set.patches[index]?.subject });
    }
  }
  if (histories.length > 0 && unanalyzable.length === histories.length) {
    problems.push({
      severity: 'error',
      message: `could not analyze ${unanalyzable.join(', ')}: no changed hunk can be rebuilt into a function (the hunk headers name none, as in a plain diff -u); pass --tree DIR (the kernel tree the patch applies to), or use git diff / git format-patch`,
    });
  }
  return { findings, targets, problems, set, fragments };

}

/**
 * The findings of a file's final state, and for each the patch (0-based index) that introduced
 * it: the first patch after which it is present in every later state of the file.
 */
function judgeHistory(set: PatchSet, h: FileHistory, analyzeC: (source: { text: string; path: string }) => CAnalysis, cancelled?: () => boolean): { mapped: MappedFinding[]; introducedBy: (m: MappedFinding) => number } {
  const pre = h.preText === undefined ? undefined : h.preText === '' ? { findings: [] } : analyzeC({ text: h.preText, path: h.path });
  const judge = (frag: Fragment) => {
    const res = analyzeC(frag);
    return pre ? mapIntroduced(set, frag, res, pre) : mapOwned(set, frag, res);
  };
  const steps = h.steps;
  const last = steps[steps.length - 1].patchIndex;
  const mapped = judge(steps[steps.length - 1]);
  if (mapped.length === 0 || steps.length === 1) return { mapped, introducedBy: () => last };
  const present: Set<string>[] = steps.slice(0, -1).map((s) => new Set(cancelled?.() ? [] : judge(s).map((m) => m.id)));
  return {
    mapped,
    introducedBy: (m) => {
      let k = steps.length - 1;
      while (k > 0 && present[k - 1].has(m.id)) k--;
      return steps[k].patchIndex;
    },
  };
}
