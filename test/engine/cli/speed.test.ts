// `faultline check` over many files: worker threads give the serial run's output byte for byte,
// a crashing worker costs only its file, the cache gives the same output without analyzing
// again and misses when the content or the options change, the walk skips FIFOs (issue 11:
// one named *.c used to block the run forever), and progress shows only on a terminal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../../engine/cli/main';
import { createEngine, type Engine, type AnalyzeOptions } from '../../../engine/engine';
import { JobFeed, runPool } from '../../../engine/cli/pool';
import type { FileJob } from '../../../engine/cli/check-file';
import { createProgress, progressLine } from '../../../engine/cli/progress';
import { tablePrefilter } from '../../../engine/cli/prefilter';
import { extractSpeedArgs } from '../../../engine/cli/run-files';
import { walkPaths, walkSteps, type WalkResult } from '../../../engine/cli/walk';
import { generateCorpus } from '../../../bench/generate-corpus';
import { repoRoot } from '../../helpers/repo';

interface Run { code: number; out: string; err: string }

async function run(argv: string[], opts: { engine?: Engine; env?: NodeJS.ProcessEnv; tty?: boolean; cwd?: string } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: (s) => { out += s; },
    stderr: (s) => { err += s; },
    stdin: Readable.from([]),
    cwd: opts.cwd ?? repoRoot(),
    env: { ...(opts.env ?? {}) },
    stderrTTY: opts.tty === true,
  }, opts.engine ? { engine: opts.engine } : {});
  return { code, out, err };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'faultline-speed-'));
}

/** An engine that counts analyze() calls (the cache and the prefilter are seen through it). */
async function countingEngine(): Promise<{ engine: Engine; calls: string[] }> {
  const real = await createEngine();
  const calls: string[] = [];
  const engine: Engine = {
    analyzeC: (t, o) => real.analyzeC(t, o),
    analyzePatch: (t, o) => real.analyzePatch(t, o),
    analyze: (t: string, o: AnalyzeOptions) => { calls.push(o.path); return real.analyze(t, o); },
    ready: () => real.ready(),
  } as Engine;
  return { engine, calls };
}

test('--jobs 2 gives the serial output byte for byte (fixtures, examples, generated corpus)', async () => {
  const dir = tmp();
  try {
    generateCorpus(join(dir, 'corpus'), 60, 300);
    cpSync(join(repoRoot(), 'test', 'fixtures'), join(dir, 'fixtures'), { recursive: true });
    cpSync(join(repoRoot(), 'examples'), join(dir, 'examples'), { recursive: true });
    writeFileSync(join(dir, 'broken.c'), Buffer.from([0x69, 0x6e, 0x74, 0x00, 0x0a]));
    for (const format of ['json', 'text', 'sarif']) {
      const serial = await run(['check', '--no-cache', '--jobs', '1', '--format', format, dir]);
      const pooled = await run(['check', '--no-cache', '--jobs', '2', '--format', format, dir]);
      assert.equal(pooled.code, serial.code);
      assert.equal(pooled.out, serial.out, `${format}: output differs between --jobs 1 and --jobs 2`);
      assert.equal(pooled.err, serial.err);
      assert.ok(serial.out.length > 1000);
      assert.match(serial.err, /broken\.c: binary file/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A stand-in worker speaking the pool's protocol in `dir`: a clean outcome per job, an exit with
 * status 7 on a *boom* file, an internal error (and a stop) on an *oops* file.
 */
function writeFakeWorker(dir: string): string {
  const script = join(dir, 'fake-worker.js');
  writeFileSync(script, `
const { parentPort, workerData } = require('node:worker_threads');
const cell = new Int32Array(workerData.current);
parentPort.on('message', (msg) => {
  const outcomes = [];
  for (const job of msg.jobs) {
    Atomics.store(cell, 0, job.index);
    if (job.path.includes('boom')) process.exit(7);
    if (job.path.includes('oops')) {
      outcomes.push({ index: job.index, outcome: { k: 'failure', message: 'internal error while analyzing: oops', internal: true } });
      parentPort.postMessage({ type: 'done', outcomes, stopped: true });
      return;
    }
    outcomes.push({ index: job.index, outcome: { k: 'clean', hash: job.path } });
  }
  Atomics.store(cell, 0, -1);
  parentPort.postMessage({ type: 'done', outcomes, stopped: false });
});
parentPort.postMessage({ type: 'ready' });
`);
  return script;
}

/** The options of a pool run over `dir` (the fake workers read none of them). */
const checkOpts = (dir: string) => ({ cwd: dir, limit: 1 << 20, budgetMs: 1000, prefilter: true, hash: false });

/** A feed holding all of `jobs`, ended. */
function allOf(jobs: FileJob[]): JobFeed {
  const feed = new JobFeed(jobs);
  feed.end();
  return feed;
}

test('pool: a worker that dies costs only the file it was on; an internal error replaces the worker', async () => {
  const dir = tmp();
  try {
    const script = writeFakeWorker(dir);
    const names = Array.from({ length: 200 }, (_, i) => (i === 37 ? 'f37-boom.c' : i === 120 ? 'f120-oops.c' : `f${i}.c`));
    const jobs = names.map((path, index) => ({ index, path, explicit: false }));
    let progressCalls = 0;
    const out = await runPool(allOf(jobs), { workers: 2, opts: checkOpts(dir), script, onProgress: () => { progressCalls++; } });
    assert.equal(out.length, 200);
    out.forEach((o, i) => {
      if (i === 37) assert.ok(o.k === 'failure' && /crashed/.test(o.message) && /status 7/.test(o.message), JSON.stringify(o));
      else if (i === 120) assert.ok(o.k === 'failure' && /oops/.test(o.message), JSON.stringify(o));
      else assert.deepEqual(o, { k: 'clean', hash: names[i] }, `job ${i}`);
    });
    assert.ok(progressCalls > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pool: jobs that arrive while the walk goes on are all checked, in order; waiting workers retire at the end', async () => {
  const dir = tmp();
  try {
    const script = writeFakeWorker(dir);
    const feed = new JobFeed();
    // Walk indexes with gaps (stdin named twice, say: no job), and a first piece of one job.
    const job = (index: number) => ({ index: index * 2, path: index === 70 ? 'f70-boom.c' : `f${index}.c`, explicit: false });
    feed.push(job(0));
    const pool = runPool(feed, { workers: 2, opts: checkOpts(dir), script });
    // The rest in pieces, some after the workers have emptied the queue and wait.
    for (let from = 1; from < 150; from += 25) {
      await new Promise((r) => setTimeout(r, 30));
      for (let i = from; i < Math.min(150, from + 25); i++) feed.push(job(i));
      feed.flush();
    }
    await new Promise((r) => setTimeout(r, 30));
    feed.end();
    const out = await pool;
    assert.equal(out.length, 150);
    out.forEach((o, i) => {
      if (i === 70) assert.ok(o.k === 'failure' && /status 7/.test(o.message), JSON.stringify(o));
      else assert.deepEqual(o, { k: 'clean', hash: `f${i}.c` }, `job ${i}`);
    });
    // A feed that ends with nothing in it.
    const empty = new JobFeed();
    const none = runPool(empty, { workers: 2, opts: checkOpts(dir), script });
    await new Promise((r) => setTimeout(r, 30));
    empty.end();
    assert.deepEqual(await none, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pool: a worker gets its next batch before it has answered the one it is on', async () => {
  const dir = tmp();
  try {
    // A worker that answers each batch a little later, saying how many batches it held then.
    const script = join(dir, 'slow-worker.js');
    writeFileSync(script, `
const { parentPort } = require('node:worker_threads');
const held = [];
parentPort.on('message', (msg) => {
  held.push(msg.jobs);
  if (held.length === 1) setTimeout(answer, 5);
});
function answer() {
  const jobs = held[0];
  const outcomes = jobs.map((job) => ({ index: job.index, outcome: { k: 'clean', hash: String(held.length) } }));
  held.shift();
  parentPort.postMessage({ type: 'done', outcomes, stopped: false });
  if (held.length) setTimeout(answer, 5);
}
parentPort.postMessage({ type: 'ready' });
`);
    const jobs = Array.from({ length: 300 }, (_, index) => ({ index, path: `f${index}.c`, explicit: false }));
    const out = await runPool(allOf(jobs), { workers: 2, opts: checkOpts(dir), script });
    assert.equal(out.length, 300);
    const held = out.map((o) => (o.k === 'clean' ? Number(o.hash) : 0));
    assert.ok(held.every((h) => h >= 1 && h <= 2), `at most two batches held: ${held.join(',')}`);
    assert.ok(held.some((h) => h === 2), 'no batch was sent ahead');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('walk: walkSteps yields once per directory and fills the result exactly as walkPaths does', () => {
  const dir = tmp();
  try {
    for (const d of ['b', 'a/z', 'a/y', '.hidden', 'node_modules']) mkdirSync(join(dir, d), { recursive: true });
    for (const f of ['b/2.c', 'b/1.h', 'a/z/x.patch', 'a/y/w.c', 'a/top.c', 'root.c', 'notes.txt', '.hidden/h.c', 'node_modules/n.c']) writeFileSync(join(dir, f), 'int x;\n');
    const whole = walkPaths([join(dir, 'root.c'), dir, join(dir, 'missing.c')]);
    const out: WalkResult = { files: [], errors: [], skipped: [] };
    let steps = 0;
    const seen: number[] = [];
    for (const step of walkSteps([join(dir, 'root.c'), dir, join(dir, 'missing.c')], {}, out)) { void step; steps++; seen.push(out.files.length); }
    assert.deepEqual(out, whole);
    // The walked directories: the root, a, a/y, a/z, b (hidden ones and node_modules are not entered).
    assert.equal(steps, 5);
    // The first step ends with the first directory read to its end (a/y): part of the files only.
    assert.deepEqual(seen, [3, 4, 4, 6, 7]);
    assert.deepEqual(whole.files.map((f) => f.path.slice(dir.length + 1)), ['root.c', 'a/top.c', 'a/y/w.c', 'a/z/x.patch', 'b/1.h', 'b/2.c', 'root.c']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pool: workers that die before they are ready make it give up (the caller checks the files itself)', async () => {
  const dir = tmp();
  try {
    const script = join(dir, 'dying-worker.js');
    writeFileSync(script, "require('node:fs').appendFileSync(__filename + '.starts', 'x'); process.exit(3);\n");
    const jobs = Array.from({ length: 10 }, (_, index) => ({ index, path: `f${index}.c`, explicit: false }));
    await assert.rejects(runPool(allOf(jobs), { workers: 2, opts: checkOpts(dir), script }));
    const starts = readFileSync(script + '.starts', 'utf8').length;
    assert.ok(starts >= 3 && starts <= 5, `bounded restarts, got ${starts}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cache: a warm run gives the same output without analyzing; a changed file or option misses', async () => {
  const dir = tmp();
  const cacheDir = join(dir, 'cache') + '/';
  try {
    const src = join(dir, 'src');
    const corpus = generateCorpus(src, 30, 200);
    // One file naming no API: ruled out by the prefilter, never analyzed.
    writeFileSync(join(src, 'plain.c'), 'static int add(int a, int b)\n{\n\treturn a + b;\n}\n');
    const { engine, calls } = await countingEngine();
    const args = ['check', '--format', 'json', '--cache-location', cacheDir, 'src'];
    const cold = await run(args, { engine, cwd: dir });
    const pf = tablePrefilter();
    const naming = corpus.files.filter((f) => pf.mayReport(readFileSync(f))).length;
    assert.ok(naming > 10);
    assert.equal(calls.length, naming, 'cold: every file naming an API is analyzed, the others are not');
    assert.ok(!calls.some((c) => c.endsWith('plain.c')));
    assert.equal(readdirSync(cacheDir).filter((n) => n.endsWith('.json')).length, 1, 'one cache file in the directory');
    calls.length = 0;
    const warm = await run(args, { engine, cwd: dir });
    assert.equal(calls.length, 0, `warm: nothing analyzed, got ${calls.join(', ')}`);
    assert.equal(warm.out, cold.out);
    assert.equal(warm.code, cold.code);
    // One file changes: only it is analyzed again.
    const changed = corpus.files[3];
    writeFileSync(changed, '/* edited: put_page */\n' + readFileSync(changed, 'utf8'));
    const third = await run(args, { engine, cwd: dir });
    assert.deepEqual(calls.map((c) => join(dir, c)), [changed]);
    assert.notEqual(third.out, cold.out, 'line numbers moved in the edited file');
    // A file that named an API and now names none: ruled out by the prefilter, its entry dropped.
    const cacheText = (): string => readFileSync(join(cacheDir, readdirSync(cacheDir).find((n) => n.endsWith('.json'))!), 'utf8');
    const plain = corpus.files.find((f) => f !== changed && pf.mayReport(readFileSync(f)))!;
    assert.ok(cacheText().includes(JSON.stringify(plain)), 'the analyzed file has an entry');
    const before = readFileSync(plain, 'utf8');
    writeFileSync(plain, 'static int add(int a, int b)\n{\n\treturn a + b;\n}\n');
    await run(args, { engine, cwd: dir });
    assert.ok(!cacheText().includes(JSON.stringify(plain)), 'a file the prefilter rules out keeps no entry');
    writeFileSync(plain, before);
    await run(args, { engine, cwd: dir });
    assert.ok(cacheText().includes(JSON.stringify(plain)));
    calls.length = 0;
    // Other options: another cache key, so everything is analyzed again.
    calls.length = 0;
    await run([...args.slice(0, 1), '--rule', 'gup-leak', ...args.slice(1)], { engine, cwd: dir });
    assert.equal(calls.length, naming);
    // --no-cache: analyzed, nothing written or read.
    calls.length = 0;
    const none = await run(['check', '--no-cache', '--format', 'json', 'src'], { engine, cwd: dir, env: { HOME: join(dir, 'home') } });
    assert.equal(calls.length, naming);
    assert.equal(none.out, third.out);
    assert.ok(!existsSync(join(dir, 'home')), '--no-cache must not create the default cache directory');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cache: default location under XDG_CACHE_HOME (or HOME/.cache), never in the checked tree', async () => {
  const dir = tmp();
  try {
    mkdirSync(join(dir, 'src'));
    // A file a rule can fire on (one the byte prefilter rules out gets no cache entry).
    writeFileSync(join(dir, 'src', 'a.c'), 'static void f(unsigned long a, struct page **p) { get_user_pages_fast(a, 1, 0, p); put_page(p[0]); }\n');
    await run(['check', 'src'], { cwd: dir, env: { XDG_CACHE_HOME: join(dir, 'xdg'), HOME: join(dir, 'home') } });
    assert.equal(readdirSync(join(dir, 'xdg', 'faultline')).filter((n) => /^check-[0-9a-f]{16}\.json$/.test(n)).length, 1);
    assert.ok(!existsSync(join(dir, 'home')));
    await run(['check', 'src'], { cwd: dir, env: { HOME: join(dir, 'home') } });
    assert.equal(readdirSync(join(dir, 'home', '.cache', 'faultline')).length, 1);
    assert.deepEqual(readdirSync(join(dir, 'src')), ['a.c']);
    // A file path as the location: that file is the cache.
    await run(['check', '--cache-location', join(dir, 'one.cache'), 'src'], { cwd: dir, env: {} });
    assert.ok(existsSync(join(dir, 'one.cache')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('walk: a FIFO named *.c is skipped with a note (the run does not block); symlink loops are safe', { skip: process.platform === 'win32' }, async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'a.c'), 'static void f(struct page *p) { put_page(p); }\n');
    const mk = spawnSync('mkfifo', [join(dir, 'pipe.c')]);
    assert.equal(mk.status, 0, 'mkfifo failed');
    symlinkSync('.', join(dir, 'loop'));
    symlinkSync('self.c', join(dir, 'self.c'));
    const w = walkPaths([dir]);
    assert.deepEqual(w.files.map((f) => f.path), [join(dir, 'a.c')]);
    assert.deepEqual(w.skipped, [{ path: join(dir, 'pipe.c'), what: 'FIFO' }]);
    assert.deepEqual(w.errors.map((e) => e.message), ['too many levels of symbolic links']);
    for (const jobs of ['1', '2']) {
      const r = await run(['check', '--no-cache', '--jobs', jobs, join(dir, 'a.c'), dir]);
      assert.match(r.err, /skipped .*pipe\.c: not a regular file \(FIFO\)/);
      assert.match(r.err, /self\.c: too many levels of symbolic links/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('progress: on stderr only when it is a terminal; files, rate and ETA', async () => {
  assert.equal(progressLine(50, 200, 10_000), 'faultline: 50/200 files (25%), 5 files/s, ETA 30s');
  let t = 0;
  let written = '';
  const p = createProgress(3, { tty: true, write: (s) => { written += s; }, now: () => t, minIntervalMs: 100 });
  p.update(1);
  t = 50; p.update(2); // too soon: not drawn
  t = 200; p.update(3);
  p.end();
  assert.equal(written.split('\r').filter((s) => s.startsWith('faultline:')).length, 2);
  assert.ok(written.endsWith('\r\x1b[K'));
  let quiet = '';
  const q = createProgress(3, { tty: false, write: (s) => { quiet += s; } });
  q.update(3); q.end();
  assert.equal(quiet, '');
  const examples = join(repoRoot(), 'examples');
  const tty = await run(['check', '--no-cache', examples], { tty: true });
  assert.match(tty.err, /\rfaultline: \d+\/\d+ files \(\d+%\), \d+ files\/s, ETA /);
  const plain = await run(['check', '--no-cache', examples]);
  assert.doesNotMatch(plain.err, /files\/s/);
});

test('options: --jobs, --cache-location need values; -- ends options', () => {
  assert.deepEqual(extractSpeedArgs(['--jobs', '3', 'x']), { argv: ['x'], speed: { cache: true, prefilter: true, jobs: 3 } });
  assert.deepEqual(extractSpeedArgs(['--no-cache', '--cache-location=/c/', '--', '--no-cache']), { argv: ['--', '--no-cache'], speed: { cache: false, prefilter: true, cacheLocation: '/c/' } });
  assert.ok('error' in extractSpeedArgs(['--jobs', '0']));
  assert.ok('error' in extractSpeedArgs(['--jobs']));
  assert.ok('error' in extractSpeedArgs(['--cache-location']));
});
