// The machine rendering of a simulator result: the `simulate --json` contract of ARCHITECTURE.md
// ({"verdict","arch","steps":[...],"statesExplored"} plus "interleavings" and "naive").
// Ranges become 1-based line/column like every other JSON the CLI prints.

import type { TraceStep } from '../findings';
import type { ExploreResult } from '../sim/explore';

/** What the JSON rendering needs: an explorer result plus the run's name, profile and kernel. */
export interface SimJsonInput extends ExploreResult {
  scenario: string;
  arch: string;
  kernel: string;
  expected?: string;
  choice?: string;
  threads?: string[];
}

export interface SimJsonStep {
  thread: number;
  operation: string;
  delta?: string;
  note?: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** Typed facts of the step (copy, faultIn, choice, cycle, sameState, precondition). */
  facts?: TraceStep['facts'];
}

export function stepToJson(s: TraceStep): SimJsonStep {
  const o: SimJsonStep = { thread: s.thread, operation: s.operation };
  if (s.delta) o.delta = s.delta;
  if (s.note) o.note = s.note;
  if (s.facts) o.facts = s.facts;
  if (s.range) {
    o.line = s.range.startRow + 1;
    o.column = s.range.startCol + 1;
    o.endLine = s.range.endRow + 1;
    o.endColumn = s.range.endCol + 1;
  }
  return o;
}

export function simResultToJson(r: SimJsonInput): Record<string, unknown> {
  return {
    verdict: r.verdict,
    arch: r.arch,
    kernel: r.kernel,
    scenario: r.scenario,
    ...(r.expected ? { expected: r.expected } : {}),
    ...(r.choice ? { choice: r.choice } : {}),
    note: r.note,
    ...(r.threads ? { threads: r.threads } : {}),
    steps: r.steps.map(stepToJson),
    decisiveStep: r.decisive,
    statesExplored: r.statesExplored,
    interleavings: r.interleavings,
    naive: r.naive,
    ...(r.bound ? { bound: r.bound } : {}),
  };
}
