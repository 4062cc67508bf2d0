// Simulations a rule needs, run where the host wants them (issue 8, "never block the editor").
// The CLI has no broker: a rule simulates in place. The language server installs one that runs
// every simulation in a pool of worker threads (server/sim-pool.ts) and answers "pending" at
// once; the rule reports nothing for that function yet, and the server re-checks the document
// when the simulation finishes. Jobs are plain data (the document text, the function, the
// kernel version), so any simulated rule (uaccess-livelock today, fault-under-lock tomorrow)
// registers a runner under its id and the worker runs it from the job alone.

import type { FunctionIR } from '../ir';
import type { RuleContext } from '../rules/types';
import type { ProfileOutcome } from './from-c/run';
import type { SimResult } from './scenario';

export interface SimJob {
  /** Rule id: which registered runner runs it. */
  rule: string;
  /** Same key, same answer (the rule's: the IR of the function and its helpers, the kernel). */
  key: string;
  text: string;
  fn: string;
  kernel?: string;
  /**
   * A model-based simulation (fault-under-lock, wrprotect-under-read-lock): the rule built the
   * models from its static analysis, the worker runs them as they are (no lowering of the text).
   */
  models?: unknown[];
}

/** What a runner returns: plain data (it crosses a thread boundary). */
export interface SimSummary {
  outcomes: ProfileOutcome[];
  statesExplored: number;
  runs: number;
  bound?: string;
  /** Buffer lengths the runs tried (from the code's guards): what an `ok` covered. */
  lengths?: number[];
}

export interface SimBroker {
  /** The finished simulation, or undefined after queueing it (the answer comes later). */
  get(job: SimJob): SimSummary | undefined;
}

let current: SimBroker | undefined;

/** Install (or remove) the host's broker: the server does, the CLI does not. */
export function setSimulationBroker(b: SimBroker | undefined): void {
  current = b;
}

export function simulationBroker(): SimBroker | undefined {
  return current;
}

export type RuleSimRunner = (fn: FunctionIR, byName: Map<string, FunctionIR>, opts: { kernel?: string; text: string; cancelled: () => boolean }) => SimSummary;

const runners = new Map<string, RuleSimRunner>();

/** A simulated rule registers how to run its simulation from a job (the worker calls it). */
export function registerRuleSimulation(rule: string, run: RuleSimRunner): void {
  runners.set(rule, run);
}

export function ruleSimulationRunner(rule: string): RuleSimRunner | undefined {
  return runners.get(rule);
}

/** Runs the simulations of a rule's models (plain data built on the main thread), in order. */
export type ModelSimRunner = (models: unknown[], opts: { cancelled: () => boolean }) => SimResult[];

const modelRunners = new Map<string, ModelSimRunner>();

/** A rule whose simulations are instantiated models registers how to run them (the worker calls it). */
export function registerModelSimulation<M>(rule: string, run: (models: M[], opts: { cancelled: () => boolean }) => SimResult[]): void {
  modelRunners.set(rule, run as ModelSimRunner);
}

export function modelSimulationRunner(rule: string): ModelSimRunner | undefined {
  return modelRunners.get(rule);
}

/** A model run's answer in the summary: one outcome per model, in the models' order. */
export function modelSummary(results: SimResult[], cancelled: boolean): SimSummary {
  return {
    outcomes: results.map((result, i) => ({ arch: result.arch, result, layout: `model ${i}` })),
    statesExplored: results.reduce((n, r) => n + r.statesExplored, 0),
    runs: results.length,
    ...(cancelled ? { bound: 'cancelled' } : {}),
  };
}

/**
 * The simulations of one function's models, where the host runs them: in place when there is no
 * broker (the CLI: same answer, same order), else through the broker, which answers undefined
 * while the job is pending (the rule reports nothing for the function yet; the server checks the
 * document again when the answer is in). No models, no job.
 */
export function simulateModels<M>(
  rule: string,
  job: { text: string; fn: string; kernel?: string },
  models: M[],
  cancelled: () => boolean,
): SimResult[] | undefined {
  if (!models.length) return [];
  const broker = simulationBroker();
  if (!broker) {
    const run = modelRunners.get(rule);
    if (!run) throw new Error(`no model simulation registered for rule ${rule}`);
    return run(models, { cancelled });
  }
  const key = `${rule}\u0000${JSON.stringify(models)}`;
  const sum = broker.get({ rule, key, text: job.text, fn: job.fn, ...(job.kernel ? { kernel: job.kernel } : {}), models });
  return sum?.outcomes.map((o) => o.result);
}

/** What a rule needs to build the simulation models of one function (no simulation runs). */
export type ModelContext = Pick<RuleContext, 'text' | 'functionsByName' | 'kernel' | 'cancelled'>;

/** A model-based rule's models for one function, each with a one-line label (what it simulates). */
export type FunctionModelBuilder = (fn: FunctionIR, ctx: ModelContext) => { models: unknown[]; labels: string[] };

const functionModels = new Map<string, FunctionModelBuilder>();

/**
 * A model-based rule registers how to build its models for a function from the static analysis
 * alone: "Simulate this function" and its code lens (engine/sim/simulate-seed.ts) find and run
 * them without running the rule.
 */
export function registerFunctionModels(rule: string, build: FunctionModelBuilder): void {
  functionModels.set(rule, build);
}

export function functionModelBuilders(): [string, FunctionModelBuilder][] {
  return [...functionModels.entries()];
}
