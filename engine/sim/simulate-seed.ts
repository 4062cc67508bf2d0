// "Simulate this function" for the model-based seed rules (issue 9): a function with a faulting
// call under a lock the fault path takes (fault-under-lock) or a write-protect under
// mmap_read_lock (wrprotect-under-read-lock) has a code lens and a code action of its own, even
// when no finding is shown (suppressed, or the pool has not answered yet). The rules build their
// models from the static analysis alone (registerFunctionModels); this file finds those models,
// runs them with the rules' registered runners and answers in the shape of
// engine/sim/simulate-function.ts, trace and thread roles included.

import type { FileIR, FunctionIR, SourceRange } from '../ir';
import { MAINLINE } from '../kernel/versions';
import { functionModelBuilders, modelSimulationRunner } from './broker';
import { coverageWords } from './coverage';
import type { SimulationResult } from './simulate-function';
import type { SimResult } from './scenario';
// The rules register their model builders and runners when loaded.
import '../rules/registry';

export interface SeedModels {
  rule: string;
  models: unknown[];
  /** One line per model: the call it simulates and the lock (or write-protect) it is about. */
  labels: string[];
}

export interface SeedLens {
  function: string;
  nameRange: SourceRange;
  seeds: SeedModels[];
}

export interface SeedOptions {
  kernel?: string;
  cancelled?: () => boolean;
}

/** One map per lowered file: the analyses memoize per map (locksets), so repeated lens requests reuse them. */
const byNames = new WeakMap<FileIR, Map<string, FunctionIR>>();
function byNameOf(file: FileIR): Map<string, FunctionIR> {
  let m = byNames.get(file);
  if (!m) { m = new Map(file.functions.map((f) => [f.name, f] as const)); byNames.set(file, m); }
  return m;
}

/** The lenses of a lowered file, by text and kernel: code lens requests repeat on every scroll. */
const lensCache = new WeakMap<FileIR, { text: string; kernel: string | undefined; lenses: SeedLens[] }>();

/** The seed-rule models of one function (none: nothing to simulate). */
export function seedModelsOf(fn: FunctionIR, byName: Map<string, FunctionIR>, text: string, opts: SeedOptions = {}): SeedModels[] {
  const cancelled = opts.cancelled ?? (() => false);
  const out: SeedModels[] = [];
  for (const [rule, build] of functionModelBuilders()) {
    if (cancelled()) break;
    const { models, labels } = build(fn, { text, functionsByName: byName, cancelled, ...(opts.kernel ? { kernel: opts.kernel } : {}) });
    if (models.length) out.push({ rule, models, labels });
  }
  return out;
}

/** Functions with a seed-rule model: where a "Simulate" lens goes. */
export function seedSimulateLenses(file: FileIR, text: string, opts: SeedOptions = {}): SeedLens[] {
  const hit = lensCache.get(file);
  if (hit && hit.text === text && hit.kernel === opts.kernel) return hit.lenses;
  const byName = byNameOf(file);
  const out: SeedLens[] = [];
  for (const fn of file.functions) {
    // A cancelled request answers what it has, and is not cached.
    if (opts.cancelled?.()) return out;
    const seeds = seedModelsOf(fn, byName, text, opts);
    if (seeds.length) out.push({ function: fn.name, nameRange: fn.nameRange, seeds });
  }
  lensCache.set(file, { text, kernel: opts.kernel, lenses: out });
  return out;
}

/**
 * Run a function's seed models: one run per model (the rule's scenario instantiated with the C),
 * the first failing one shown with its trace, every run listed with its verdict. Undefined when
 * the function has no seed model.
 */
export function simulateSeedFunction(fn: FunctionIR, byName: Map<string, FunctionIR>, text: string, opts: SeedOptions & { onProgress?: (explored: number) => void } = {}): SimulationResult | undefined {
  const seeds = seedModelsOf(fn, byName, text, opts);
  if (!seeds.length) return undefined;
  const cancelled = opts.cancelled ?? (() => false);
  const runs: { rule: string; label: string; result: SimResult }[] = [];
  let explored = 0;
  for (const s of seeds) {
    const run = modelSimulationRunner(s.rule);
    if (!run) continue;
    const results = run(s.models, { cancelled });
    results.forEach((result, i) => {
      runs.push({ rule: s.rule, label: s.labels[i] ?? `model ${i}`, result });
      explored += result.statesExplored;
      opts.onProgress?.(explored);
    });
    if (cancelled()) break;
  }
  const shown = runs.find((r) => r.result.verdict !== 'ok' && r.result.verdict !== 'inconclusive') ?? runs[0];
  const kernel = shown?.result.kernel ?? opts.kernel ?? MAINLINE;
  const base = {
    function: fn.name, kernel, loops: [], roles: { user: [], len: [] },
    profiles: runs.map((r) => ({ arch: r.result.arch, verdict: r.result.verdict, choice: `${r.rule}: ${r.label}`, covered: coverageWords(r.result) })),
    runs: runs.length,
  };
  if (!shown) {
    return { ...base, verdict: 'inconclusive', arch: '', note: cancelled() ? 'cancelled before the first run finished' : 'no simulation registered for the rule', steps: [], decisive: -1, statesExplored: explored, interleavings: 0, naive: 0, ...(cancelled() ? { bound: 'cancelled' } : {}) };
  }
  const r = shown.result;
  return {
    ...base, verdict: r.verdict, arch: r.arch, note: r.note, steps: r.steps, decisive: r.decisive, statesExplored: explored,
    interleavings: r.interleavings, naive: r.naive, choice: `${shown.rule}: ${shown.label}`, threads: r.threads, rule: shown.rule,
    ...(r.bound ? { bound: cancelled() ? 'cancelled' : r.bound } : cancelled() ? { bound: 'cancelled' } : {}),
  };
}
