// uaccess-livelock (threads "Avoid live-lock in fault-in+uaccess loops with sub-page faults" and
// "gfs2: Fix mmap + page fault deadlocks"; mm/gup.c, arch/arm64/lib/copy_to_user.S,
// fs/btrfs/ioctl.c search_ioctl()): a retry loop that copies with page faults disabled and calls
// fault_in_*() when the copy falls short can spin forever when the fault-in succeeds while the copy
// keeps failing at the same place — a sub-page (MTE) fault inside a present page, or a fault window
// the fault-in does not cover. The loop is recognised statically (engine/analysis/faultin); the
// verdict comes from the simulator running the lowered function under every architecture profile,
// and the finding carries its trace.

import type { Finding, RelatedLocation, TraceStep } from '../findings';
import type { FunctionIR } from '../ir';
import type { Rule, RuleMeta } from './types';
import { argSource, finderFor, type FaultInLoop } from '../analysis/faultin/index';
import { copyFaulted, faultInCalled, isFaultInCycle, simulateFunctionIR, type FunctionSimulation } from '../sim/from-c/run';
import { reachable } from '../sim/from-c/build';
import { registerRuleSimulation, simulationBroker, type SimSummary } from '../sim/broker';
import { isStateBound } from '../sim/explore';
import { profileCoverage } from '../sim/coverage';
import { FAULT_IN_LOOP_RELEVANCE } from './facets';

const meta: RuleMeta = {
  id: 'uaccess-livelock',
  severity: 'error',
  title: 'Fault-in / uaccess retry loop can live-lock',
  docs: 'docs/rules/uaccess-livelock.md',
  description:
    'A loop copies to or from user memory with page faults disabled and, when the copy falls short, calls fault_in_*() and retries. On some architecture profile the fault-in succeeds while the copy keeps failing at the same place (an MTE tag mismatch inside a present page that one-byte-per-page probing never touches, or a copy that stops short of the fault by its fault window), so the loop makes no progress forever. Proven by simulation, with the trace.',
};

/** States for one function's simulation (all profiles, lengths, layouts and choices). */
const SIM_STATES = 30000;

function probeWords(l: FaultInLoop, text: string): string {
  const f = l.faultIns[0];
  const what = f.faultIn.subpageOnly ? 'probes one byte per sub-page granule' : f.faultIn.probe === 'granule'
    ? 'probes every 16-byte granule (on profiles with sub-page faults)' : 'probes one byte per page';
  return `${f.faultCall.callee}(${argSource(f.faultCall, f.faultIn.userArg, text)}, ${argSource(f.faultCall, f.faultIn.lenArg, text)}) ${what}`;
}

function copyWords(l: FaultInLoop): string {
  const c = l.copies[0];
  const how = c.how === 'nofault-api' ? 'page faults not serviced' : 'inside pagefault_disable()';
  return `${c.copyCall.callee}() (${how}${c.helper ? `, in ${c.helper}()` : ''})`;
}

/** The loop the repeating part of the trace runs in. */
function loopOfCycle(loops: FaultInLoop[], steps: TraceStep[]): FaultInLoop {
  let best = loops[0];
  let most = -1;
  for (const l of loops) {
    const n = steps.filter((s) => s.facts?.cycle === 'again' && s.range && s.range.startRow >= l.loop.range.startRow && s.range.endRow <= l.loop.range.endRow).length;
    if (n > most) { most = n; best = l; }
  }
  return best;
}

function related(l: FaultInLoop): RelatedLocation[] {
  const c = l.copies[0];
  const f = l.faultIns[0];
  const out: RelatedLocation[] = [];
  out.push({ range: c.call.range, message: c.helper ? `${c.helper}() copies with ${c.copyCall.callee}() and returns to retry on a short copy` : `the copy with ${c.copyCall.callee}()` });
  if (c.helper) out.push({ range: c.copyCall.range, message: `the copy that keeps failing (${c.copyCall.callee}())` });
  out.push({ range: f.call.range, message: `${f.faultCall.callee}() succeeds: it probes ${f.faultIn.probe === 'granule' ? 'sub-page granules' : 'one byte per page'}, not the address the copy stopped at` });
  return out;
}

/** Steps of the path into the cycle kept at each end; the middle is elided for the editor. */
const PREFIX_KEEP = 4;

/**
 * The simulator's trace is the whole path to the repeating state, the cycle, the cycle again and
 * the verdict. A byte-at-a-time approach to the fault (arm64's one-byte progress) can make the
 * path long: keep its ends and say how much was skipped (`faultline simulate` prints it all).
 */
export function trimTrace(steps: TraceStep[]): TraceStep[] {
  const firstAgain = steps.findIndex((s) => s.facts?.cycle === 'again');
  if (firstAgain < 0) return steps;
  const cycleLen = steps.filter((s) => s.facts?.cycle === 'again').length;
  const cycleStart = Math.max(0, firstAgain - cycleLen);
  if (cycleStart <= PREFIX_KEEP * 2 + 1) return steps;
  const skipped = cycleStart - PREFIX_KEEP * 2;
  return [
    ...steps.slice(0, PREFIX_KEEP),
    { thread: steps[PREFIX_KEEP].thread, operation: `... ${skipped} steps`, note: 'the loop runs on, making progress, until it reaches the state that repeats (faultline simulate shows every step)' },
    ...steps.slice(cycleStart - PREFIX_KEEP),
  ];
}

/**
 * The editor re-checks a document on every edit: a function whose lowered form (and helpers) did
 * not change is not simulated again. Keyed by the IR text (ranges included, so traces stay right).
 */
const CACHE_SIZE = 64;
const simCache = new Map<string, SimSummary>();

/** Forget every cached simulation (benchmarks measure the cold cost). */
export function clearSimulationCache(): void {
  simCache.clear();
}

function cached(key: string, run: () => SimSummary, cancelled: () => boolean): SimSummary {
  const hit = simCache.get(key);
  if (hit) {
    simCache.delete(key);
    simCache.set(key, hit);
    return hit;
  }
  const r = run();
  // An interrupted run (time, cancellation) is not an answer worth keeping; one stopped by its
  // state budget is (the same IR stops at the same state: simulating it again, as the fuzz
  // suite's three faces and every edit elsewhere in the file did, costs seconds for nothing).
  if (!r.bound || !cancelled()) {
    simCache.set(key, r);
    if (simCache.size > CACHE_SIZE) simCache.delete(simCache.keys().next().value!);
  }
  return r;
}

/** The rule's simulation of one function: live-locks only, through a failed copy and a fault-in. */
function simulateLoops(fn: FunctionIR, byName: Map<string, FunctionIR>, blocks: Set<number>, kernel: string | undefined, cancelled: () => boolean): SimSummary {
  const r: FunctionSimulation = simulateFunctionIR(fn, byName, {
    ...(kernel ? { kernel } : {}), cancelled, decidingVerdicts: ['livelock'], loopBlocks: blocks, maxTotalStates: SIM_STATES,
    livelockRequires: [copyFaulted, faultInCalled], accept: (x) => isFaultInCycle(x.steps),
  });
  return { outcomes: r.outcomes, statesExplored: r.statesExplored, runs: r.runs, lengths: r.program.lengths, ...(r.bound ? { bound: r.bound } : {}) };
}

// The worker of the server's pool runs the same simulation from a job (engine/sim/broker.ts).
registerRuleSimulation(meta.id, (fn, byName, o) => {
  const loops = finderFor(byName, o.cancelled).loops(fn);
  return simulateLoops(fn, byName, new Set(loops.flatMap((l) => l.loop.body)), o.kernel, o.cancelled);
});

export const uaccessLivelock: Rule = {
  meta,
  // Loops are reported only when they call a fault-in (loops.ts), and the simulated live-lock
  // requires the fault-in to run (livelockRequires: faultInCalled).
  relevance: FAULT_IN_LOOP_RELEVANCE,
  check(fn: FunctionIR, ctx): Finding[] {
    const loops = finderFor(ctx.functionsByName, ctx.cancelled).loops(fn);
    if (!loops.length || ctx.cancelled()) return [];
    const blocks = new Set(loops.flatMap((l) => l.loop.body));
    const key = `${ctx.kernel ?? ''}\u0000${JSON.stringify(reachable(fn, ctx.functionsByName))}`;
    // In the editor the simulation runs in a worker pool: nothing to report until it finishes
    // (the server re-checks the document then). The CLI simulates here.
    const broker = simulationBroker();
    const sim = broker
      ? simCache.get(key) ?? broker.get({ rule: meta.id, key, text: ctx.text, fn: fn.name, ...(ctx.kernel ? { kernel: ctx.kernel } : {}) })
      : cached(key, () => simulateLoops(fn, ctx.functionsByName, blocks, ctx.kernel, ctx.cancelled), ctx.cancelled);
    if (!sim) return [];
    // One finding per loop: the first failing profile carries the trace, the others are named
    // in the message (three findings on one line for one bug is noise a reviewer learns to skip).
    const byLoop = new Map<FaultInLoop, typeof sim.outcomes>();
    for (const o of sim.outcomes) {
      if (o.result.verdict !== 'livelock' || !isFaultInCycle(o.result.steps)) continue;
      const l = loopOfCycle(loops, o.result.steps);
      byLoop.set(l, [...(byLoop.get(l) ?? []), o]);
    }
    const out: Finding[] = [];
    for (const [l, outcomes] of byLoop) {
      const o = outcomes[0];
      const others = outcomes.slice(1).map((x) => x.arch).filter((a) => a !== o.arch);
      const also = others.length ? ` (also on ${[...new Set(others)].join(', ')})` : '';
      const kernel = ctx.kernel ? ` (kernel ${ctx.kernel})` : '';
      const message = `${capital(l.label)} can live-lock on ${o.arch}${also}${kernel}: it copies with ${copyWords(l)}, and on a short copy retries after `
        + `${probeWords(l, ctx.text)}; with ${o.layout || 'the simulated buffer'}, ${faultInWords(o.result.steps)} while the copy keeps failing at the same place (no progress). `
        + 'Fault in from where the copy stopped at sub-page granularity (fault_in_subpage_writeable()), or return -EFAULT when the fault-in made no progress.';
      out.push({
        rule: meta.id, severity: meta.severity, message, range: l.head, function: fn.name, related: related(l), arch: o.arch, trace: trimTrace(o.result.steps),
        simulation: sim.outcomes.map((x) => profileCoverage(x.arch, { ...x.result, ...(x.layout ? { choice: x.layout } : {}) }, sim.lengths)),
      });
    }
    // No live-lock found, but a profile stopped at its state budget: that is not "checked and
    // fine", so say so (a loop whose counters grow every round never repeats a state, and the
    // runs of such a loop end at their per-run bound rather than at a verdict).
    if (!out.length) {
      const stopped = sim.outcomes.filter((x) => x.result.verdict === 'inconclusive' && isStateBound(x.result.bound));
      if (stopped.length && ctx.budgetHit && !ctx.cancelled()) {
        ctx.budgetHit(fn, `The live-lock simulation of ${loops.map((l) => l.label).join('; ')}`,
          `its state budget ran out (${sim.statesExplored.toLocaleString('en-US')} states explored) on ${stopped.map((x) => x.arch).join(', ')} before every buffer length, layout and adversary choice was explored`);
      }
    }
    return out;
  },
};

/** What the fault-in did in the repeating cycle: reported success, or a result the loop ignores. */
function faultInWords(steps: TraceStep[]): string {
  const last = [...steps].reverse().find((st) => st.facts?.faultIn);
  if (!last || last.facts?.faultIn?.ok) return 'the fault-in reports success';
  return 'the fault-in reports a failure the loop does not act on';
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
