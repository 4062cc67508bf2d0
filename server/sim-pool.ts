// The server's simulation pool (issue 8, "never block the editor"): every simulation a rule needs
// runs in one of a few long-lived worker threads, never on the server's main thread. The rule
// asks the broker (engine/sim/broker.ts) and gets "pending" at once; the job is queued, a worker
// runs it, the answer is cached by the job's key and the server is told which document to
// re-check (the documents whose text is the job's). Jobs for a text no open document has any more
// are dropped (queued) or cancelled (running, through a shared flag the explorer polls) when a
// document changes or closes.
//
// The worker is this same file: the bundle (dist/server.js) or out/server/sim-pool.js started
// with `workerData.kind === POOL_WORKER`; server/main.ts starts no server in that case.

import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { FunctionIR } from '../engine/ir';
import { modelSimulationRunner, modelSummary, ruleSimulationRunner, type SimBroker, type SimJob, type SimSummary } from '../engine/sim/broker';
import { loadCParser } from '../engine/syntax/parser';
import { lowerC } from '../engine/lower/index';
// The rules register their simulation runners when loaded (the worker needs them).
import '../engine/rules/registry';

const POOL_WORKER = 'faultline-simulation-pool-worker';
/** Answers kept (a document's functions times a few versions). */
const RESULT_CACHE = 256;

type ToWorker = { type: 'job'; id: number; job: SimJob };
type FromWorker = { type: 'done'; id: number; summary: SimSummary } | { type: 'error'; id: number; message: string };

interface Slot {
  worker: Worker;
  flag: Int32Array;
  busy?: { id: number; job: SimJob };
  /** A job taken back by hold(), still stopping: the slot takes no new job until it answers. */
  draining?: number;
}

export interface SimPoolOptions {
  /** Worker threads (default: cores - 1, at least 1, at most 4). */
  size?: number;
  /** A job finished with an answer: re-check the documents with this text. */
  onResult?: (text: string, key: string) => void;
  log?: (msg: string) => void;
  /** Run jobs on this thread, one per macrotask (tests; hosts without worker threads). */
  inProcess?: boolean;
}

export class SimulationPool implements SimBroker {
  private slots: Slot[] = [];
  private queue: { id: number; job: SimJob }[] = [];
  private results = new Map<string, SimSummary>();
  private inFlight = new Set<string>();
  private nextId = 1;
  private closed = false;
  /** Figures for the bench and the tests. */
  stats = { queued: 0, finished: 0, cancelled: 0, failed: 0 };

  constructor(private opts: SimPoolOptions = {}) {
    if (opts.inProcess) return;
    const size = opts.size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    for (let i = 0; i < size; i++) {
      try {
        this.slots.push(this.spawn());
      } catch (err) {
        opts.log?.(`faultline: simulation worker could not start (${err instanceof Error ? err.message : String(err)}); simulations run in process`);
        this.opts = { ...this.opts, inProcess: true };
        break;
      }
    }
  }

  private spawn(): Slot {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(__filename, { workerData: { kind: POOL_WORKER, flag }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    const slot: Slot = { worker, flag };
    worker.on('message', (m: FromWorker) => this.finished(slot, m));
    worker.on('error', (err) => this.crashed(slot, err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => { if (!this.closed) this.crashed(slot, `exited (code ${code})`); });
    worker.unref();
    return slot;
  }

  get(job: SimJob): SimSummary | undefined {
    const hit = this.results.get(job.key);
    if (hit) {
      this.results.delete(job.key);
      this.results.set(job.key, hit);
      return hit;
    }
    if (!this.inFlight.has(job.key) && !this.closed) {
      this.inFlight.add(job.key);
      this.queue.push({ id: this.nextId++, job });
      this.stats.queued++;
      this.pump();
    }
    return undefined;
  }

  /** Jobs waiting or running (the bench waits for 0). */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.busy || s.draining).length + (this.running ? 1 : 0);
  }

  /** Drop queued jobs and cancel running ones whose text no open document has any more (an edit, a close). */
  retainTexts(texts: Set<string>): void {
    const keep: typeof this.queue = [];
    for (const q of this.queue) {
      if (!texts.has(q.job.text)) { this.inFlight.delete(q.job.key); this.stats.cancelled++; } else keep.push(q);
    }
    this.queue = keep;
    for (const s of this.slots) if (s.busy && !texts.has(s.busy.job.text)) Atomics.store(s.flag, 0, 1);
    if (this.running && !texts.has(this.running.job.text)) this.runningCancelled = true;
  }

  /**
   * Hold background jobs while something the user asked for runs ("Simulate this function"):
   * running jobs are cancelled and queued again, nothing starts until every hold is released.
   * On a 2-core machine three busy threads would starve the main thread's timers.
   */
  hold(): () => void {
    this.holds++;
    if (this.running && this.takenBack !== this.running.id) {
      this.queue.unshift(this.running);
      this.takenBack = this.running.id;
      this.runningCancelled = true;
    }
    for (const s of this.slots) {
      if (!s.busy) continue;
      this.queue.unshift(s.busy);
      s.draining = s.busy.id;
      s.busy = undefined;
      Atomics.store(s.flag, 0, 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.pump();
    };
  }

  private holds = 0;
  /** The in-process job hold() took back (its cancelled answer is ignored). */
  private takenBack: number | undefined;

  dispose(): void {
    this.closed = true;
    this.queue = [];
    for (const s of this.slots) void s.worker.terminate().catch(() => undefined);
    this.slots = [];
  }

  private running: { id: number; job: SimJob } | undefined;
  private runningCancelled = false;

  private pump(): void {
    if (this.holds > 0) return;
    if (this.opts.inProcess) {
      if (this.running || !this.queue.length) return;
      const next = this.queue.shift()!;
      this.running = next;
      this.runningCancelled = false;
      // One job per macrotask: hovers and edits are served between jobs.
      setImmediate(() => {
        const back = () => {
          if (this.takenBack !== next.id) return false;
          this.takenBack = undefined;
          this.running = undefined;
          this.pump();
          return true;
        };
        void runJob(next.job, () => this.runningCancelled || this.closed).then(
          (summary) => { if (back()) return; this.running = undefined; this.settle(next.job, summary); this.pump(); },
          (err) => { if (back()) return; this.running = undefined; this.fail(next.job, err); this.pump(); },
        );
      });
      return;
    }
    for (const s of this.slots) {
      if (s.busy || s.draining || !this.queue.length) continue;
      const next = this.queue.shift()!;
      s.busy = next;
      Atomics.store(s.flag, 0, 0);
      s.worker.postMessage({ type: 'job', id: next.id, job: next.job } satisfies ToWorker);
    }
  }

  private finished(slot: Slot, m: FromWorker): void {
    if (slot.draining === m.id) {
      // The answer of a job hold() took back: it runs again later.
      slot.draining = undefined;
      this.pump();
      return;
    }
    const b = slot.busy;
    if (!b || b.id !== m.id) return;
    slot.busy = undefined;
    if (m.type === 'done') this.settle(b.job, m.summary);
    else this.fail(b.job, m.message);
    this.pump();
  }

  private settle(job: SimJob, summary: SimSummary): void {
    this.inFlight.delete(job.key);
    // A cancelled run is not an answer: the next analysis asks again.
    if (summary.bound === 'cancelled') { this.stats.cancelled++; return; }
    this.stats.finished++;
    this.results.set(job.key, summary);
    if (this.results.size > RESULT_CACHE) this.results.delete(this.results.keys().next().value!);
    this.opts.onResult?.(job.text, job.key);
  }

  private fail(job: SimJob, err: unknown): void {
    this.inFlight.delete(job.key);
    this.stats.failed++;
    this.opts.log?.(`faultline: simulation of ${job.fn}() failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  private crashed(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    if (slot.busy) this.fail(slot.busy.job, `worker ${why}`);
    this.slots.splice(i, 1);
    if (this.closed) return;
    try {
      this.slots.push(this.spawn());
    } catch {
      if (!this.slots.length) this.opts = { ...this.opts, inProcess: true };
    }
    this.pump();
  }
}

/**
 * Run one job: a model job runs the rule's models as they came; otherwise lower the text, find
 * the function, run the rule's registered simulation.
 */
async function runJob(job: SimJob, cancelled: () => boolean): Promise<SimSummary> {
  if (job.models) {
    const runModels = modelSimulationRunner(job.rule);
    if (!runModels) throw new Error(`no model simulation registered for rule ${job.rule}`);
    const results = runModels(job.models, { cancelled });
    return modelSummary(results, cancelled());
  }
  const run = ruleSimulationRunner(job.rule);
  if (!run) throw new Error(`no simulation registered for rule ${job.rule}`);
  const parser = await loadCParser();
  const file = lowerC(parser, job.text, { cancelled });
  const byName = new Map<string, FunctionIR>(file.functions.map((f) => [f.name, f] as const));
  const fn = byName.get(job.fn);
  if (!fn) return { outcomes: [], statesExplored: 0, runs: 0, bound: cancelled() ? 'cancelled' : 'no such function' };
  const r = run(fn, byName, { ...(job.kernel ? { kernel: job.kernel } : {}), text: job.text, cancelled });
  return cancelled() && r.bound ? { ...r, bound: 'cancelled' } : r;
}

function workerMain(): void {
  const data = workerData as { flag: Int32Array };
  const port = parentPort!;
  const cancelled = () => Atomics.load(data.flag, 0) === 1;
  port.on('message', (m: ToWorker) => {
    if (m.type !== 'job') return;
    runJob(m.job, cancelled).then(
      (summary) => port.postMessage({ type: 'done', id: m.id, summary } satisfies FromWorker),
      (err) => port.postMessage({ type: 'error', id: m.id, message: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies FromWorker),
    );
  });
}

export function isPoolWorker(): boolean {
  return !isMainThread && (workerData as { kind?: unknown } | undefined)?.kind === POOL_WORKER;
}

if (isPoolWorker()) workerMain();
