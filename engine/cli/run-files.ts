// The file loop of `faultline check`: stdin, the cache, serial or worker-thread execution, the
// progress line, and the outcomes put back in the walk's order (engine/cli/main.ts calls this
// and prints). Also the options that belong to it (--cache, --no-cache, --cache-location,
// --jobs, --no-prefilter), taken out of the argument list before main.ts parses the rest.

import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { createEngine, type Engine } from '../engine';
import { readStdin } from '../input/files';
import type { Decoded } from '../input/decode';
import { CheckCache, configKey, defaultCacheDir, engineVersion } from './cache';
import { checkFile, treeReader, type CheckOptions, type FileContext, type FileJob, type FileOutcome, type FileResult } from './check-file';
import { STDIN_LABEL, type FileReport, type InputFailure } from './format';
import { JobFeed, runPool } from './pool';
import { tablePrefilter } from './prefilter';
import { createProgress, type Progress } from './progress';
import type { SkippedFile, WalkResult } from './walk';

export interface SpeedArgs {
  /** --cache (default) / --no-cache. */
  cache: boolean;
  /** --cache-location PATH. */
  cacheLocation?: string;
  /** --jobs N (-j N); undefined: one worker per available core. */
  jobs?: number;
  /** --no-prefilter: analyze every file (to check that the prefilter changes nothing). */
  prefilter: boolean;
}

export const SPEED_USAGE = `      --cache / --no-cache: reuse results of files whose content, options, engine and
      API table are unchanged (default on); --cache-location PATH: cache file, or a
      directory (default \${XDG_CACHE_HOME:-~/.cache}/faultline/).
      --jobs N, -j N: worker threads (default: one per core; 1 = no threads).
      --no-prefilter: analyze every C file, even those naming no API of interest.
`;

/** Take this module's options out of `argv`; the rest goes to main.ts's parser unchanged. */
export function extractSpeedArgs(argv: string[]): { argv: string[]; speed: SpeedArgs } | { error: string } {
  const speed: SpeedArgs = { cache: true, prefilter: true };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { rest.push(...argv.slice(i)); break; }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || (v.startsWith('-') && v !== '-')) return undefined;
      i++;
      return v;
    };
    switch (name) {
      case '--cache': speed.cache = true; break;
      case '--no-cache': speed.cache = false; break;
      case '--no-prefilter': speed.prefilter = false; break;
      case '--cache-location': {
        const v = value();
        if (!v) return { error: '--cache-location needs a value' };
        speed.cacheLocation = v;
        break;
      }
      case '--jobs': case '-j': {
        const v = value();
        const n = Number(v);
        if (!v || !Number.isInteger(n) || n < 1 || n > 256) return { error: `--jobs wants a whole number from 1 to 256${v ? ` (got '${v}')` : ''}` };
        speed.jobs = n;
        break;
      }
      default: rest.push(arg);
    }
  }
  return { argv: rest, speed };
}

export interface RunContext {
  opts: CheckOptions;
  speed: SpeedArgs;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  stderr: (s: string) => void;
  /** stderr is a terminal: show progress. */
  stderrTTY: boolean;
  /** An engine to use (tests): the files are then checked in this thread. */
  engine?: Engine;
  toolVersion: string;
}

export interface RunStats {
  files: number;
  /** Files decoded and analyzed. */
  analyzed: number;
  /** C files the prefilter ruled out. */
  prefiltered: number;
  /** Results taken from the cache. */
  cached: number;
  /** Worker threads used (0: this thread). */
  workers: number;
  cacheFile?: string;
}

export interface RunOutput {
  files: FileReport[];
  failures: InputFailure[];
  skipped: SkippedFile[];
  stats: RunStats;
}

/** Files below this count are checked in this thread unless --jobs says otherwise (worker start-up costs more). */
const POOL_MIN_FILES = 48;

function workerCount(): number {
  try {
    return availableParallelism();
  } catch {
    return cpus().length || 1;
  }
}

/**
 * The files to check: the walk's result so far (`out`, which grows) and, when it is still
 * walking, its steps (engine/cli/walk.ts walkSteps): each step reads one more directory.
 */
export interface WalkInProgress {
  out: WalkResult;
  steps?: Iterator<void>;
}

/** Directories the walk reads between two turns of the event loop, once the workers are running. */
const WALK_DIRS_PER_TURN = 32;

export async function checkFiles(walk: WalkInProgress, rc: RunContext): Promise<RunOutput> {
  const walked = walk.out.files;
  let walkDone = walk.steps === undefined;
  const walkOn = (dirs: number): void => {
    for (let i = 0; i < dirs && !walkDone; i++) if (walk.steps!.next().done) walkDone = true;
  };
  const stats: RunStats = { files: 0, analyzed: 0, prefiltered: 0, cached: 0, workers: 0 };
  const out: RunOutput = { files: [], failures: [], skipped: [], stats };
  const hashed = rc.speed.cache ? openCache(rc) : undefined;
  const cache = hashed?.cache;
  if (cache) stats.cacheFile = cache.file;
  const opts: CheckOptions = { ...rc.opts, prefilter: rc.speed.prefilter, hash: cache !== undefined };
  const absOf = (p: string) => resolve(opts.cwd, p);

  // Jobs, in the walk's order; stdin is read here, once.
  const jobs: FileJob[] = [];
  const early = new Map<number, FileOutcome>();
  let stdin: Decoded | undefined;
  /** Walked files turned into jobs so far. */
  let made = 0;
  // With a cache, each file's absolute path (its key), resolved once: after the workers finish,
  // nothing but the loop that puts outcomes back in order runs, so it is the run's tail (a second
  // path.resolve() for each of 55,000 files was most of its 80 ms on Linux 6.1).
  const absPaths: string[] = [];
  const makeJobs = async (): Promise<void> => {
    for (; made < walked.length; made++) {
      const index = made;
      const w = walked[index];
      if (w.path === '-') {
        if (stdin) { early.set(index, { k: 'failure', message: 'stdin named more than once; read once' }); continue; }
        stdin = await readStdin(rc.stdin, opts.limit);
        jobs.push({ index, path: '-', explicit: true, stdin });
        continue;
      }
      let cachedHash: string | undefined;
      if (cache) {
        absPaths[index] = absOf(w.path);
        cachedHash = cache.get(absPaths[index])?.h;
      }
      jobs.push({ index, path: w.path, explicit: w.explicit, ...(cachedHash ? { cachedHash } : {}) });
    }
  };

  // Enough of the walk to decide how to check: all of it, or enough files to be worth the workers.
  while (!walkDone && walked.length < POOL_MIN_FILES) walkOn(1);
  await makeJobs();
  const wanted = rc.speed.jobs ?? workerCount();
  const usePool = !rc.engine && wanted > 1 && jobs.length > 1 && (rc.speed.jobs !== undefined || jobs.length >= POOL_MIN_FILES);
  // The progress line needs the total: it starts when the walk is done.
  let progress: Progress | undefined;
  let pool: Promise<FileOutcome[] | undefined> | undefined;
  if (usePool) {
    // The workers start (and check the files found so far) while the walk reads the rest. A
    // pool that cannot start any worker (an unusual host) gives undefined: the files are then
    // checked here. The feed reads `jobs` as makeJobs appends to it.
    const feed = new JobFeed(jobs);
    pool = runPool(feed, { workers: wanted, opts, onProgress: (d) => progress?.update(d) }).catch(() => undefined);
    while (!walkDone) {
      walkOn(WALK_DIRS_PER_TURN);
      await makeJobs();
      feed.flush();
      await new Promise<void>((r) => setImmediate(r));
    }
    feed.end();
  }
  walkOn(Infinity);
  await makeJobs();
  progress = createProgress(jobs.length, { tty: rc.stderrTTY, write: rc.stderr });
  const outcomes: FileOutcome[] = [];
  const pooled = await pool;
  if (pooled) {
    pooled.forEach((o, i) => { outcomes[jobs[i].index] = o; });
    stats.workers = Math.min(wanted, jobs.length);
  }
  for (const [i, o] of early) outcomes[i] = o;
  if (!pooled && jobs.length) {
    const engine = rc.engine ?? await createEngine();
    const ctx: FileContext = {
      engine: () => engine,
      opts,
      prefilter: opts.prefilter ? tablePrefilter() : undefined,
      readBase: treeReader(opts.tree, opts.limit),
    };
    for (let n = 0; n < jobs.length; n++) {
      // An engine that can restart its parser after a failure says when it is ready again.
      await engine.ready();
      outcomes[jobs[n].index] = checkFile(ctx, jobs[n]);
      progress.update(n + 1);
    }
  }
  progress.end();
  stats.files = walked.length;

  // Back in the walk's order.
  for (let index = 0; index < walked.length; index++) {
    const o = outcomes[index];
    const w = walked[index];
    const label = w.path === '-' ? STDIN_LABEL : w.path;
    const abs = cache ? absPaths[index] ?? absOf(w.path) : '';
    const push = (r: FileResult | undefined) => {
      const fr: FileReport = r ? { path: label, kind: r.kind, findings: r.findings, problems: r.problems } : { path: label, kind: 'c', findings: [], problems: [] };
      if (r?.targets) fr.targets = r.targets;
      if (r?.patches !== undefined) fr.patches = r.patches;
      out.files.push(fr);
    };
    switch (o.k) {
      case 'clean':
        if (o.prefiltered) stats.prefiltered++; else stats.analyzed++;
        if (o.hash !== undefined) cache?.set(abs, { h: o.hash });
        else if (o.prefiltered) cache?.delete(abs);
        push(undefined);
        break;
      case 'report':
        stats.analyzed++;
        if (o.cacheable && o.hash !== undefined) cache?.set(abs, { h: o.hash, r: o.result });
        push(o.result);
        break;
      case 'cached':
        stats.cached++;
        push(cache?.get(abs)?.r);
        break;
      case 'failure':
        out.failures.push({ path: label, message: o.message });
        break;
      case 'skipped':
        out.skipped.push({ path: w.path, what: o.what });
        break;
    }
  }
  const saveError = cache?.save();
  if (saveError) rc.stderr(`faultline check: note: could not write the cache ${cache!.file}: ${saveError}\n`);
  return out;
}

function openCache(rc: RunContext): { cache: CheckCache } | undefined {
  const location = rc.speed.cacheLocation ?? (defaultCacheDir(rc.env) ? defaultCacheDir(rc.env)! + '/' : undefined);
  if (!location) return undefined;
  const o = rc.opts;
  const key = configKey({
    engineVersion: engineVersion(rc.toolVersion),
    options: { rules: o.rules ? [...o.rules].sort() : null, arch: o.arch ?? null, kernel: o.kernel ?? null, tree: o.tree ?? null, limit: o.limit, budgetMs: o.budgetMs },
  });
  return { cache: CheckCache.open(location, key, rc.opts.cwd) };
}
