// Analyze a patch: rebuild the post-image fragment of each patched .c/.h file, analyze it as C
// (through a callback, so this layer does not know how the engine is set up), and map each
// finding back to the patch text.
//
// Which findings a patch reports (reviewers want what the patch introduces, not old debt):
// a finding is kept when the function it is in contains at least one ADDED line, and none of
// its locations (primary or related) sits on a line we invented to make the fragment parse
// (a synthesized function head or brace). Findings in functions the patch only touches with
// context lines are dropped. When the function cannot be found by name, the finding is kept
// only if its primary line is an added line.

import type { FileIR, SourceRange } from '../ir';
import type { Finding, InputProblem, RelatedLocation } from '../findings';
import { parsePatchSet, type PatchSet } from './parse';
import { postImageFragments, type Fragment, type FragmentLine } from './fragments';

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
}

function mapPoint(set: PatchSet, frag: Fragment, row: number, col: number): { row: number; col: number; offset: number; line: FragmentLine } | undefined {
  const line = frag.lines[row];
  if (!line) return undefined;
  const patchCol = line.patchCol + Math.min(col, line.text.length);
  const start = set.lineStarts[line.patchRow] ?? 0;
  return { row: line.patchRow, col: patchCol, offset: start + patchCol, line };
}

function mapRange(set: PatchSet, frag: Fragment, r: SourceRange): { range: SourceRange; synthetic: boolean; start: FragmentLine } | undefined {
  const a = mapPoint(set, frag, r.startRow, r.startCol);
  if (!a) return undefined;
  let b = mapPoint(set, frag, r.endRow, r.endCol);
  // A range that ends on an invented line (or on another patch row than it started, past a
  // removed line) is clipped to the end of its first line: the patch text is not contiguous.
  if (!b || b.line.kind === 'synthetic' || b.line.kind === 'gap' || b.row < a.row) {
    const endCol = a.line.patchCol + a.line.text.length;
    b = { row: a.row, col: endCol, offset: (set.lineStarts[a.row] ?? 0) + endCol, line: a.line };
  }
  const synthetic = a.line.kind === 'synthetic' || a.line.kind === 'gap';
  return {
    range: { start: a.offset, end: Math.max(a.offset, b.offset), startRow: a.row, startCol: a.col, endRow: b.row, endCol: b.col },
    synthetic,
    start: a.line,
  };
}

function functionHasAddedLine(file: FileIR | undefined, frag: Fragment, f: Finding): boolean | undefined {
  const fn = file?.functions.find((g) => g.name === f.function && g.range.startRow <= f.range.startRow && f.range.startRow <= g.range.endRow);
  if (!fn) return undefined;
  for (let r = fn.range.startRow; r <= fn.range.endRow && r < frag.lines.length; r++) {
    if (frag.lines[r].kind === 'added') return true;
  }
  return false;
}

/**
 * Rule messages cite lines ("taken at line 26"); in a fragment those are fragment rows, which
 * mean nothing to a reviewer. Rewrite them to the patched file's line numbers (the note under
 * each finding names the file), leaving lines we invented alone.
 */
export function fileLines(frag: Fragment, message: string): string {
  return message.replace(/\b(lines?) (\d+)\b/g, (m, word: string, n: string) => {
    const l = frag.lines[Number(n) - 1];
    return l && l.fileLine !== undefined && (l.kind === 'added' || l.kind === 'context') ? `${word} ${l.fileLine}` : m;
  });
}

/** Map one fragment finding to the patch text, or undefined when the patch does not own it. */
export function mapFinding(set: PatchSet, frag: Fragment, file: FileIR | undefined, f: Finding): { finding: Finding; target: PatchTarget } | undefined {
  const primary = mapRange(set, frag, f.range);
  if (!primary || primary.synthetic) return undefined;
  const inChangedFunction = functionHasAddedLine(file, frag, f);
  if (inChangedFunction === false) return undefined;
  if (inChangedFunction === undefined && primary.start.kind !== 'added') return undefined;
  const related: RelatedLocation[] = [];
  for (const rl of f.related) {
    const m = mapRange(set, frag, rl.range);
    if (!m || m.synthetic) return undefined; // reasoning about code we invented
    related.push({ range: m.range, message: rl.message });
  }
  const trace = f.trace?.map((s) => {
    if (!s.range) return s;
    const m = mapRange(set, frag, s.range);
    return m && !m.synthetic ? { ...s, range: m.range } : { ...s, range: undefined };
  });
  const fixes = f.fixes?.flatMap((fix) => {
    const edits = fix.edits.map((e) => ({ e, m: mapRange(set, frag, e.range) }));
    // A fix is an edit of the source file; in a patch it only makes sense on the added lines.
    if (edits.some(({ m }) => !m || m.synthetic || m.start.kind !== 'added')) return [];
    return [{ title: fix.title, edits: edits.map(({ e, m }) => ({ range: m!.range, newText: e.newText })) }];
  });
  const finding: Finding = { ...f, message: fileLines(frag, f.message), range: primary.range, related: related.map((r) => ({ ...r, message: fileLines(frag, r.message) })) };
  if (trace) finding.trace = trace;
  if (fixes) finding.fixes = fixes;
  const target: PatchTarget = {
    path: frag.path,
    line: primary.start.fileLine ?? 0,
    column: f.range.startCol + 1,
    patchIndex: frag.patchIndex + 1,
    subject: frag.patch.subject,
  };
  return { finding, target };
}

/** Parse and analyze a patch / mbox / diff. Never throws on bad input. */
export function analyzePatchText(text: string, analyzeC: (fragment: Fragment) => CAnalysis, opts: PatchAnalyzeOptions = {}): PatchAnalysis {
  const set = parsePatchSet(text, { cancelled: opts.cancelled });
  const problems = [...set.problems];
  const fragments = postImageFragments(set);
  const findings: Finding[] = [];
  const targets: PatchTarget[] = [];
  for (const frag of fragments) {
    if (opts.cancelled?.()) break;
    let res: CAnalysis;
    try {
      res = analyzeC(frag);
    } catch (e) {
      // One fragment that trips the analysis must not hide the others' findings.
      problems.push({ severity: 'error', message: `analysis of ${frag.path} (patch ${frag.patchIndex + 1}) failed: ${(e as Error)?.message ?? e}` });
      continue;
    }
    for (const f of res.findings) {
      const m = mapFinding(set, frag, res.file, f);
      if (m) { findings.push(m.finding); targets.push(m.target); }
    }
  }
  return { findings, targets, problems, set, fragments };
}
