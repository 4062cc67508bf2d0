// A patch series (an mbox of several patches, `b4 am` output) is judged in its final state, as
// a reviewer merges it: each patched .c/.h file is followed through the series, and its state
// after every patch that touches it is kept (a "history"). The last state is what gets
// reported; the earlier ones tell which patch introduced a finding (the first patch from which
// it stays present to the end). A finding a later patch fixes is absent from the final state and
// so is never reported.
//
// Two ways to hold a file's state:
// - with the tree (`readBase`): the whole file, each patch's hunks applied in order to the
//   previous state (apply.ts), the file before the series kept for "what did it introduce";
// - without it: only the lines the patches show (context and added), keyed by their line number
//   in the current state. Each patch moves the known lines the way its hunks say and replaces
//   those its hunks cover; what remains is a sparse picture of the final file, cut into runs of
//   consecutive lines and rebuilt into analyzable C like a single patch's hunks (fragments.ts).
//
// A line an earlier patch added keeps pointing at that patch's `+` line when a later patch shows
// it as context, so a finding on it is shown where it was written.

import type { FilePatch, Hunk, HunkLine, Patch, PatchSet } from './parse';
import { fragmentOf, isCPath, type Fragment, type FragmentLine } from './fragments';
import { applyHunksToLines, baseLine, looksApplied, mapApplied, unapply, type BaseResolver } from './apply';
import { splitLines } from './lines';

/** One file through a series: its state after each patch that touched it. */
export interface FileHistory {
  /** Path in the final state. */
  path: string;
  /** Post-images after each patch that touched the file, in series order; the last is final. */
  steps: Fragment[];
  /** Whole files only: the file before the series ('' when the series creates it). */
  preText?: string;
  /** Fragments only: how many runs of the final state change code (added lines). */
  changedRuns?: number;
}

export interface HistoryOptions {
  readBase: BaseResolver;
  /** How many lines a hunk may have moved from where its header says. */
  fuzz?: number;
  cancelled?: () => boolean;
}

/** A line of the sparse picture of a file (fragment mode). */
interface Known {
  text: string;
  /** 1-based line in the current state. */
  line: number;
  kind: 'added' | 'context';
  patchRow: number;
  /** Section line and header row of the hunk that last showed the line (function head, notes). */
  section: string;
  headerRow: number;
  /** Added, or next to a removed line (where a patch changed the code). */
  changed: boolean;
}

const oldLen = (h: Hunk) => h.lines.filter((l) => l.kind !== 'added').length;
const newLen = (h: Hunk) => h.lines.filter((l) => l.kind !== 'removed').length;
/** Last old line the hunk covers; for a pure insertion (`-N,0`), the line it inserts after. */
const oldEnd = (h: Hunk) => (oldLen(h) === 0 ? h.oldStart : h.oldStart + oldLen(h) - 1);
const same = (a: string, b: string) => a === b || a.trimEnd() === b.trimEnd();

/** Move the known lines the way the hunks say; the hunks' own lines replace those they cover. */
export function applySparse(known: Known[], file: FilePatch): Known[] {
  const hunks = file.hunks;
  const covered = new Map<number, Known>();
  const moved: Known[] = [];
  for (const k of known) {
    const inside = hunks.some((h) => oldLen(h) > 0 && h.oldStart <= k.line && k.line <= oldEnd(h));
    if (inside) { covered.set(k.line, k); continue; }
    let shift = 0;
    for (const h of hunks) if (oldEnd(h) < k.line) shift += newLen(h) - oldLen(h);
    moved.push({ ...k, line: k.line + shift });
  }
  const shown: Known[] = [];
  for (const h of hunks) {
    const ls = h.lines as HunkLine[];
    ls.forEach((l, i) => {
      if (l.kind === 'removed' || l.newLine === undefined) return;
      // An added line, or the context next to a removal (where removed code was).
      const changed = l.kind === 'added' || ls[i - 1]?.kind === 'removed' || ls[i + 1]?.kind === 'removed';
      const before = l.kind === 'context' && l.oldLine !== undefined ? covered.get(l.oldLine) : undefined;
      if (before && before.kind === 'added' && same(before.text, l.text)) {
        shown.push({ ...before, line: l.newLine, section: h.section, headerRow: h.headerRow, changed: before.changed || changed });
      } else {
        shown.push({ text: l.text, line: l.newLine, kind: l.kind, patchRow: l.patchRow, section: h.section, headerRow: h.headerRow, changed });
      }
    });
  }
  // A patch that does not fit what earlier patches showed may put two lines on one number:
  // the hunk's own line wins (it is what this patch says the file holds).
  const byLine = new Map<number, Known>();
  for (const k of moved) byLine.set(k.line, k);
  for (const k of shown) byLine.set(k.line, k);
  return [...byLine.values()].sort((a, b) => a.line - b.line);
}

/** Rebuild analyzable C from the sparse picture: runs of consecutive lines as hunks. */
function sparseFragment(known: Known[], patch: Patch, file: FilePatch, patchIndex: number, path: string): { frag?: Fragment; changedRuns: number } {
  const runs: Hunk[] = [];
  const changedLine = new WeakSet<HunkLine>();
  let changedRuns = 0;
  for (let i = 0; i < known.length;) {
    let j = i + 1;
    while (j < known.length && known[j].line === known[j - 1].line + 1) j++;
    const run = known.slice(i, j);
    const n = run.length;
    const hunk: Hunk = {
      oldStart: run[0].line, oldCount: n, newStart: run[0].line, newCount: n,
      section: run[0].section, headerRow: run[0].headerRow,
      lines: run.map((k) => {
        const l: HunkLine = { kind: k.kind, text: k.text, patchRow: k.patchRow, oldLine: k.line, newLine: k.line };
        // A hunk that only removes lines leaves no added line: its context stands for the change.
        if (k.kind === 'added' || k.changed) changedLine.add(l);
        return l;
      }),
    };
    if (run.some((k) => k.kind === 'added' || k.changed)) changedRuns++;
    runs.push(hunk);
    i = j;
  }
  const frag = fragmentOf(patch, { ...file, hunks: runs }, patchIndex, path, 'post', (l) => changedLine.has(l));
  return { frag, changedRuns };
}

/** The histories of every .c/.h file the series patches, in order of first appearance. */
export function seriesHistories(set: PatchSet, opts?: HistoryOptions): FileHistory[] {
  interface State {
    known: Known[];
    /** Whole-file state, while every patch so far applied to the tree's file. */
    lines?: FragmentLine[];
    preText?: string;
    whole: boolean;
    steps: Fragment[];
    wholeSteps: Fragment[];
    changedRuns: number;
    /** A later patch deleted the file: nothing of it is left to report. */
    gone?: boolean;
  }
  const states = new Map<string, State>();
  const order: State[] = [];
  const fuzz = opts?.fuzz ?? 4000;
  set.patches.forEach((patch, patchIndex) => {
    for (const file of patch.files) {
      const from = file.oldPath ?? file.newPath;
      const path = file.newPath;
      if (file.binary || !isCPath(path) || file.hunks.length === 0) {
        if (from && file.status === 'deleted') {
          const st = states.get(from);
          if (st) st.gone = true;
          states.delete(from);
        }
        continue;
      }
      let st = file.status === 'added' ? undefined : states.get(from ?? path);
      if (!st) {
        st = { known: [], whole: opts !== undefined, steps: [], wholeSteps: [], changedRuns: 0 };
        order.push(st);
        if (opts) {
          // A plain `diff -u mm/x.c.orig mm/x.c` names the old file after a copy the tree lacks.
          const base = file.status === 'added' ? '' : opts.readBase(from ?? path) ?? (from && from !== path ? opts.readBase(path) : undefined);
          if (base === undefined) st.whole = false;
          else {
            st.preText = base;
            st.lines = base === '' ? [] : splitLines(base).lines.map((t, i) => baseLine(t, i + 1));
          }
        }
      }
      if (from && from !== path) states.delete(from);
      states.set(path, st);

      st.known = applySparse(st.known, file);
      const sparse = sparseFragment(st.known, patch, file, patchIndex, path);
      st.changedRuns = sparse.changedRuns;
      if (sparse.frag) st.steps.push(sparse.frag);

      if (st.whole && st.lines) {
        // Exact positions first; then "the tree already has it" (first patch of the file only);
        // then let hunks drift like git apply.
        let next = applyHunksToLines(st.lines, file, 0);
        if (!next && st.wholeSteps.length === 0 && file.status !== 'added' && st.preText !== undefined) {
          // The tree has the patch already (b4 prep: your branch), maybe moved by later ones.
          const base = st.preText;
          const fz = looksApplied(base, file, 0) ? 0 : !opts?.cancelled?.() && looksApplied(base, file, fuzz) ? fuzz : undefined;
          if (fz !== undefined) {
            next = mapApplied(base, file, fz);
            if (next) st.preText = unapply(base, file, fz);
          }
        }
        if (!next && !opts?.cancelled?.()) next = applyHunksToLines(st.lines, file, fuzz);
        if (!next) { st.whole = false; st.lines = undefined; continue; }
        st.lines = next;
        const text = next.map((l) => l.text).join('\n') + '\n';
        st.wholeSteps.push({ path, image: 'post', patch, file, patchIndex, text, lines: next, whole: true, preText: st.preText });
      }
    }
  });
  const out: FileHistory[] = [];
  for (const st of order) {
    if (st.gone) continue;
    if (st.whole && st.wholeSteps.length > 0) {
      out.push({ path: st.wholeSteps[st.wholeSteps.length - 1].path, steps: st.wholeSteps, preText: st.preText });
    } else if (st.steps.length > 0) {
      out.push({ path: st.steps[st.steps.length - 1].path, steps: st.steps, changedRuns: st.changedRuns });
    }
  }
  return out;
}
