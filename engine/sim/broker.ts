// Simulations a rule needs, run where the host wants them (issue 8, "never block the editor").
// The CLI has no broker: a rule simulates in place. The language server installs one that runs
// every simulation in a pool of worker threads (server/sim-pool.ts) and answers "pending" at
// once; the rule reports nothing for that function yet, and the server re-checks the document
// when the simulation finishes. Jobs are plain data (the document text, the function, the
// kernel version), so any simulated rule (uaccess-livelock today, fault-under-lock tomorrow)
// registers a runner under its id and the worker runs it from the job alone.

import type { FunctionIR } from '../ir';
import type { ProfileOutcome } from './from-c/run';

export interface SimJob {
  /** Rule id: which registered runner runs it. */
  rule: string;
  /** Same key, same answer (the rule's: the IR of the function and its helpers, the kernel). */
  key: string;
  text: string;
  fn: string;
  kernel?: string;
}

/** What a runner returns: plain data (it crosses a thread boundary). */
export interface SimSummary {
  outcomes: ProfileOutcome[];
  statesExplored: number;
  runs: number;
  bound?: string;
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
