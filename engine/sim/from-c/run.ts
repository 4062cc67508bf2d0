// Run a lowered C function in the simulator under every architecture profile (issues 4 and 8):
// every buffer length the code's guards suggest times every adversary layout of the user buffer
// (engine/sim/from-c/build.ts), one runScenario() each; the results of unknown calls are choices
// the explorer branches over inside each run. Budgets count states (per run and for the whole
// function), never time, so a verdict does not depend on the machine. The first run that fails
// decides a profile; `ok` needs every run finished and a user copy reached, else `inconclusive`
// naming why.

import type { FunctionIR } from '../../ir';
import type { Verdict } from '../../kernel/ops';
import { PROFILES, PROFILE_NAMES, runAnswersFor, type ArchProfile } from '../../kernel/profiles';
import { allApis, lookupApi } from '../../kernel/api-table';
import type { TraceStep } from '../../findings';
import type { ApiEntry } from '../../kernel/api-schema';
import { kernelSwitches } from '../../kernel/versions';
import { expectedVerdict, runScenario, type ProfileName, type Scenario, type SimResult } from '../scenario';
import { stateBound, switchesOn, type ExploreSwitches } from '../explore';
import { buildProgram, userLayouts, type BuiltProgram } from './build';
import { userBufferGlobals } from '../interp';

export interface FromCOptions extends ExploreSwitches {
  arch?: ProfileName;
  kernel?: string;
  /** Per exploration (one length, one layout, one profile). */
  maxStates?: number;
  /** For the whole function, every profile (split evenly between profiles). */
  maxTotalStates?: number;
  cancelled?: () => boolean;
  onProgress?: (explored: number) => void;
  /** Only these verdicts decide a profile (the rule asks for 'livelock'); default every failure. */
  decidingVerdicts?: Verdict[];
  /** Further filter on a deciding result. */
  accept?: (r: SimResult) => boolean;
  /** A live-lock counts only when its cycle holds a step for each predicate (see explore.ts). */
  livelockRequires?: ((s: TraceStep) => boolean)[];
  /** Blocks of the loop under study (its unknown results are varied first). */
  loopBlocks?: Set<number>;
}

export interface ProfileOutcome {
  arch: ProfileName;
  result: SimResult;
  /** Which buffer length and adversary layout produced the result. */
  layout: string;
}

export interface FunctionSimulation {
  fn: string;
  program: BuiltProgram;
  outcomes: ProfileOutcome[];
  statesExplored: number;
  transitions: number;
  runs: number;
  /** Of those, runs answered by an earlier profile's run (runAnswersFor) instead of made again. */
  reused: number;
  /** The budget ran out (states or cancellation) before every run finished. */
  bound?: string;
}

/**
 * Before v5.16 the fault-in helpers returned 0 or -EFAULT (commit bb523b406c84): with --kernel
 * older than that, every fault_in_* the code calls is simulated with the old convention, the same
 * reading fault-in-result-ignored applies.
 */
function oldFaultInConvention(kernel: string | undefined): ApiEntry[] {
  if (!kernel || kernelSwitches(kernel).faultInReturns !== 'zero-or-efault') return [];
  return allApis().filter((e) => e.faultIn && e.faultIn.returns === 'bytes-not-faulted' && !e.faultIn.subpageOnly)
    .map((e) => ({ ...e, faultIn: { ...e.faultIn!, returns: 'zero-or-efault' as const } }));
}

/** A step of a user copy that stopped at a fault (typed fact). */
export const copyFaulted = (s: TraceStep): boolean => s.facts?.copy?.faultAt !== undefined;
/** A step of a fault-in that reported success (typed fact). */
export const faultInCalled = (s: TraceStep): boolean => !!s.facts?.faultIn;

/**
 * A live-lock of the fault-in kind: the repeating part of the trace holds a copy that faulted and
 * a fault_in_*() call (typed step facts). A cycle without them comes from an unknown result the
 * adversary keeps choosing and says nothing about fault-in.
 */
export function isFaultInCycle(steps: TraceStep[]): boolean {
  const again = steps.filter((s) => s.facts?.cycle === 'again');
  return again.some(copyFaulted) && again.some(faultInCalled);
}

/** A run's result as the run on another profile (runAnswersFor): its name and expectation. */
function sameRunOn(r: SimResult, arch: ProfileName, expected: Verdict | undefined): SimResult {
  const { expected: _theirs, ...rest } = r;
  return { ...rest, arch, ...(expected ? { expected } : {}) };
}

export const FROM_C_DEFAULTS = { maxStates: 4000, maxTotalStates: 60000 };

export function simulateFunctionIR(fn: FunctionIR, byName: Map<string, FunctionIR>, opts: FromCOptions = {}): FunctionSimulation {
  const maxStates = opts.maxStates ?? FROM_C_DEFAULTS.maxStates;
  const total = opts.maxTotalStates ?? FROM_C_DEFAULTS.maxTotalStates;
  const deciding = opts.decidingVerdicts;
  const program = buildProgram(fn, byName, opts.loopBlocks);
  const archs: ProfileName[] = opts.arch ? [opts.arch] : PROFILE_NAMES;
  const assumeApis = oldFaultInConvention(opts.kernel);
  const loopsGiven = !!opts.loopBlocks?.size;
  const hasCopy = program.functions.some((f) => f.blocks.some((b) => b.stmts.some((s) => s.kind === 'call' && !!lookupApi(s.callee)?.uaccess)));
  const outcomes: ProfileOutcome[] = [];
  let states = 0;
  let transitions = 0;
  let runs = 0;
  let reused = 0;
  let bound: string | undefined;
  // Finished runs by buffer length and layout: a run is also the run of a later profile that
  // agrees with its own on every field it read (runAnswersFor), the same exploration state for
  // state, so that run is not made again (x86_64 answers for arm64 when no copy faulted past its
  // first byte, and either for arm64-mte on a layout without tag mismatches).
  const finished = new Map<string, { profile: ArchProfile; result: SimResult }[]>();
  for (const [k, arch] of archs.entries()) {
    // Each profile gets its share of the states: arm64-mte (last) must not starve behind x86_64.
    const profileEnd = Math.floor((total * (k + 1)) / archs.length);
    let decided: ProfileOutcome | undefined;
    let last: ProfileOutcome | undefined;
    let inconclusive: ProfileOutcome | undefined;
    let pBound: string | undefined;
    let copies = 0;
    const preconditions = new Set<string>();
    /** A failure the caller does not take (another verdict): shown only if nothing else ran. */
    let rejected: ProfileOutcome | undefined;
    outer: for (const len of program.lengths) {
      const choices = program.choices(len);
      for (const ul of userLayouts(len, PROFILES[arch].subpageGranule > 0)) {
        if (opts.cancelled?.()) { pBound = 'cancelled'; break outer; }
        const left = profileEnd - states;
        if (left <= 0) { pBound = stateBound(total); break outer; }
        const sc: Scenario = {
          name: fn.name, title: `${fn.name}() from C`, source: 'lowered C', side: 'before', oracle: 'any', fromC: true,
          functions: program.functions, threads: [{ fn: fn.name, args: program.args(ul.start, len) }],
          layout: ul.layout, globals: { ...program.globals, ...program.fieldGlobals(ul.start, len), ...userBufferGlobals(ul.start, len) }, expect: {},
          choiceSites: choices, callerHolds: true,
          ...(opts.kernel ? { kernel: opts.kernel } : {}),
          ...(assumeApis.length ? { assumeApis } : {}),
        };
        const budget = Math.min(maxStates, left);
        const runKey = `${len}\u0000${ul.start}\u0000${ul.label}`;
        const earlier = finished.get(runKey) ?? [];
        // Within this run's budget, the twin's exploration is what this run would explore.
        const twin = earlier.find((e) => e.result.statesExplored <= budget && runAnswersFor(e.result.profileUse, e.profile, PROFILES[arch]));
        if (twin) reused++;
        const r = twin
          ? sameRunOn(twin.result, arch, expectedVerdict(sc, arch))
          : runScenario(sc, {
            arch, maxStates: budget,
            ...(opts.cancelled ? { cancelled: opts.cancelled } : {}),
            ...(opts.livelockRequires ? { livelockRequires: opts.livelockRequires } : {}),
            ...switchesOn(opts),
            ...(opts.onProgress ? { progress: (n: number) => opts.onProgress!(states + n) } : {}),
          });
        if (!r.bound && !twin) finished.set(runKey, [...earlier, { profile: PROFILES[arch], result: r }]);
        runs++;
        states += r.statesExplored;
        transitions += r.transitions ?? 0;
        // With fault-in retry loops, the copy that counts is the one they retry (faults not
        // serviced): a copy_from_user() of the arguments before the loop proves nothing.
        copies += (loopsGiven ? r.nofaultCopiesRun : r.copiesRun) ?? 0;
        for (const p of r.preconditions ?? []) preconditions.add(p);
        opts.onProgress?.(states);
        const label = `${len}-byte buffer; ${ul.label}`;
        let res: SimResult = { ...r, choice: label };
        // A failure that rests on what the caller holds is not a verdict on this function.
        if (res.verdict !== 'ok' && res.verdict !== 'inconclusive' && res.verdict !== 'livelock' && res.preconditions?.length
          && res.steps.some((st) => st.facts?.precondition)) {
          res = { ...res, verdict: 'inconclusive', bound: 'precondition', note: `${res.note} — this depends on the caller's precondition (${res.preconditions.join('; ')}), which the simulation cannot see` };
        }
        const o: ProfileOutcome = { arch, result: res, layout: label };
        if (res.verdict === 'inconclusive') {
          inconclusive ??= o;
          if (res.bound === 'cancelled') { pBound = 'cancelled'; break outer; }
          continue;
        }
        if (res.verdict === 'ok') { last = o; continue; }
        if ((!deciding || deciding.includes(res.verdict)) && (!opts.accept || opts.accept(res))) { decided = o; break outer; }
        rejected ??= o;
      }
    }
    let chosen = decided ?? inconclusive ?? last ?? rejected;
    // Interrupted before every run of this profile finished: "ok so far" is not ok.
    if (!decided && pBound && chosen && chosen.result.verdict === 'ok') {
      chosen = { ...chosen, result: { ...chosen.result, verdict: 'inconclusive', bound: pBound, note: `stopped (${pBound}) before every buffer length, layout and adversary choice was explored` } };
    }
    // `ok` says the copy ran: a function whose copy was never reached is not proven ok.
    if (chosen && chosen.result.verdict === 'ok' && hasCopy && copies === 0) {
      chosen = { ...chosen, result: { ...chosen.result, verdict: 'inconclusive', bound: 'copy not reached',
        note: `no run reached a user copy${loopsGiven ? ' with page faults disabled (the copy the loop retries)' : ''} (lengths ${program.lengths.join(', ')} bytes, every adversary choice): the loop or the copy was never entered, so nothing was proven` } };
    }
    if (chosen && chosen.result.verdict === 'ok' && preconditions.size) {
      chosen = { ...chosen, result: { ...chosen.result, note: `${chosen.result.note} (assuming the caller's precondition: ${[...preconditions].join('; ')})` } };
    }
    if (chosen) outcomes.push(chosen);
    bound ??= pBound;
    if (pBound === 'cancelled') break;
  }
  return { fn: fn.name, program, outcomes, statesExplored: states, transitions, runs, reused, ...(bound ? { bound } : {}) };
}
