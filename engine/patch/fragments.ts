// Rebuild analyzable C from a patch: the POST-image (context + added lines: the code the patch
// leaves behind) and the PRE-image (context + removed lines: the code it replaces), one fragment
// per patched .c/.h file, with a line map back to the patch text.
//
// A hunk usually starts and ends inside a function body (three lines of context), so its text
// alone does not parse as a function. Two things make it analyzable:
// - hunks of one file are joined in order, and when a hunk leaves a function open and the next
//   hunk's section line (git's "@@ ... @@ static int foo(...)") is a line already seen, the
//   next hunk continues that function: a body that spans two hunks is analyzed whole (with the
//   lines between the hunks missing, marked by a `gap` line);
// - a hunk that starts inside a block gets the function head from its section line and the
//   missing opening braces, and an unclosed function gets closing braces. These invented lines
//   are `synthetic`; findings anchored on them are about code we made up and are dropped.

import type { FilePatch, Hunk, HunkLine, HunkLineKind, Patch, PatchSet } from './parse';

/** `base`: a line of the tree's file outside every hunk (whole-file post-images, apply.ts). */
export type FragmentLineKind = HunkLineKind | 'synthetic' | 'gap' | 'base';

export interface FragmentLine {
  kind: FragmentLineKind;
  text: string;
  /** 0-based row in the patch text; synthetic/gap lines: the hunk header's row; base lines: -1. */
  patchRow: number;
  /** Column in the patch text where this line's text starts (1 after the diff prefix). */
  patchCol: number;
  /** 1-based line in the reconstructed file (post-image: new line; pre-image: old line). */
  fileLine?: number;
  /**
   * The patch changed the code here: an added line, or the line next to where lines were
   * removed (a removal-only hunk, e.g. a dropped release, leaves no added line to own a finding).
   */
  changed?: boolean;
}

export interface Fragment {
  /** The file the fragment belongs to (post-image: new path; pre-image: old path). */
  path: string;
  image: 'post' | 'pre';
  patch: Patch;
  file: FilePatch;
  /** Index of the patch in the set (0-based), for "patch 2/3" in messages. */
  patchIndex: number;
  text: string;
  lines: FragmentLine[];
  /** The whole patched file (the tree was available), not a fragment of it. */
  whole?: boolean;
  /** Whole files: the file before this patch ('' for a new file), for "what did the patch introduce". */
  preText?: string;
  /**
   * Hunks that change code inside a function whose head could not be rebuilt (no function name
   * in the hunk header, as in a plain `diff -u`): their lines are not analyzed.
   */
  unanalyzed?: Hunk[];
}

const C_PATH = /\.(c|h)$/;

export function isCPath(p: string | undefined): p is string {
  return !!p && C_PATH.test(p);
}

export function postImageFragments(set: PatchSet): Fragment[] {
  return buildFragments(set, 'post');
}

export function preImageFragments(set: PatchSet): Fragment[] {
  return buildFragments(set, 'pre');
}

function buildFragments(set: PatchSet, image: 'post' | 'pre'): Fragment[] {
  const out: Fragment[] = [];
  set.patches.forEach((patch, patchIndex) => {
    for (const file of patch.files) {
      const path = image === 'post' ? file.newPath : file.oldPath;
      if (file.binary || !isCPath(path) || file.hunks.length === 0) continue;
      const frag = fragmentOf(patch, file, patchIndex, path, image);
      if (frag) out.push(frag);
    }
  });
  return out;
}

/** Scans braces outside comments, strings, char literals and preprocessor lines. */
class BraceScanner {
  private inBlockComment = false;
  depth = 0;
  minDepth = 0;
  feed(line: string): void {
    const t = line.trimStart();
    if (!this.inBlockComment && t.startsWith('#')) return; // #if/#else arms could unbalance braces
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (this.inBlockComment) {
        if (c === '*' && line[i + 1] === '/') { this.inBlockComment = false; i++; }
        continue;
      }
      if (c === '/' && line[i + 1] === '*') { this.inBlockComment = true; i++; continue; }
      if (c === '/' && line[i + 1] === '/') return;
      if (c === '"' || c === "'") {
        i++;
        while (i < line.length && line[i] !== c) { if (line[i] === '\\') i++; i++; }
        continue;
      }
      if (c === '{') this.depth++;
      else if (c === '}') { this.depth--; if (this.depth < this.minDepth) this.minDepth = this.depth; }
    }
  }
}

interface HunkView {
  hunk: Hunk;
  lines: { kind: HunkLineKind; text: string; patchRow: number; fileLine?: number; changed: boolean }[];
  minDepth: number;
  delta: number;
}

/**
 * Lines of the image that the patch changed: its own lines (added in the post-image, removed in
 * the pre-image), and the kept line right after (else right before) a run of lines of the other
 * side, where code went away.
 */
export function changedLines(hunk: Hunk, image: 'post' | 'pre'): Set<HunkLine> {
  const skip: HunkLineKind = image === 'post' ? 'removed' : 'added';
  const own: HunkLineKind = image === 'post' ? 'added' : 'removed';
  const out = new Set<HunkLine>();
  const ls = hunk.lines;
  for (let i = 0; i < ls.length; i++) {
    if (ls[i].kind === own) { out.add(ls[i]); continue; }
    if (ls[i].kind !== skip || (i > 0 && ls[i - 1].kind === skip)) continue;
    let j = i;
    while (j < ls.length && ls[j].kind === skip) j++;
    const after = ls.slice(j).find((l) => l.kind !== skip);
    const before = [...ls.slice(0, i)].reverse().find((l) => l.kind !== skip);
    if (after ?? before) out.add((after ?? before)!);
  }
  return out;
}

function viewOf(hunk: Hunk, image: 'post' | 'pre', changed?: (l: HunkLine) => boolean): HunkView {
  const skip: HunkLineKind = image === 'post' ? 'removed' : 'added';
  const touched = changedLines(hunk, image);
  const lines = hunk.lines.filter((l) => l.kind !== skip).map((l) => ({
    kind: l.kind, text: l.text, patchRow: l.patchRow, fileLine: image === 'post' ? l.newLine : l.oldLine,
    changed: touched.has(l) || (changed?.(l) ?? false),
  }));
  const s = new BraceScanner();
  for (const l of lines) s.feed(l.text);
  return { hunk, lines, minDepth: s.minDepth, delta: s.depth };
}

/**
 * A C function head from git's hunk section (`static long foo(struct bar *b, int n)`), or
 * undefined when the section is not one (a struct, a label, nothing).
 */
export function functionHeadFromSection(section: string): string | undefined {
  let s = section.trim().replace(/\s*\{\s*$/, '');
  if (!/^[A-Za-z_][\w\s*]*\(/.test(s) || /;\s*$/.test(s) || /^(struct|union|enum)\s+\w+\s*$/.test(s)) {
    return undefined;
  }
  if (/^(if|for|while|switch|return|else|do)\b/.test(s)) return undefined;
  // Kernel style may put the return type on the line above (`static int\nfoo(...)`); git then
  // shows only `foo(...)`, which does not parse as a definition without a type.
  if (/^[A-Za-z_]\w*\s*\(/.test(s)) s = `int ${s}`;
  // git shows only the first line of a multi-line parameter list: keep the parameters that
  // are complete and close the list, so the body's uses of the later ones are just unknowns.
  let depth = 0;
  for (const c of s) { if (c === '(') depth++; else if (c === ')') depth--; }
  if (depth > 0) {
    s = s.replace(/,[^,]*$/, '').replace(/\(\s*$/, '(void');
    if (!s.includes('(')) return undefined;
    s += ')'.repeat(depth);
  }
  return s;
}

/**
 * Kernel style indents everything inside a function body and starts top-level constructs and
 * goto labels in column 0, so a hunk whose first code line is indented (or is a label) starts
 * inside a body. Comments, blank lines and preprocessor lines say nothing either way.
 */
function startsInsideBody(v: HunkView): boolean {
  let inComment = false;
  for (const l of v.lines) {
    const t = l.text;
    if (inComment) { if (t.includes('*/')) inComment = false; continue; }
    const trimmed = t.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) continue;
    if (trimmed.startsWith('/*')) { if (!trimmed.includes('*/')) inComment = true; continue; }
    if (/^[A-Za-z_]\w*:\s*$/.test(t)) return true; // `out:` label
    return /^[ \t]/.test(t);
  }
  return false;
}

const C_KEYWORDS = new Set(('auto break case char const continue default do double else enum extern float for goto if ' +
  'inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void ' +
  'volatile while bool true false NULL').split(' '));

/**
 * The lines between two hunks of one function are unknown: they may release the pages, store
 * them, change the counts. Stand in for them with a call to an unknown function that gets the
 * address of every variable the function's visible lines name, so the analysis treats what it
 * tracked as possibly released or handed off there (silence) instead of inventing a leak.
 */
export function gapStatement(linesSoFar: { kind: FragmentLineKind; text: string }[]): string {
  let start = 0;
  for (let i = linesSoFar.length - 1; i >= 0; i--) {
    if (linesSoFar[i].kind === 'gap' && linesSoFar[i].text === '') { start = i + 1; break; }
  }
  const names = new Set<string>();
  for (const l of linesSoFar.slice(start)) {
    const code = l.text.replace(/\/\*.*?\*\/|\/\/.*$|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'/g, ' ');
    if (code.trimStart().startsWith('#')) continue;
    for (const m of code.matchAll(/(->|\.)?\s*\b([A-Za-z_]\w*)\b(\s*\()?/g)) {
      const [, member, id, call] = m;
      if (member || call || C_KEYWORDS.has(id) || /^[A-Z0-9_]+$/.test(id) || /_t$/.test(id)) continue;
      names.add(id);
    }
  }
  const args = [...names].slice(0, 64).map((n) => `&${n}`).join(', ');
  return `__faultline_unseen_lines(${args});`;
}

const isChange = (l: HunkLine) => l.kind !== 'context';

/**
 * Does the hunk change a line of the function it starts in (`open` braces deep), before that
 * function closes? Without the function's head those lines cannot be analyzed; what follows the
 * close (whole new functions) still can.
 */
function changesHeadlessPart(h: Hunk, open: number, changed: (l: HunkLine) => boolean): boolean {
  const s = new BraceScanner();
  for (const l of h.lines) {
    if (s.depth <= -open) return false;
    if (changed(l)) return true;
    if (l.kind !== 'removed') s.feed(l.text);
  }
  return false;
}

export function fragmentOf(patch: Patch, file: FilePatch, patchIndex: number, path: string, image: 'post' | 'pre', changed: (l: HunkLine) => boolean = isChange): Fragment | undefined {
  const unanalyzed: Hunk[] = [];
  const lines: Fragment['lines'] = [];
  const push = (kind: FragmentLineKind, text: string, patchRow: number, fileLine?: number, changed?: boolean) =>
    lines.push({ kind, text, patchRow, patchCol: kind === 'synthetic' || kind === 'gap' ? 0 : 1, fileLine, ...(changed ? { changed } : {}) });
  let depth = 0;
  let seen = new Set<string>();
  let prevEnd: number | undefined;
  for (const hunk of file.hunks) {
    const v = viewOf(hunk, image, changed === isChange ? undefined : changed);
    if (v.lines.length === 0) continue;
    const head = functionHeadFromSection(hunk.section);
    const firstLine = v.lines[0].fileLine;
    const adjacent = prevEnd !== undefined && firstLine !== undefined && firstLine === prevEnd + 1;
    const continues = depth > 0 && depth + v.minDepth >= 0 &&
      (adjacent || (hunk.section.trim() !== '' && seen.has(hunk.section.trim())));
    if (depth > 0 && !continues) {
      // The previous hunk's function is not the one this hunk is in: close it.
      push('synthetic', gapStatement(lines), hunk.headerRow); // the rest of the body is unseen
      for (; depth > 0; depth--) push('synthetic', '}', hunk.headerRow);
      // The open construct may be a struct: without `;` the next function would parse as
      // returning it. After a function body a lone `;` is harmless.
      push('synthetic', ';', hunk.headerRow);
    }
    if (continues && !adjacent) push('gap', gapStatement(lines), hunk.headerRow);
    if (!continues) {
      if (lines.length > 0) push('gap', '', hunk.headerRow);
      seen = new Set();
      const open = Math.max(-v.minDepth, startsInsideBody(v) ? 1 : 0);
      if (open > 0 && head) {
        push('synthetic', head, hunk.headerRow);
        seen.add(hunk.section.trim());
        push('synthetic', '{'.repeat(open), hunk.headerRow);
        depth = open;
      } else if (open > 0 && changesHeadlessPart(hunk, open, changed)) {
        // Statements outside any function do not parse as code: this hunk cannot be checked.
        unanalyzed.push(hunk);
      }
    }
    for (const l of v.lines) {
      push(l.kind, l.text, l.patchRow, l.fileLine, l.changed);
      seen.add(l.text.trim());
    }
    depth = Math.max(0, depth + v.delta);
    const last = v.lines[v.lines.length - 1].fileLine;
    prevEnd = last;
  }
  if (lines.length === 0) return undefined;
  const endRow = file.hunks[file.hunks.length - 1].headerRow;
  if (depth > 0) {
    push('synthetic', gapStatement(lines), endRow); // the rest of the body is unseen
    for (; depth > 0; depth--) push('synthetic', '}', endRow);
    push('synthetic', ';', endRow);
  }
  const frag: Fragment = { path, image, patch, file, patchIndex, text: lines.map((l) => l.text).join('\n') + '\n', lines };
  if (unanalyzed.length) frag.unanalyzed = unanalyzed;
  return frag;
}
