// The CLI's file walk (`faultline check DIR`): which files a run checks, in a fixed order.
//
// - Arguments are taken in turn: `-` as is, a file as named (any type: `<(git diff)` is a pipe
//   the user asked for), a directory walked recursively in sorted order.
// - Inside a walked directory only regular files (or symlinks to regular files) with a checkable
//   extension are taken. A FIFO, socket or device named `*.c` would block the read or never end
//   (issue 11): it is skipped and named in a note. Hidden directories and node_modules are not
//   entered; symlinked directories are not followed, so a link cycle cannot hang the walk.
// - The directory entries' own types (readdir's d_type) decide without one stat per file; a
//   symlink is stat'ed once to see what it points at.

import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { isCheckablePath } from '../input/decode';
import type { InputError } from '../input/files';

export interface WalkedFile {
  /** The path as printed: as the user gave it, or built by the walk. */
  path: string;
  /** Named on the command line (read whatever its type); false for files found by the walk. */
  explicit: boolean;
}

export interface SkippedFile {
  path: string;
  /** What it is instead of a regular file: 'FIFO', 'socket', 'character device', ... */
  what: string;
}

export interface WalkResult {
  files: WalkedFile[];
  errors: InputError[];
  /** Non-regular files the walk left out (a note each, not an error). */
  skipped: SkippedFile[];
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied (cannot read it)';
    case 'ELOOP': return 'too many levels of symbolic links';
    default: return err?.message ?? String(e);
  }
}

/** What a non-regular file is, for the note. */
export function fileTypeName(st: Stats | Dirent): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  return 'not a regular file';
}

export function walkPaths(args: string[], opts: { cwd?: string; maxFiles?: number } = {}): WalkResult {
  const out: WalkResult = { files: [], errors: [], skipped: [] };
  for (const step of walkSteps(args, opts, out)) void step;
  return out;
}

/**
 * The walk as steps: fills `out` exactly as walkPaths does, and yields after each directory it
 * reads, so a caller can hand the files found so far to the worker threads, which then start
 * while the rest of the tree is read (engine/cli/run-files.ts: the walk of Linux 6.1 takes
 * about 0.4 s, during which the second core had nothing to do).
 */
export function* walkSteps(args: string[], opts: { cwd?: string; maxFiles?: number }, out: WalkResult): Generator<void, void, void> {
  const cwd = opts.cwd ?? process.cwd();
  const abs = (p: string) => resolve(cwd, p);
  const maxFiles = opts.maxFiles ?? 1_000_000;
  function* walk(dir: string, depth: number): Generator<void, void, void> {
    if (depth > 64) { out.errors.push({ path: dir, message: 'directory nesting deeper than 64 levels; not walked further' }); return; }
    let entries: Dirent[];
    try {
      entries = readdirSync(abs(dir), { withFileTypes: true });
    } catch (e) {
      out.errors.push({ path: dir, message: reason(e) });
      return;
    }
    // The same order as sorting the names (UTF-16 code units).
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      if (out.files.length >= maxFiles) return;
      const name = ent.name;
      const isDir = ent.isDirectory();
      // Most entries of a source tree are neither a directory nor a file to check (Makefile,
      // Kconfig, .rst): no path for them. Below the top, `dir` is already normalized by join(),
      // so appending the name is what join() would give (at a fraction of its cost).
      if (isDir ? name.startsWith('.') || name === 'node_modules' : !isCheckablePath(name)) continue;
      const p = depth === 0 ? join(dir, name) : dir + sep + name;
      if (isDir) {
        yield* walk(p, depth + 1);
        continue;
      }
      if (ent.isFile()) { out.files.push({ path: p, explicit: false }); continue; }
      if (ent.isSymbolicLink()) {
        let st: Stats;
        try { st = statSync(abs(p)); } catch (e) { out.errors.push({ path: p, message: reason(e) }); continue; }
        if (st.isFile()) out.files.push({ path: p, explicit: false });
        // A link to a directory is not followed (cycles); a link to a FIFO is skipped like one.
        else if (!st.isDirectory()) out.skipped.push({ path: p, what: `symbolic link to a ${fileTypeName(st)}` });
        continue;
      }
      out.skipped.push({ path: p, what: fileTypeName(ent) });
    }
    yield;
  }
  for (const a of args) {
    if (a === '-') { out.files.push({ path: a, explicit: true }); continue; }
    let st: Stats;
    try { st = statSync(abs(a)); } catch (e) { out.errors.push({ path: a, message: reason(e) }); continue; }
    if (st.isDirectory()) yield* walk(a, 0);
    else out.files.push({ path: a, explicit: true });
  }
}

/** One stderr line per skipped file (the run goes on; the exit status does not change). */
export function formatSkipped(skipped: SkippedFile[]): string {
  return skipped.map((s) => `faultline check: skipped ${s.path}: not a regular file (${s.what})\n`).join('');
}
