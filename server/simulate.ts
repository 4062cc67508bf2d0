// "Simulate this function" for the editor (issue 4): run engine/sim/simulate-function.ts on a
// document's text off the server's main thread, with progress and cancellation, and turn the
// result into LSP terms (ranges) plus the Markdown trace document.
//
// Why a worker thread: the simulator is synchronous (explorer + interpreter) and a run may take
// its whole time budget (seconds). On the main thread it would block every hover, every edit and
// the very $/cancelRequest that should stop it. The worker polls a shared flag (`cancelled()`,
// which every exploration honours, STYLE.md) and posts the states explored after each run; the
// main thread relays them as window/workDoneProgress reports. A worker that ignores the flag is
// terminated after a grace period, so a cancel always ends the request promptly.
//
// The worker is this same file: the bundle (dist/server.js) or out/server/simulate.js started with
// `workerData.kind === SIMULATION_WORKER`; server/main.ts stays out of the way in that case.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Range } from 'vscode-languageserver';
import { simulateFunction, traceDocument, type SimulationResult } from '../engine/sim/simulate-function';
import { toRange } from './convert';

export const SIMULATION_WORKER = 'faultline-simulation-worker';

/** The command the server executes (advertised); the VS Code client's own `faultline.simulate` calls it. */
export const SERVER_SIMULATE_COMMAND = 'faultline.server.simulate';
/** The client-side command code lenses and code actions name (VS Code implements it; see docs/editor.md). */
export const SIMULATE_COMMAND = 'faultline.simulate';

export const DEFAULT_MAX_STATES = 200000;
export const DEFAULT_SIMULATION_TIME_MS = 10000;
/** After a cancel, how long a worker may take to notice before it is terminated. */
const CANCEL_GRACE_MS = 1500;

export interface SimulationRequest {
  text: string;
  function: string;
  path?: string;
  arch?: string;
  kernel?: string;
  maxStates: number;
  timeMs: number;
}

export interface SimulationHooks {
  cancelled: () => boolean;
  /** Subscribe to the cancel signal (so a cancel does not wait for the next poll). */
  onCancel?: (listener: () => void) => void;
  onProgress?: (explored: number) => void;
  /** Run in this thread (tests of the conversion, or when no worker can start). */
  inProcess?: boolean;
}

/** What workspace/executeCommand `faultline.server.simulate` returns. */
export interface SimulateCommandResult {
  uri: string;
  function: string;
  /** Document version the simulation ran on; `currentVersion` is the version when it finished. */
  version: number;
  currentVersion: number;
  verdict: SimulationResult['verdict'];
  arch: string;
  kernel: string;
  profiles: SimulationResult['profiles'];
  statesExplored: number;
  /** True when a cancel (request or progress) stopped it: the verdict is then inconclusive. */
  cancelled: boolean;
  bound?: string;
  note: string;
  error?: string;
  /** Index in `steps` of the deciding step (-1 when none). */
  decisive: number;
  /** Who runs each thread of the trace (a seed rule's scenario); absent for the fault-in loop simulation. */
  threads?: string[];
  /** The seed rule whose scenario ran. */
  rule?: string;
  steps: { thread: number; range?: Range; operation: string; delta?: string; note?: string }[];
  /** The Markdown trace document (engine traceDocument), each step linked to `uri#L<line>`. */
  trace: string;
  /** The virtual document a client may show the trace in. */
  traceUri: string;
}

function failedResult(fnName: string, kernel: string | undefined, error: string, cancelled = false): SimulationResult {
  return {
    verdict: 'inconclusive', arch: '', kernel: kernel ?? '', function: fnName, note: error, steps: [], decisive: -1, statesExplored: 0,
    interleavings: 0, naive: 0, profiles: [], loops: [], roles: { user: [], len: [] }, ...(cancelled ? { bound: 'cancelled' } : { error }),
  };
}

/**
 * A run cancelled early can come back as an input error: lowering stopped by the cancel yields
 * an empty file, and simulateFunction then reports "no function defined". Call it cancelled.
 */
function asCancelled(r: SimulationResult, req: SimulationRequest): SimulationResult {
  if (r.bound === 'cancelled' || r.verdict !== 'inconclusive') return r;
  return r.steps.length || r.profiles.length ? { ...r, bound: 'cancelled' } : failedResult(req.function, req.kernel ?? r.kernel, 'cancelled', true);
}

async function runInProcess(req: SimulationRequest, hooks: SimulationHooks): Promise<SimulationResult> {
  const r = await runSimulationInThisThread(req, hooks);
  return hooks.cancelled() ? asCancelled(r, req) : r;
}

function runSimulationInThisThread(req: SimulationRequest, hooks: SimulationHooks): Promise<SimulationResult> {
  return simulateFunction(req.text, req.function, {
    ...(req.path ? { path: req.path } : {}),
    ...(req.arch ? { arch: req.arch } : {}),
    ...(req.kernel ? { kernel: req.kernel } : {}),
    maxStates: req.maxStates,
    cancelled: hooks.cancelled,
    ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
  });
}

type WorkerMessage = { type: 'progress'; explored: number } | { type: 'done'; result: SimulationResult } | { type: 'error'; message: string };

/** Run the simulation in a worker thread (in-process when asked, or when no worker can start). */
export function runSimulation(req: SimulationRequest, hooks: SimulationHooks): Promise<SimulationResult> {
  if (hooks.inProcess) return runInProcess(req, hooks);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker;
  try {
    // A heap cap of its own: a budget set too high ends this run (ERR_WORKER_OUT_OF_MEMORY, an
    // inconclusive answer), not the server with every open document.
    worker = new Worker(__filename, { workerData: { kind: SIMULATION_WORKER, req, flag }, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
  } catch {
    return runInProcess(req, hooks);
  }
  return new Promise<SimulationResult>((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: SimulationResult) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      clearInterval(poll);
      void worker.terminate().catch(() => undefined);
      resolve(r);
    };
    const cancel = () => {
      if (settled || Atomics.load(flag, 0) === 1) return;
      Atomics.store(flag, 0, 1);
      // The explorer polls the flag; if it does not answer in time the run ends here anyway.
      timers.push(setTimeout(() => finish(failedResult(req.function, req.kernel, 'cancelled', true)), CANCEL_GRACE_MS));
    };
    hooks.onCancel?.(cancel);
    // Tokens without a listener API (or a listener that never fires) are polled.
    const poll = setInterval(() => {
      if (hooks.cancelled()) cancel();
    }, 50);
    // Never longer than the budget plus slack: a wedged worker must not hold the request for ever.
    timers.push(setTimeout(() => {
      Atomics.store(flag, 0, 1);
      finish(failedResult(req.function, req.kernel, `the simulation did not finish within ${req.timeMs} ms`));
    }, req.timeMs + 15000));
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') hooks.onProgress?.(m.explored);
      else if (m.type === 'done') finish(Atomics.load(flag, 0) === 1 ? asCancelled(m.result, req) : m.result);
      else finish(failedResult(req.function, req.kernel, `the simulation failed: ${m.message}`));
    });
    worker.on('error', (err) => finish(failedResult(req.function, req.kernel, `the simulation failed: ${err instanceof Error ? err.message : String(err)}`)));
    worker.on('exit', (code) => finish(failedResult(req.function, req.kernel, `the simulation worker exited (code ${code})`)));
  });
}

/** The worker side: run, post progress and the result. */
function workerMain(): void {
  const data = workerData as { req: SimulationRequest; flag: Int32Array };
  const port = parentPort!;
  const cancelled = () => Atomics.load(data.flag, 0) === 1;
  runInProcess(data.req, { cancelled, onProgress: (explored) => port.postMessage({ type: 'progress', explored } satisfies WorkerMessage) }).then(
    (result) => port.postMessage({ type: 'done', result } satisfies WorkerMessage),
    (err) => port.postMessage({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies WorkerMessage),
  );
}

export function isSimulationWorker(): boolean {
  return !isMainThread && (workerData as { kind?: unknown } | undefined)?.kind === SIMULATION_WORKER;
}

if (isSimulationWorker()) workerMain();

/** The virtual document of a function's trace (`faultline-trace:/<function>.md`; VS Code shows it read-only). */
export function traceUriFor(fnName: string): string {
  return `faultline-trace:/${encodeURIComponent(fnName)}.md`;
}

export function toCommandResult(r: SimulationResult, uri: string, version: number, currentVersion: number): SimulateCommandResult {
  const cancelled = r.bound === 'cancelled';
  return {
    uri,
    function: r.function,
    version,
    currentVersion,
    verdict: r.verdict,
    arch: r.arch,
    kernel: r.kernel,
    profiles: r.profiles,
    statesExplored: r.statesExplored,
    cancelled,
    ...(r.bound ? { bound: r.bound } : {}),
    note: r.note,
    ...(r.error ? { error: r.error } : {}),
    decisive: r.decisive,
    ...(r.threads ? { threads: r.threads } : {}),
    ...(r.rule ? { rule: r.rule } : {}),
    steps: r.steps.map((s) => ({
      thread: s.thread,
      ...(s.range ? { range: toRange(s.range) } : {}),
      operation: s.operation,
      ...(s.delta ? { delta: s.delta } : {}),
      ...(s.note ? { note: s.note } : {}),
    })),
    trace: traceDocument(r, uri),
    traceUri: traceUriFor(r.function),
  };
}
