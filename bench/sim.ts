// The simulator's scenario suite as a benchmark (issue 3): whole-suite wall time, states/s, and
// explored vs naive interleavings. Prints figures; asserts nothing.
// Targets: whole suite <= 1 s; partial-order reduction >= 10x.

import { performance } from 'node:perf_hooks';
import { SCENARIOS } from '../engine/sim/scenarios/index';
import { runScenario, type ProfileName } from '../engine/sim/scenario';

const ARCHS: ProfileName[] = ['x86_64', 'arm64', 'arm64-mte'];

export interface SimBenchFigures {
  runs: number;
  wallMs: number;
  states: number;
  statesPerSec: number;
  interleavings: number;
  naive: number;
  reduction: number;
  withoutReduction: { interleavings: number; wallMs: number };
}

export function measureSim(): SimBenchFigures {
  // Warm up the JIT once so the figure is the steady-state suite time.
  for (const sc of SCENARIOS) runScenario(sc, { arch: 'x86_64' });
  let states = 0;
  let interleavings = 0;
  let naive = 0;
  let runs = 0;
  const t0 = performance.now();
  for (const sc of SCENARIOS) {
    for (const arch of ARCHS) {
      const r = runScenario(sc, { arch });
      states += r.statesExplored;
      interleavings += r.interleavings;
      naive += r.naive;
      runs++;
    }
  }
  const wallMs = performance.now() - t0;
  let noPor = 0;
  const t1 = performance.now();
  for (const sc of SCENARIOS) for (const arch of ARCHS) noPor += runScenario(sc, { arch, noReduction: true }).interleavings;
  const noPorMs = performance.now() - t1;
  return {
    runs, wallMs, states, statesPerSec: states / (wallMs / 1000), interleavings, naive,
    reduction: naive / Math.max(1, interleavings),
    withoutReduction: { interleavings: noPor, wallMs: noPorMs },
  };
}

export async function benchSim(): Promise<void> {
  const f = measureSim();
  const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d });
  console.log('simulator scenario suite');
  console.log(`  ${SCENARIOS.length} scenarios x ${ARCHS.length} profiles = ${f.runs} runs`);
  console.log(`  wall time: ${fmt(f.wallMs)} ms (target <= 1000 ms)`);
  console.log(`  states explored: ${fmt(f.states, 0)} (${fmt(f.statesPerSec, 0)} states/s)`);
  console.log(`  interleavings explored: ${fmt(f.interleavings, 0)}; naive enumeration: ${fmt(f.naive, 0)}`);
  console.log(`  reduction: ${fmt(f.reduction, 0)}x (target >= 10x)`);
  console.log(`  without sleep sets: ${fmt(f.withoutReduction.interleavings, 0)} interleavings in ${fmt(f.withoutReduction.wallMs)} ms`);
}

if (require.main === module) void benchSim();
