// The simulator's scenario suite as a benchmark (issue 3): whole-suite wall time, states/s, and
// explored vs naive interleavings. Prints figures; asserts nothing.
// Targets: whole suite <= 1 s; partial-order reduction >= 10x.

import { performance } from 'node:perf_hooks';
import { SCENARIOS } from '../engine/sim/scenarios/index';
import { runScenario, type ProfileName } from '../engine/sim/scenario';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../engine/syntax/parser';
import { lowerC } from '../engine/lower/index';
import { FaultInLoopFinder } from '../engine/analysis/faultin/index';
import { copyFaulted, faultInCalled, isFaultInCycle, simulateFunctionIR } from '../engine/sim/from-c/run';
import { SIM_CHECKS } from '../engine/sim/interp';
import type { Budget } from '../engine/sim/explore';

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

if (require.main === module && !process.argv.includes('--reductions') && !process.argv.includes('--loops')) void benchSim();

// ---- Reductions, measured (issue 8): the same inputs with each reduction turned off. ----


type Config = { name: string; flags: Pick<Budget, 'noReduction' | 'noHashing' | 'noDeadLocals'> };
const CONFIGS: Config[] = [
  { name: 'all reductions', flags: {} },
  { name: 'no sleep sets', flags: { noReduction: true } },
  { name: 'no dead-local merging', flags: { noDeadLocals: true } },
  { name: 'no state hashing', flags: { noHashing: true } },
];

export interface ReductionRow { config: string; scenarioStates: number; scenarioTransitions: number; scenarioMs: number; fromCStates: number; fromCTransitions: number; fromCMs: number; verdicts: string }

export async function measureReductions(): Promise<ReductionRow[]> {
  const dir = join(__dirname, '..', '..', 'test', 'fixtures', 'uaccess-livelock');
  const parser = await loadCParser();
  const inputs = readdirSync(dir).filter((f) => f.endsWith('.c')).flatMap((f) => {
    const file = lowerC(parser, readFileSync(join(dir, f), 'utf8'));
    const byName = new Map(file.functions.map((fn) => [fn.name, fn] as const));
    const finder = new FaultInLoopFinder(byName);
    return file.functions.map((fn) => ({ f, fn, byName, loops: finder.loops(fn) })).filter((x) => x.loops.length);
  });
  const rows: ReductionRow[] = [];
  // The first configuration runs twice: once to warm the JIT (not reported).
  for (const [k, c] of [CONFIGS[0], ...CONFIGS].entries()) {
    let sStates = 0, sTrans = 0;
    const t0 = performance.now();
    for (const sc of SCENARIOS) for (const arch of ARCHS) {
      const r = runScenario(sc, { arch, maxStates: 20000, ...c.flags });
      sStates += r.statesExplored;
      sTrans += r.transitions ?? 0;
    }
    const sMs = performance.now() - t0;
    let fStates = 0, fTrans = 0;
    const verdicts: string[] = [];
    const t1 = performance.now();
    for (const x of inputs) {
      const r = simulateFunctionIR(x.fn, x.byName, {
        loopBlocks: new Set(x.loops.flatMap((l) => l.loop.body)), decidingVerdicts: ['livelock'], livelockRequires: [copyFaulted, faultInCalled],
        maxStates: 4000, maxTotalStates: 30000, ...c.flags,
      });
      fStates += r.statesExplored;
      fTrans += r.transitions;
      verdicts.push(r.outcomes.map((o) => o.result.verdict[0]).join(''));
    }
    if (k === 0) continue;
    rows.push({ config: c.name, scenarioStates: sStates, scenarioTransitions: sTrans, scenarioMs: sMs, fromCStates: fStates, fromCTransitions: fTrans, fromCMs: performance.now() - t1, verdicts: verdicts.join(' ') });
  }
  return rows;
}

export async function benchReductions(): Promise<void> {
  const rows = await measureReductions();
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d });
  console.log(`reductions, measured (scenario suite x ${ARCHS.length} profiles, 20,000 states per run; uaccess-livelock fixtures from C, 30,000 states per function)`);
  console.log(`  ${'configuration'.padEnd(24)} ${'scen. states'.padStart(12)} ${'transitions'.padStart(12)} ${'ms'.padStart(8)}   ${'C states'.padStart(10)} ${'transitions'.padStart(12)} ${'ms'.padStart(8)}`);
  for (const r of rows) {
    console.log(`  ${r.config.padEnd(24)} ${fmt(r.scenarioStates).padStart(12)} ${fmt(r.scenarioTransitions).padStart(12)} ${fmt(r.scenarioMs).padStart(8)}   ${fmt(r.fromCStates).padStart(10)} ${fmt(r.fromCTransitions).padStart(12)} ${fmt(r.fromCMs).padStart(8)}`);
  }
  const base = rows[0].verdicts;
  for (const r of rows.slice(1)) if (r.verdicts !== base) console.log(`  note: verdicts differ with '${r.config}' (budget hit): ${r.verdicts}`);
}

if (require.main === module && process.argv.includes('--reductions')) void benchReductions();

// ---- Kernel-shaped loops (issue 10): the uaccess-livelock rule's simulation per function. ----
//
// Inputs: bench/inputs/sim-write-loops.c (a two-level buffered write shaped like the kernel's
// buffered-write loops, which use the rule's whole state budget) and the rule's own fixtures.
// Each function is simulated as the rule does (30,000 states over every profile, length, layout
// and adversary choice), twice: as the explorer runs today, and with the former state identity
// (the hash of each state's JSON text, every transition keeping its own copy of the kernel parts)
// as a baseline measured in the same run. The other savings of the same change (fewer copies
// and allocations per statement) are not switchable and are in both columns.

export interface LoopBenchRow { file: string; fn: string; states: number; transitions: number; ms: number; baselineMs: number; verdicts: string; same: boolean }

const RULE_STATES = 30000;

export async function measureLoops(): Promise<LoopBenchRow[]> {
  const root = join(__dirname, '..', '..');
  const files = [
    join(root, 'bench', 'inputs', 'sim-write-loops.c'),
    ...readdirSync(join(root, 'test', 'fixtures', 'uaccess-livelock')).filter((f) => f.endsWith('.c')).sort().map((f) => join(root, 'test', 'fixtures', 'uaccess-livelock', f)),
  ];
  const parser = await loadCParser();
  const inputs = files.flatMap((path) => {
    const file = lowerC(parser, readFileSync(path, 'utf8'));
    const byName = new Map(file.functions.map((fn) => [fn.name, fn] as const));
    const finder = new FaultInLoopFinder(byName);
    return file.functions.map((fn) => ({ path, fn, byName, loops: finder.loops(fn) })).filter((x) => x.loops.length);
  });
  const run = (x: (typeof inputs)[number], baseline: boolean) => {
    SIM_CHECKS.share = !baseline;
    try {
      // CPU time of this process (user + system): the machine is shared, wall time is not ours.
      const t0 = process.cpuUsage();
      const r = simulateFunctionIR(x.fn, x.byName, {
        loopBlocks: new Set(x.loops.flatMap((l) => l.loop.body)), decidingVerdicts: ['livelock'], maxTotalStates: RULE_STATES,
        livelockRequires: [copyFaulted, faultInCalled], accept: (res) => isFaultInCycle(res.steps), ...(baseline ? { textKeys: true } : {}),
      });
      const cpu = process.cpuUsage(t0);
      const ms = (cpu.user + cpu.system) / 1000;
      const shape = JSON.stringify(r.outcomes.map((o) => [o.arch, o.layout, o.result.verdict, o.result.statesExplored, o.result.steps.length]));
      return { r, ms, shape };
    } finally {
      SIM_CHECKS.share = true;
    }
  };
  // Warm the JIT on the first input (not reported).
  if (inputs.length) { run(inputs[0], false); run(inputs[0], true); }
  const rows: LoopBenchRow[] = [];
  for (const x of inputs) {
    const now = run(x, false);
    const base = run(x, true);
    rows.push({
      file: x.path.slice(root.length + 1), fn: x.fn.name, states: now.r.statesExplored, transitions: now.r.transitions, ms: now.ms, baselineMs: base.ms,
      verdicts: now.r.outcomes.map((o) => o.result.verdict).join('/'), same: now.shape === base.shape && now.r.statesExplored === base.r.statesExplored,
    });
  }
  return rows;
}

export async function benchLoops(): Promise<void> {
  const rows = await measureLoops();
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d });
  console.log(`uaccess-livelock simulation per function (${RULE_STATES.toLocaleString('en-US')} states per function, as the rule runs it)`);
  console.log('  baseline: JSON-text state keys, no kernel parts shared between states (measured in the same run)');
  console.log('  times are CPU ms of this process (user + system), not wall time');
  console.log(`  ${'function'.padEnd(28)} ${'states'.padStart(7)} ${'trans.'.padStart(7)} ${'ms'.padStart(7)} ${'states/s'.padStart(9)} ${'base ms'.padStart(8)} ${'base st/s'.padStart(9)}  verdicts`);
  let ms = 0, base = 0, states = 0;
  for (const r of rows) {
    ms += r.ms; base += r.baselineMs; states += r.states;
    console.log(`  ${r.fn.slice(0, 28).padEnd(28)} ${fmt(r.states).padStart(7)} ${fmt(r.transitions).padStart(7)} ${fmt(r.ms).padStart(7)} ${fmt(r.states / (r.ms / 1000)).padStart(9)} ${fmt(r.baselineMs).padStart(8)} ${fmt(r.states / (r.baselineMs / 1000)).padStart(9)}  ${r.verdicts}${r.same ? '' : '  (DIFFERS from the baseline)'}`);
  }
  console.log(`  total: ${fmt(states)} states in ${fmt(ms)} CPU ms (${fmt(states / (ms / 1000))} states/s); baseline ${fmt(base)} ms (${fmt(states / (base / 1000))} states/s), ${fmt(base / Math.max(ms, 1), 2)}x`);
  const differ = rows.filter((r) => !r.same).length;
  console.log(`  outcomes identical to the baseline: ${rows.length - differ}/${rows.length}`);
}

if (require.main === module && process.argv.includes('--loops')) void benchLoops();
