// The kernel version of the tree a file belongs to (issue 8): the top-level Makefile's VERSION /
// PATCHLEVEL (and an `-rcN` EXTRAVERSION), found by walking up from the checked file, or read
// from `--tree DIR` / the workspace root. The CLI and the server default `--kernel` to it, so a
// 5.10 tree is judged with 5.10 semantics without a flag; an explicit `--kernel` wins. Any rule
// that needs the version asks here (one reader, one cache).

import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface TreeVersion {
  /** `v6.1`, `v5.17-rc8`. */
  version: string;
  /** The Makefile it was read from. */
  makefile: string;
}

/** Directories walked up at most (a file deep in drivers/ is < 10 levels below the root). */
const MAX_UP = 24;
/** Bytes of a Makefile read (VERSION and PATCHLEVEL are in its first lines). */
const HEAD_BYTES = 4096;

/**
 * The version a top-level kernel Makefile declares: `VERSION = 6`, `PATCHLEVEL = 1` at the start
 * of lines near the top (a subdirectory's Makefile has neither). Undefined when it is not one.
 */
export function makefileVersion(text: string): string | undefined {
  const head = text.slice(0, HEAD_BYTES);
  const get = (k: string): string | undefined => new RegExp(`^${k}\\s*=[ \\t]*([^\\n#]*)`, 'm').exec(head)?.[1].trim();
  const v = get('VERSION');
  const p = get('PATCHLEVEL');
  if (!v || !p || !/^\d+$/.test(v) || !/^\d+$/.test(p)) return undefined;
  const extra = get('EXTRAVERSION') ?? '';
  return `v${v}.${p}${/^-rc\d+$/.test(extra) ? extra : ''}`;
}

const byDir = new Map<string, TreeVersion | null>();

function readVersionAt(dir: string): TreeVersion | null {
  const makefile = join(dir, 'Makefile');
  try {
    if (!statSync(makefile).isFile()) return null;
    const text = readFileSync(makefile, 'utf8');
    const version = makefileVersion(text);
    return version ? { version, makefile } : null;
  } catch {
    return null;
  }
}

/** The version of the tree rooted at `dir` (its own top-level Makefile), if it is one. */
export function treeRootVersion(dir: string): TreeVersion | undefined {
  const d = resolve(dir);
  if (!byDir.has(d)) byDir.set(d, readVersionAt(d));
  return byDir.get(d) ?? undefined;
}

/**
 * The version of the kernel tree holding `path` (a file or a directory): the nearest enclosing
 * directory whose Makefile is a top-level kernel Makefile. Directories on the way are cached.
 */
export function treeVersionOf(path: string): TreeVersion | undefined {
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    dir = dirname(dir);
  }
  let found: TreeVersion | null = null;
  for (let i = 0; i < MAX_UP; i++) {
    const cached = byDir.get(dir);
    if (cached !== undefined) { found = cached; if (cached) break; }
    else {
      const v = readVersionAt(dir);
      byDir.set(dir, v);
      if (v) { found = v; break; }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return found ?? undefined;
}

/** Forget cached lookups (tests; a server whose workspace changed). */
export function clearTreeVersionCache(): void {
  byDir.clear();
}
