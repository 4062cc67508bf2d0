// Worker threads over files for `faultline check` (issue 10: use both cores). Each worker loads
// its own engine (parser, wasm) and runs engine/cli/check-file.ts on batches of jobs; outcomes
// come back tagged with the job's index, and the caller puts them back in the walk's order, so
// the output is the serial run's, byte for byte.
//
// A worker is this very file (the esbuild bundle dist/cli.js, or out/engine/cli/pool.js in a
// development build) started with `workerData.faultlineCheckWorker`. Failure isolation: a file
// whose analysis throws is reported as an internal error and its worker is replaced before the
// next file (the wasm parser may be left in a bad state); a worker that dies outright (a wasm
// abort, out of memory) costs only the file it was on, found through a shared progress cell, and
// the rest of its batch is handed to a fresh worker.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createEngine, type Engine } from '../engine';
import { checkFile, treeReader, type CheckOptions, type FileContext, type FileJob, type FileOutcome } from './check-file';
import { tablePrefilter } from './prefilter';

interface WorkerInit {
  faultlineCheckWorker: true;
  opts: CheckOptions;
  /** Int32 cell: index of the job the worker is on (-1 between jobs). */
  current: SharedArrayBuffer;
}

type ToWorker = { type: 'batch'; jobs: FileJob[] };
type FromWorker =
  | { type: 'ready' }
  | { type: 'init-failed'; message: string }
  /** `stopped`: the worker stops after the outcomes it sent (an internal error); the rest is requeued. */
  | { type: 'done'; outcomes: { index: number; outcome: FileOutcome }[]; stopped: boolean };

// ---- worker side ------------------------------------------------------------------------------

function startWorker(init: WorkerInit): void {
  const port = parentPort!;
  const current = new Int32Array(init.current);
  let engine: Engine | undefined;
  const ctx: FileContext = {
    engine: () => engine!,
    opts: init.opts,
    prefilter: init.opts.prefilter ? tablePrefilter() : undefined,
    readBase: treeReader(init.opts.tree, init.opts.limit),
  };
  // Batches are queued here and checked one after the other: the pool sends the next batch
  // before this one is done (BATCHES_IN_FLIGHT), and two message handlers must not interleave
  // their jobs (the progress cell names the job being checked).
  const pending: FileJob[][] = [];
  let draining = false;
  const drain = async (): Promise<void> => {
    draining = true;
    while (pending.length) {
      const jobs = pending.shift()!;
      const outcomes: { index: number; outcome: FileOutcome }[] = [];
      let stopped = false;
      for (const job of jobs) {
        Atomics.store(current, 0, job.index);
        await engine!.ready();
        const outcome = checkFile(ctx, job);
        outcomes.push({ index: job.index, outcome });
        if (outcome.k === 'failure' && outcome.internal) { stopped = true; break; }
      }
      Atomics.store(current, 0, -1);
      port.postMessage({ type: 'done', outcomes, stopped } satisfies FromWorker);
      // The pool replaces this worker and checks the rest (of this batch and the queued ones) elsewhere.
      if (stopped) { pending.length = 0; break; }
    }
    draining = false;
  };
  port.on('message', (msg: ToWorker) => {
    if (msg.type !== 'batch') return;
    pending.push(msg.jobs);
    if (!draining) void drain();
  });
  createEngine().then(
    (e) => { engine = e; port.postMessage({ type: 'ready' } satisfies FromWorker); },
    (e) => { port.postMessage({ type: 'init-failed', message: (e as Error)?.message ?? String(e) } satisfies FromWorker); },
  );
}

if (!isMainThread && (workerData as Partial<WorkerInit> | null)?.faultlineCheckWorker) startWorker(workerData as WorkerInit);

// ---- main side --------------------------------------------------------------------------------

/**
 * Most files of a tree end at the byte prefilter in microseconds, so a batch is mostly cheap
 * files: a larger one costs fewer messages (each a structured clone both ways). Batches shrink
 * towards the end of the queue (a quarter of what is left per worker pair), so a slow file near
 * the end does not leave the other worker idle for long.
 */
const BATCH_MAX = 128;

/**
 * Batches a worker holds at once: the one it checks and the next, so it never waits for the main
 * thread (which is still walking the tree while the first batches are checked, and answers a
 * message only between two walk steps). With one batch at a time the two workers of a Linux 6.1
 * run waited 0.3 s each for their next batch.
 */
const BATCHES_IN_FLIGHT = 2;

/**
 * Jobs left in the queue, per worker, below which a worker is sent no batch ahead: at the end of
 * the run a job waiting behind a slow file in one worker's hands would leave the other idle, and
 * the main thread, done walking, answers at once.
 */
const TAIL_JOBS_PER_WORKER = 16;

export interface PoolOptions {
  workers: number;
  opts: CheckOptions;
  /** Called after each batch with the number of files done so far. */
  onProgress?: (done: number) => void;
  /** The worker script (default: this module's file). */
  script?: string;
}

/**
 * Jobs that may still be arriving: the file walk is still reading the tree
 * (engine/cli/run-files.ts). `jobs` is the caller's list, which it may keep appending to; runPool
 * hands out what is there at each flush() and waits for more until end().
 */
export class JobFeed {
  ended = false;
  private listener: (() => void) | undefined;

  constructor(readonly jobs: FileJob[] = []) {}

  /** Add jobs (they reach the pool at the next flush() or end()). */
  push(...jobs: FileJob[]): void {
    this.jobs.push(...jobs);
  }

  /** Jobs were added to `jobs`. */
  flush(): void {
    this.listener?.();
  }

  /** No more jobs. */
  end(): void {
    this.ended = true;
    this.listener?.();
  }

  /** The pool's: called on flush() and end(). */
  listen(cb: () => void): void {
    this.listener = cb;
  }
}

/**
 * Run the feed's jobs on worker threads; resolves with the outcomes in the jobs' order once the
 * feed has ended and every job is done. Rejects when workers cannot start (three died or failed
 * before they were ready): the caller then runs the files itself.
 */
export function runPool(feed: JobFeed, p: PoolOptions): Promise<FileOutcome[]> {
  const script = p.script ?? __filename;
  const jobs = feed.jobs;
  const outcomes: (FileOutcome | undefined)[] = [];
  const byIndex = new Map<number, number>();
  // Work queue of positions in `jobs`; requeued work goes to the front.
  let queue: number[] = [];
  /** Jobs of the feed already queued. */
  let known = 0;
  const takeNew = () => {
    for (; known < jobs.length; known++) {
      byIndex.set(jobs[known].index, known);
      queue.push(known);
    }
  };
  takeNew();
  let done = 0;
  const nWorkers = Math.max(1, Math.min(p.workers, feed.ended ? jobs.length : p.workers));
  return new Promise((resolvePool, rejectPool) => {
    let live = 0;
    let finished = false;
    let startFailure: string | undefined;
    /** Workers that died or failed before they were ready: after 3, no more are started. */
    let initDeaths = 0;
    const MAX_INIT_DEATHS = 3;
    const finish = () => {
      if (finished) return;
      finished = true;
      resolvePool(jobs.map((job, i) => outcomes[i] ?? { k: 'failure', message: `internal error: no result for ${job.path}` }));
    };
    const nextBatch = (): number[] => {
      const size = Math.max(1, Math.min(BATCH_MAX, Math.ceil(queue.length / (2 * nWorkers))));
      const batch = queue.slice(0, size);
      queue = queue.slice(size);
      return batch;
    };
    /** Batches a worker may hold: one more than the one it checks, but for the last few jobs. */
    const batchesAhead = (): number => (!feed.ended || queue.length > TAIL_JOBS_PER_WORKER * nWorkers ? BATCHES_IN_FLIGHT : 1);
    /** Workers waiting for jobs the walk has not found yet: each entry sends them their next batch. */
    const waiting: (() => void)[] = [];
    feed.listen(() => {
      takeNew();
      // More work for the waiting workers; at the end with nothing left, they retire.
      while (waiting.length && (queue.length || feed.ended)) waiting.shift()!();
    });
    const spawn = () => {
      const current = new SharedArrayBuffer(4);
      const cell = new Int32Array(current);
      Atomics.store(cell, 0, -1);
      const init: WorkerInit = { faultlineCheckWorker: true, opts: p.opts, current };
      let worker: Worker;
      try {
        worker = new Worker(script, { workerData: init });
      } catch (e) {
        startFailure = (e as Error).message;
        if (live === 0) rejectPool(new Error(startFailure));
        return;
      }
      live++;
      /** Batches sent and not answered yet, oldest first (the worker answers them in order). */
      let inFlight: number[][] = [];
      let retired = false;
      let ready = false;
      // Tops the worker up to its batches in flight; with nothing left it waits for the walk (in
      // `waiting`), or retires once the feed has ended and its batches are answered.
      const send = () => {
        while (!retired && inFlight.length < batchesAhead()) {
          const batch = nextBatch();
          if (!batch.length) {
            if (!feed.ended) { waiting.push(send); return; }
            if (!inFlight.length) { retired = true; void worker.terminate(); }
            return;
          }
          inFlight.push(batch);
          worker.postMessage({ type: 'batch', jobs: batch.map((i) => jobs[i]) } satisfies ToWorker);
        }
      };
      const replace = () => {
        retired = true;
        void worker.terminate();
        if (queue.length || !feed.ended) spawn();
      };
      worker.on('message', (msg: FromWorker) => {
        if (retired) return;
        if (msg.type === 'ready') { ready = true; send(); return; }
        if (msg.type === 'init-failed') { startFailure = msg.message; initDeaths++; retired = true; void worker.terminate(); return; }
        const answered = inFlight.shift() ?? [];
        for (const { index, outcome } of msg.outcomes) {
          const pos = byIndex.get(index)!;
          if (!outcomes[pos]) { outcomes[pos] = outcome; done++; }
        }
        p.onProgress?.(done);
        if (msg.stopped) {
          // It stops after an internal error: the rest of that batch and the batches behind it go back.
          const left = [...answered.slice(msg.outcomes.length), ...inFlight.flat()];
          queue = [...left, ...queue];
          inFlight = [];
          replace();
        } else if (!waiting.includes(send)) {
          send();
        }
      });
      const died = (why: string) => {
        if (retired) return;
        retired = true;
        // The file it was on is the one that killed it; the others of its batches are retried.
        const at = Atomics.load(cell, 0);
        const left: number[] = [];
        for (const i of inFlight.flat()) {
          if (outcomes[i]) continue;
          if (jobs[i].index === at) { outcomes[i] = { k: 'failure', message: `internal error while analyzing: the analysis crashed (${why}); the other files were checked by a fresh worker`, internal: true }; done++; }
          else left.push(i);
        }
        inFlight = [];
        queue = [...left, ...queue];
        if (!ready) { initDeaths++; startFailure = why; }
        if ((queue.length || !feed.ended) && initDeaths < MAX_INIT_DEATHS) spawn();
      };
      worker.on('error', (e) => died(e?.message ?? String(e)));
      worker.on('exit', (code) => {
        live--;
        if (!retired) died(`worker exited with status ${code}`);
        if (live === 0) {
          if (!queue.length && feed.ended) finish();
          // Workers keep dying before they are ready: the caller checks the files itself.
          else if (initDeaths >= MAX_INIT_DEATHS) rejectPool(new Error(startFailure ?? 'no worker could start'));
          else spawn();
        }
      });
    };
    for (let i = 0; i < nWorkers; i++) spawn();
  });
}
