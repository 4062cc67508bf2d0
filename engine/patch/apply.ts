// With the tree the patch belongs to, a patch's post-image need not be a fragment: apply the
// hunks to the base file (or recognise that the tree already has them) and analyze the whole
// patched file. Whole functions mean no invented heads or braces, no gaps between hunks, and
// same-file helpers (a release helper defined elsewhere in the file, issue 2) are visible.
//
// The file is found through a resolver the caller gives (the CLI's `--tree DIR`; an editor's
// workspace); this module does no I/O.

import type { FilePatch, Hunk, Patch, PatchSet } from './parse';
import { changedLines, isCPath, postImageFragments, preImageFragments, type Fragment, type FragmentLine } from './fragments';
import { splitLines } from './lines';

/** Text of a file of the tree (path relative to the tree root), or undefined when absent. */
export type BaseResolver = (path: string) => string | undefined;

const same = (a: string, b: string) => a === b || a.trimEnd() === b.trimEnd(); // mailers strip trailing blanks

function matchesAt(lines: string[], at: number, want: string[]): boolean {
  if (at < 0 || at + want.length > lines.length) return false;
  for (let k = 0; k < want.length; k++) if (!same(lines[at + k], want[k])) return false;
  return true;
}

/** Nearest position to `expected` (not before `from`) where `want` matches, within `fuzz` lines. */
function locate(lines: string[], want: string[], expected: number, from: number, fuzz: number): number | undefined {
  for (let d = 0; d <= fuzz; d++) {
    for (const at of d === 0 ? [expected] : [expected - d, expected + d]) {
      if (at >= from && matchesAt(lines, at, want)) return at;
    }
  }
  return undefined;
}

const oldSide = (h: Hunk) => h.lines.filter((l) => l.kind !== 'added').map((l) => l.text);
const newSide = (h: Hunk) => h.lines.filter((l) => l.kind !== 'removed').map((l) => l.text);
// `@@ -0,0 +1,n @@` inserts before line 1; otherwise the start is 1-based.
const oldIndex = (h: Hunk) => (h.oldCount === 0 ? h.oldStart : h.oldStart - 1);
const newIndex = (h: Hunk) => (h.newCount === 0 ? h.newStart : h.newStart - 1);

type Lines = Fragment['lines'];

export function baseLine(text: string, fileLine: number): FragmentLine {
  return { kind: 'base', text, patchRow: -1, patchCol: 0, fileLine };
}

/** Apply the hunks to `base`; undefined when a hunk does not fit (within `fuzz` lines). */
export function applyHunks(base: string, file: FilePatch, fuzz: number): Lines | undefined {
  return applyHunksToLines(base === '' ? [] : splitLines(base).lines.map((t, i) => baseLine(t, i + 1)), file, fuzz);
}

/**
 * Apply the hunks to a file already held as lines (a series: the result of the patches before
 * this one). Lines outside the hunks keep what they were (base, or added by an earlier patch);
 * a context line that an earlier patch added stays `added` with that patch's row, so a finding
 * on it points at the patch that wrote it.
 */
export function applyHunksToLines(base: Lines, file: FilePatch, fuzz: number): Lines | undefined {
  const lines = base.map((l) => l.text);
  const out: Lines = [];
  let cursor = 0;
  let delta = 0; // how far earlier hunks moved things, as git apply carries it
  const carry = (l: FragmentLine) => out.push({ ...l, fileLine: out.length + 1 });
  for (const h of file.hunks) {
    if (h.truncated) return undefined;
    const want = oldSide(h);
    const at = locate(lines, want, oldIndex(h) + delta, cursor, fuzz);
    if (at === undefined) return undefined;
    delta = at - oldIndex(h);
    for (; cursor < at; cursor++) carry(base[cursor]);
    let k = at;
    const touched = changedLines(h, 'post');
    for (const l of h.lines) {
      if (l.kind === 'removed') { k++; continue; }
      if (l.kind === 'context') {
        const before = base[k++];
        if (before && before.kind === 'added') { carry(touched.has(l) ? { ...before, changed: true } : before); continue; }
      }
      out.push({ kind: l.kind, text: l.text, patchRow: l.patchRow, patchCol: 1, fileLine: out.length + 1, ...(touched.has(l) ? { changed: true } : {}) });
    }
    cursor = at + want.length;
  }
  for (; cursor < lines.length; cursor++) carry(base[cursor]);
  return out;
}

/** Where each hunk's new side starts in a file that already has the patch (0-based), or undefined. */
function appliedStarts(lines: string[], file: FilePatch, fuzz: number): number[] | undefined {
  const starts: number[] = [];
  let from = 0;
  let delta = 0;
  for (const h of file.hunks) {
    if (h.truncated) return undefined;
    const want = newSide(h);
    const at = locate(lines, want, newIndex(h) + delta, from, fuzz);
    if (at === undefined) return undefined;
    delta = at - newIndex(h);
    starts.push(at);
    from = at + want.length;
  }
  return starts;
}

/**
 * The tree already has the patch (b4 shazam, then check): map the hunks onto the file as is.
 * With `fuzz`, the hunks may sit that many lines from where the header says (later patches of
 * the series, also applied, moved them).
 */
export function mapApplied(current: string, file: FilePatch, fuzz = 0): Lines | undefined {
  const lines = splitLines(current).lines;
  const starts = appliedStarts(lines, file, fuzz);
  if (!starts) return undefined;
  const out: Lines = lines.map((t, i) => baseLine(t, i + 1));
  file.hunks.forEach((h, n) => {
    let k = starts[n];
    const touched = changedLines(h, 'post');
    for (const l of h.lines) {
      if (l.kind === 'removed') continue;
      out[k] = { kind: l.kind, text: lines[k], patchRow: l.patchRow, patchCol: 1, fileLine: k + 1, ...(touched.has(l) ? { changed: true } : {}) };
      k++;
    }
  });
  return out;
}

/** The pre-image of a file that already has the patch: each hunk's new side back to its old side. */
export function unapply(current: string, file: FilePatch, fuzz = 0): string {
  const lines = splitLines(current).lines;
  const starts = appliedStarts(lines, file, fuzz) ?? file.hunks.map(newIndex);
  const out: string[] = [];
  let cursor = 0;
  file.hunks.forEach((h, n) => {
    out.push(...lines.slice(cursor, starts[n]), ...oldSide(h));
    cursor = starts[n] + newSide(h).length;
  });
  out.push(...lines.slice(cursor));
  return out.join('\n') + '\n';
}

/** Does the file already look patched? New sides found (within `fuzz` lines) and something that differs. */
export function looksApplied(current: string, file: FilePatch, fuzz = 0): boolean {
  const changes = file.hunks.some((h) => h.lines.some((l) => l.kind !== 'context'));
  return changes && mapApplied(current, file, fuzz) !== undefined;
}

export interface WholeFileOptions {
  readBase: BaseResolver;
  /** How many lines a hunk may have moved from where its header says (git apply has no limit). */
  fuzz?: number;
  /** Stop searching for drifted hunks when the caller gives up (the file falls back to a fragment). */
  cancelled?: () => boolean;
}

/**
 * Post-images of the patched .c/.h files, whole when the tree allows, else as fragments.
 * Patches of a series are applied in order, so patch 2 sees patch 1's changes to a file.
 */
export function postImages(set: PatchSet, opts?: WholeFileOptions): Fragment[] {
  if (!opts) return postImageFragments(set);
  const fuzz = opts.fuzz ?? 4000;
  const fragments = postImageFragments(set);
  const current = new Map<string, string>();
  const out: Fragment[] = [];
  set.patches.forEach((patch: Patch, patchIndex: number) => {
    for (const file of patch.files) {
      const path = file.newPath;
      if (file.binary || !isCPath(path) || file.hunks.length === 0) continue;
      const fallback = fragments.find((f) => f.patch === patch && f.file === file);
      let lines: Lines | undefined;
      let preText: string | undefined;
      const base = file.status === 'added' ? '' : current.get(file.oldPath ?? path) ?? opts.readBase(file.oldPath ?? path);
      if (base !== undefined) {
        // Exact positions first; then "already applied"; then let hunks drift like git apply.
        lines = applyHunks(base, file, 0);
        if (!lines && file.status !== 'added' && looksApplied(base, file)) {
          lines = mapApplied(base, file);
          preText = lines && unapply(base, file);
        }
        if (!lines && !opts.cancelled?.()) lines = applyHunks(base, file, fuzz);
        if (lines && preText === undefined) preText = base;
      }
      if (!lines) {
        if (fallback) out.push(fallback);
        continue;
      }
      const text = lines.map((l) => l.text).join('\n') + '\n';
      current.set(path, text);
      out.push({ path, image: 'post', patch, file, patchIndex, text, lines, whole: true, preText });
    }
  });
  return out;
}

/**
 * Pre-images (the code a patch replaces), whole when the tree has the file and every hunk's old
 * side is found in it, else the fragments rebuilt from context and removed lines. Patches of a
 * series each see the tree as given (the pre-image of patch 2 is not patch 1's result here).
 */
export function preImages(set: PatchSet, opts?: WholeFileOptions): Fragment[] {
  const fragments = preImageFragments(set);
  if (!opts) return fragments;
  const fuzz = opts.fuzz ?? 4000;
  const out: Fragment[] = [];
  set.patches.forEach((patch, patchIndex) => {
    for (const file of patch.files) {
      const path = file.oldPath;
      if (file.binary || !isCPath(path) || file.hunks.length === 0 || file.status === 'added') continue;
      const fallback = fragments.find((f) => f.patch === patch && f.file === file);
      const base = opts.readBase(path);
      const lines = base === undefined ? undefined : markOldSides(base, file, fuzz);
      if (!lines) { if (fallback) out.push(fallback); continue; }
      out.push({ path, image: 'pre', patch, file, patchIndex, text: lines.map((l) => l.text).join('\n') + '\n', lines, whole: true });
    }
  });
  return out;
}

function markOldSides(base: string, file: FilePatch, fuzz: number): Lines | undefined {
  const lines = splitLines(base).lines;
  const out: Lines = lines.map((t, i) => baseLine(t, i + 1));
  let from = 0;
  let delta = 0;
  for (const h of file.hunks) {
    if (h.truncated) return undefined;
    const want = oldSide(h);
    const at = locate(lines, want, oldIndex(h) + delta, from, fuzz);
    if (at === undefined) return undefined;
    delta = at - oldIndex(h);
    let k = at;
    for (const l of h.lines) {
      if (l.kind === 'added') continue;
      out[k] = { kind: l.kind, text: lines[k], patchRow: l.patchRow, patchCol: 1, fileLine: k + 1 };
      k++;
    }
    from = at + want.length;
  }
  return out;
}
