// `faultline check --cache` (on by default; ESLint's cache, keyed by content): a file whose bytes
// are the same as when it was last checked, by the same engine, with the same API table and the
// same options, gets its stored result back without being decoded, parsed or lowered.
//
// - The key of a run ("config key") is a hash of: the cache format, the engine version (package
//   version plus a hash of the running engine code), a hash of the API table's data, and every
//   option that changes results (rules, arch, kernel version, --tree, the size limit, the budget).
//   Entries are keyed by absolute path and hold the content hash (sha1) of the bytes checked.
//   Files the byte prefilter rules out get no entry: ruling them out again costs about what
//   hashing them would, and the cache stays small (about 5% of a kernel tree's files).
// - Location: `--cache-location PATH`; a directory (existing, or written with a trailing `/`)
//   holds one file per config key; any other path is the cache file itself. Default:
//   `${XDG_CACHE_HOME:-$HOME/.cache}/faultline/`, never inside the checked tree. Without either
//   variable there is no default and the run does not cache.
// - Written atomically (temporary file + rename) at the end of a run; a cache file that cannot
//   be read or has another key is ignored, never an error. In a directory, only the 8 most
//   recently used cache files are kept.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { allApis } from '../kernel/api-table';
import type { FileResult } from './check-file';

const FORMAT = 1;
const KEEP_FILES = 8;

export interface CacheEntry {
  /** Content hash of the bytes that gave `r`. */
  h: string;
  /** The result; absent for a file with nothing to report. */
  r?: FileResult;
}

/** A hash of the API table's data (names and facets), order-independent. */
export function apiTableHash(): string {
  const entries = allApis().map((e) => JSON.stringify(e, Object.keys(e).sort())).sort();
  return createHash('sha1').update(entries.join('\n')).digest('hex');
}

let engineCodeHash: string | undefined;

/**
 * The running engine's identity: the package version and a hash of the code file this module
 * was loaded from (the esbuild bundle in an installed CLI, so any rebuild changes the key).
 */
export function engineVersion(version: string): string {
  if (engineCodeHash === undefined) {
    try {
      engineCodeHash = typeof __filename === 'string' ? createHash('sha1').update(readFileSync(__filename)).digest('hex') : 'unknown';
    } catch {
      engineCodeHash = 'unknown';
    }
  }
  return `${version}+${engineCodeHash}`;
}

export function configKey(parts: { engineVersion: string; options: Record<string, unknown> }): string {
  const text = JSON.stringify({ format: FORMAT, engine: parts.engineVersion, table: apiTableHash(), options: parts.options });
  return createHash('sha1').update(text).digest('hex');
}

/** The default cache directory, or undefined when the environment names no home. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/')) return join(env.XDG_CACHE_HOME, 'faultline');
  if (env.HOME) return join(env.HOME, '.cache', 'faultline');
  return undefined;
}

/** The cache file for `location` (file or directory, see above) and a config key. */
export function cacheFilePath(location: string, key: string, cwd: string): string {
  const abs = resolve(cwd, location);
  let isDir = location.endsWith('/');
  if (!isDir) {
    try { isDir = statSync(abs).isDirectory(); } catch { /* not there: a file path */ }
  }
  return isDir ? join(abs, `check-${key.slice(0, 16)}.json`) : abs;
}

export class CheckCache {
  private entries = new Map<string, CacheEntry>();
  private dirty = false;
  /** Entries found on disk when the run started (for the report). */
  readonly loaded: number;

  constructor(readonly file: string, readonly key: string, private readonly inDirectory: boolean) {
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { format?: number; key?: string; entries?: Record<string, CacheEntry> };
      if (data.format === FORMAT && data.key === key && data.entries && typeof data.entries === 'object') {
        for (const [p, e] of Object.entries(data.entries)) if (e && typeof e.h === 'string') this.entries.set(p, e);
      }
    } catch { /* no cache yet, or unreadable: start empty */ }
    this.loaded = this.entries.size;
  }

  static open(location: string, key: string, cwd: string): CheckCache {
    const file = cacheFilePath(location, key, cwd);
    return new CheckCache(file, key, file !== resolve(cwd, location));
  }

  get(absPath: string): CacheEntry | undefined {
    return this.entries.get(absPath);
  }

  set(absPath: string, entry: CacheEntry): void {
    const prev = this.entries.get(absPath);
    if (prev && prev.h === entry.h && !prev.r && !entry.r) return;
    this.entries.set(absPath, entry);
    this.dirty = true;
  }

  delete(absPath: string): void {
    if (this.entries.delete(absPath)) this.dirty = true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Write the cache (atomically). Returns an error message, or undefined. */
  save(): string | undefined {
    if (!this.dirty) return undefined;
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const entries: Record<string, CacheEntry> = {};
      for (const [p, e] of this.entries) entries[p] = e;
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, key: this.key, entries }));
      renameSync(tmp, this.file);
      this.dirty = false;
      if (this.inDirectory) pruneDirectory(dirname(this.file));
      return undefined;
    } catch (e) {
      try { unlinkSync(tmp); } catch { /* never written */ }
      return (e as Error).message;
    }
  }
}

/** Keep the KEEP_FILES most recently written cache files of a cache directory. */
function pruneDirectory(dir: string): void {
  let files: { p: string; t: number }[];
  try {
    files = readdirSync(dir)
      .filter((n) => /^check-[0-9a-f]{16}\.json$/.test(n))
      .map((n) => ({ p: join(dir, n), t: statSync(join(dir, n)).mtimeMs }));
  } catch {
    return;
  }
  files.sort((a, b) => b.t - a.t);
  for (const f of files.slice(KEEP_FILES)) try { unlinkSync(f.p); } catch { /* gone */ }
}
