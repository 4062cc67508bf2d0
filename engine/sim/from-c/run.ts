// Run a lowered C function in the simulator under every architecture profile (issue 4): every
// adversary layout of the user buffer (engine/sim/from-c/build.ts) times every choice of the
// varied unknown results, one runScenario() each, with one shared budget. The first run that
// fails decides a profile; inconclusive runs are remembered but never reported as failures.

import type { FunctionIR } from '../../ir';
import type { Verdict } from '../../kernel/ops';
import { PROFILE_NAMES } from '../../kernel/profiles';
import { allApis, lookupApi } from '../../kernel/api-table';
import type { TraceStep } from '../../findings';
import type { ApiEntry } from '../../kernel/api-schema';
import { kernelSwitches } from '../../kernel/versions';
import { runScenario, type ProfileName, type Scenario, type SimResult } from '../scenario';
import { buildProgram, unknownCombos, userLayouts, type BuiltProgram } from './build';

export interface FromCOptions {
  arch?: ProfileName;
  kernel?: string;
  /** Per exploration (one layout, one choice, one profile). */
  maxStates?: number;
  /** For the whole function, every profile. */
  timeMs?: number;
  cancelled?: () => boolean;
  onProgress?: (explored: number) => void;
  /** Only these verdicts decide a profile (the rule asks for 'livelock'); default every failure. */
  decidingVerdicts?: Verdict[];
  /** Further filter on a deciding result (the rule only takes cycles through a failed copy and a fault-in). */
  accept?: (r: SimResult) => boolean;
  /** Blocks of the loop under study (its unknown results are varied first). */
  loopBlocks?: Set<number>;
}

export interface ProfileOutcome {
  arch: ProfileName;
  result: SimResult;
  /** Which adversary layout and unknown choices produced the result. */
  layout: string;
}

export interface FunctionSimulation {
  fn: string;
  program: BuiltProgram;
  outcomes: ProfileOutcome[];
  statesExplored: number;
  runs: number;
  /** The budget ran out (time, states or cancellation) before every run finished. */
  bound?: string;
}

/**
 * Before v5.16 the fault-in helpers returned 0 or -EFAULT (SEMANTICS A.3): with --kernel older
 * than that, every fault_in_* the code calls is simulated with the old convention, the same
 * reading fault-in-result-ignored applies.
 */
function oldFaultInConvention(kernel: string | undefined): ApiEntry[] {
  if (!kernel || kernelSwitches(kernel).faultInReturns !== 'zero-or-efault') return [];
  return allApis().filter((e) => e.faultIn && e.faultIn.returns === 'bytes-not-faulted' && !e.faultIn.subpageOnly)
    .map((e) => ({ ...e, faultIn: { ...e.faultIn!, returns: 'zero-or-efault' as const } }));
}

/**
 * A live-lock of the fault-in kind: the repeating part of the trace holds a copy that faulted and
 * a fault_in_*() call. A cycle without them comes from an unknown call modelled as a constant
 * (`next()` returning the same item for ever) and says nothing about fault-in.
 */
export function isFaultInCycle(steps: TraceStep[]): boolean {
  const again = steps.filter((s) => s.note?.includes('(again'));
  const faulted = again.some((s) => s.note?.includes('faulted at'));
  const faultIn = again.some((s) => !!lookupApi(s.operation.split('(')[0].trim())?.faultIn);
  return faulted && faultIn;
}

export const FROM_C_DEFAULTS = { maxStates: 4000, timeMs: 3000 };

export function simulateFunctionIR(fn: FunctionIR, byName: Map<string, FunctionIR>, opts: FromCOptions = {}): FunctionSimulation {
  const t0 = Date.now();
  const timeMs = opts.timeMs ?? FROM_C_DEFAULTS.timeMs;
  const maxStates = opts.maxStates ?? FROM_C_DEFAULTS.maxStates;
  const deciding = opts.decidingVerdicts;
  const program = buildProgram(fn, byName, opts.loopBlocks);
  const layouts = userLayouts();
  const combos = unknownCombos(program);
  const archs: ProfileName[] = opts.arch ? [opts.arch] : PROFILE_NAMES;
  const assumeApis = oldFaultInConvention(opts.kernel);
  const outcomes: ProfileOutcome[] = [];
  let states = 0;
  let runs = 0;
  let bound: string | undefined;
  for (const [k, arch] of archs.entries()) {
    // Each profile gets its share of the time: arm64-mte (last) must not starve behind x86_64.
    const profileEnd = t0 + (timeMs * (k + 1)) / archs.length;
    let decided: ProfileOutcome | undefined;
    let last: ProfileOutcome | undefined;
    let inconclusive: ProfileOutcome | undefined;
    let pBound: string | undefined;
    /** A failure the caller does not take (another verdict, a cycle without a fault): shown only if nothing else ran. */
    let rejected: ProfileOutcome | undefined;
    outer: for (const ul of layouts) {
      for (const combo of combos) {
        if (opts.cancelled?.()) { pBound = 'cancelled'; break outer; }
        const left = Math.floor(profileEnd - Date.now());
        if (left <= 0) { pBound = `time ${timeMs} ms`; break outer; }
        const sc: Scenario = {
          name: fn.name, title: `${fn.name}() from C`, source: 'lowered C', side: 'before', oracle: 'any', fromC: true,
          functions: program.functions, threads: [{ fn: fn.name, args: program.args(ul.start) }],
          layout: ul.layout, globals: { ...combo.globals, ...program.fieldGlobals(ul.start) }, expect: {},
          ...(opts.kernel ? { kernel: opts.kernel } : {}),
          ...(assumeApis.length ? { assumeApis } : {}),
        };
        const r = runScenario(sc, { arch, maxStates, timeMs: left, ...(opts.cancelled ? { cancelled: opts.cancelled } : {}) });
        runs++;
        states += r.statesExplored;
        opts.onProgress?.(states);
        const label = [ul.label, combo.label].filter(Boolean).join('; ');
        const o: ProfileOutcome = { arch, result: { ...r, ...(label ? { choice: label } : {}) }, layout: label };
        if (r.verdict === 'inconclusive') {
          inconclusive ??= o;
          if (r.bound === 'cancelled' || r.bound?.startsWith('time')) { pBound = r.bound === 'cancelled' ? 'cancelled' : `time ${timeMs} ms`; break outer; }
          continue;
        }
        if (r.verdict === 'ok') { last = o; continue; }
        if ((!deciding || deciding.includes(r.verdict)) && (!opts.accept || opts.accept(r))) { decided = o; break outer; }
        rejected ??= o;
      }
    }
    let chosen = decided ?? inconclusive ?? last ?? rejected;
    // Interrupted before every run of this profile finished: "ok so far" is not ok.
    if (!decided && pBound && chosen && chosen.result.verdict === 'ok') {
      chosen = { ...chosen, result: { ...chosen.result, verdict: 'inconclusive', bound: pBound, note: `stopped (${pBound}) before every adversary layout and choice was explored` } };
    }
    if (chosen) outcomes.push(chosen);
    bound ??= pBound;
    if (pBound === 'cancelled') break;
  }
  return { fn: fn.name, program, outcomes, statesExplored: states, runs, ...(bound ? { bound } : {}) };
}
