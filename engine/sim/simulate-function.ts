// `faultline simulate FILE --function NAME` and the editor's "Simulate this function": lower the
// C text, find the function, run it (with its same-file helpers) in the simulator under the
// selected profile(s) — every adversary layout of the user buffer and every choice of the unknown
// results (engine/sim/from-c) — and return the verdict and trace in the shape of the
// ARCHITECTURE.md `simulate --json` contract.

import type { Verdict } from '../kernel/ops';
import { PROFILE_NAMES, getProfile } from '../kernel/profiles';
import { MAINLINE, parseKernelVersion } from '../kernel/versions';
import { loadCParser } from '../syntax/parser';
import { lowerC } from '../lower/index';
import { FaultInLoopFinder } from '../analysis/faultin/index';
import { FROM_C_DEFAULTS, copyFaulted, faultInCalled, isFaultInCycle, simulateFunctionIR } from './from-c/run';
import type { ProfileName } from './scenario';
import type { ExploreResult } from './explore';
import { coverageWords } from './coverage';
import { simulateSeedFunction } from './simulate-seed';

/** A C function's simulation: the explorer's answer for the profile shown, plus per-profile verdicts. */
export interface SimulationResult extends ExploreResult {
  /** The profile shown: the first failing one, else the first run. */
  arch: string;
  kernel: string;
  function: string;
  /** The adversary layout and unknown choices that produced the verdict. */
  choice?: string;
  /** Verdict per profile run, and what it covered (engine/sim/coverage.ts). */
  profiles: { arch: string; verdict: Verdict; choice?: string; covered?: string }[];
  /** Fault-in retry loops recognised in the function. */
  loops: { line: number; label: string }[];
  /** Parameters taken as the user buffer and its length. */
  roles: { user: string[]; len: string[] };
  /** Buffer lengths tried (from the code's guards) and how many runs (length x layout x profile). */
  lengths?: number[];
  runs?: number;
  /** Input problem (unknown function, bad --arch/--kernel): verdict is 'inconclusive'. */
  error?: string;
  /** Who runs each thread of the trace (a seed rule's scenario: the function, the other thread's role). */
  threads?: string[];
  /** The seed rule whose scenario ran (engine/sim/simulate-seed.ts); absent for the fault-in loop simulation. */
  rule?: string;
}

export interface SimulateFunctionOptions {
  path?: string;
  /** A profile name, or 'all' / undefined for every profile. */
  arch?: string;
  kernel?: string;
  maxStates?: number;
  /** Whole-function state budget (every profile, length and layout). */
  maxTotalStates?: number;
  cancelled?: () => boolean;
  onProgress?: (explored: number) => void;
}

function failed(fnName: string, kernel: string, error: string): SimulationResult {
  return {
    verdict: 'inconclusive', arch: '', kernel, function: fnName, note: error, steps: [], decisive: -1, statesExplored: 0,
    interleavings: 0, naive: 0, profiles: [], loops: [], roles: { user: [], len: [] }, error,
  };
}

export async function simulateFunction(text: string, fnName: string, opts: SimulateFunctionOptions = {}): Promise<SimulationResult> {
  const kernel = opts.kernel ?? MAINLINE;
  const where = opts.path ? `${opts.path}: ` : '';
  if (opts.arch && opts.arch !== 'all' && !getProfile(opts.arch)) {
    return failed(fnName, kernel, `unknown architecture profile "${opts.arch}" (${PROFILE_NAMES.join(', ')} or all)`);
  }
  if (opts.kernel !== undefined && !parseKernelVersion(opts.kernel)) {
    return failed(fnName, kernel, `cannot parse kernel version "${opts.kernel}" (expected e.g. v5.16 or v5.17-rc8)`);
  }
  const parser = await loadCParser();
  const file = lowerC(parser, text, { ...(opts.cancelled ? { cancelled: opts.cancelled } : {}) });
  // A cancel during lowering leaves a partial file: say "cancelled", not "no such function".
  if (opts.cancelled?.()) {
    return {
      verdict: 'inconclusive', arch: '', kernel, function: fnName, note: 'cancelled before the simulation started', steps: [], decisive: -1,
      statesExplored: 0, interleavings: 0, naive: 0, profiles: [], loops: [], roles: { user: [], len: [] }, bound: 'cancelled',
    };
  }
  const byName = new Map(file.functions.map((f) => [f.name, f] as const));
  const fn = byName.get(fnName);
  if (!fn) {
    const names = file.functions.map((f) => f.name);
    const near = names.filter((n) => n.includes(fnName) || fnName.includes(n)).slice(0, 3);
    return failed(fnName, kernel, `${where}no function "${fnName}" defined in the file${near.length ? ` (did you mean ${near.join(', ')}?)` : names.length ? '' : ' (no function definitions found)'}`);
  }
  const loops = new FaultInLoopFinder(byName, opts.cancelled).loops(fn);
  // No fault-in retry loop but a seed rule's shape (a fault under a lock the fault path takes, a
  // write-protect under mmap_read_lock): run that rule's scenario, instantiated with the C.
  if (!loops.length) {
    const seed = simulateSeedFunction(fn, byName, text, {
      ...(opts.kernel ? { kernel: opts.kernel } : {}), ...(opts.cancelled ? { cancelled: opts.cancelled } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    if (seed) return seed;
  }
  const sim = simulateFunctionIR(fn, byName, {
    ...(opts.arch && opts.arch !== 'all' ? { arch: opts.arch as ProfileName } : {}),
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
    ...(opts.maxStates ? { maxStates: opts.maxStates } : {}),
    // A larger per-run budget (the editor's faultline.simulation.maxStates) raises the whole one too.
    maxTotalStates: opts.maxTotalStates ?? Math.max(FROM_C_DEFAULTS.maxTotalStates, opts.maxStates ?? 0),
    ...(opts.cancelled ? { cancelled: opts.cancelled } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    loopBlocks: new Set(loops.flatMap((l) => l.loop.body)),
    // A repeated state with no failed copy and fault-in is the adversary repeating a choice:
    // the explorer goes on looking for a real verdict.
    livelockRequires: [copyFaulted, faultInCalled],
    accept: (r) => r.verdict !== 'livelock' || isFaultInCycle(r.steps),
  });
  const shown = sim.outcomes.find((o) => o.result.verdict !== 'ok') ?? sim.outcomes[0];
  const base = {
    function: fn.name, kernel, profiles: sim.outcomes.map((o) => ({
      arch: o.arch, verdict: o.result.verdict, ...(o.layout ? { choice: o.layout } : {}),
      covered: coverageWords({ ...o.result, ...(o.layout ? { choice: o.layout } : {}) }, sim.program.lengths),
    })),
    loops: loops.map((l) => ({ line: l.head.startRow + 1, label: l.label })), roles: sim.program.roles,
    lengths: sim.program.lengths, runs: sim.runs,
  };
  if (!shown) {
    const note = sim.bound === 'cancelled' ? 'cancelled before the first run finished' : `no run finished within the budget (${sim.bound ?? 'nothing to run'})`;
    return { ...base, verdict: 'inconclusive', arch: opts.arch && opts.arch !== 'all' ? opts.arch : PROFILE_NAMES[0], note, steps: [], decisive: -1,
      statesExplored: sim.statesExplored, interleavings: 0, naive: 0, ...(sim.bound ? { bound: sim.bound } : {}) };
  }
  const r = shown.result;
  return {
    ...base, verdict: r.verdict, arch: shown.arch, kernel: r.kernel, note: r.note, steps: r.steps, decisive: r.decisive,
    statesExplored: sim.statesExplored, interleavings: r.interleavings, naive: r.naive,
    ...(shown.layout ? { choice: shown.layout } : {}),
    ...(r.bound ?? sim.bound ? { bound: r.bound ?? sim.bound } : {}),
  };
}

/**
 * The trace as a read-only Markdown document for the editor ("Simulate this function"): the
 * verdict per profile, then one line per step, each linked to its source line
 * (`uri#L<line>`, 1-based) so the reader can jump from the trace to the code.
 */
export function traceDocument(r: SimulationResult, uri: string): string {
  const out: string[] = [];
  out.push(`# ${r.function}(): ${r.verdict}${r.arch ? ` on ${r.arch}` : ''} (kernel ${r.kernel})`, '');
  if (r.error) return `${out.join('\n')}${r.error}\n`;
  if (r.profiles.length) out.push(r.profiles.map((p) => `- **${p.arch}**: ${p.verdict}${p.covered ? ` — ${p.covered}` : ''}`).join('\n'), '');
  if (r.choice) out.push(`Adversary: ${r.choice}.`, '');
  if (r.loops.length) out.push(`Loops: ${r.loops.map((l) => `[${l.label}](${uri}#L${l.line})`).join('; ')}.`, '');
  if (r.rule) out.push(`Scenario of \`${r.rule}\`, instantiated with this function's calls.`, '');
  if (r.threads?.length) out.push(`Threads: ${r.threads.map((t, i) => `${i} = ${t}`).join('; ')}.`, '');
  else out.push(`User buffer: ${r.roles.user.map((u) => `\`${u}\``).join(', ') || '(none)'}; length: ${r.roles.len.map((u) => `\`${u}\``).join(', ') || '(none)'}.`, '');
  if (r.steps.length) {
    out.push('## Trace', '');
    r.steps.forEach((s, i) => {
      const line = s.range ? s.range.startRow + 1 : undefined;
      const where = line ? `[L${line}](${uri}#L${line}) ` : '';
      const mark = i === r.decisive ? '**→** ' : '';
      const who = r.threads?.[s.thread] ? `[${s.thread}] ` : '';
      const extra = [s.delta, s.note].filter(Boolean).join(' — ');
      out.push(`${i + 1}. ${mark}${who}${where}\`${s.operation.replace(/`/g, "'")}\`${extra ? ` — ${extra}` : ''}`);
    });
    out.push('');
  }
  out.push(`${r.note}`, '', `States explored: ${r.statesExplored}${r.bound ? `; bound: ${r.bound}` : ''}.`);
  return `${out.join('\n')}\n`;
}
