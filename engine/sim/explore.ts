// The explorer: a deterministic depth-first search over interleavings of up to three threads,
// with state hashing (a state reached twice is explored once) and sleep sets (Godefroid's
// partial-order reduction: after exploring transition t from a state, t is not re-explored from
// successors reached through transitions independent of it). Oracles: live-lock = a reachable
// cycle of states under fair scheduling (nothing changes, so nothing progresses); deadlock =
// every unfinished thread blocked (self-waits are caught when they happen); reference leak at
// exit; lost writes at exit. Budget: states, time and a cancellation callback, each giving
// `inconclusive` with the bound named.

import type { TraceStep } from '../findings';
import { stateKey, type SimState } from '../kernel/state';
import type { Access, Verdict } from '../kernel/ops';
import { runTransition, type TransitionResult, type World } from './interp';

export interface Budget {
  maxStates?: number;
  timeMs?: number;
  cancelled?: () => boolean;
  /** Turn the partial-order reduction off (tests and the bench compare). */
  noReduction?: boolean;
}

export interface ExploreResult {
  verdict: Verdict;
  note: string;
  steps: TraceStep[];
  /** Index in `steps` of the step that decides the verdict. */
  decisive: number;
  statesExplored: number;
  interleavings: number;
  naive: number;
  bound?: string;
}

type Fp = Map<string, Access>;

interface Node {
  key: string;
  state: SimState;
  sleep: Map<number, Fp>;
  trans?: (TransitionResult | undefined)[];
  order?: number[];
  next: number;
  explored: Map<number, Fp>;
  /** The transition that led here. */
  via?: { tid: number; r: TransitionResult };
  counts: number[];
  /** Threads already explored from this state on an earlier visit. */
  pre?: Set<number>;
}

export const DEFAULT_BUDGET = { maxStates: 200000, timeMs: 10000 };

function dependent(a: Fp, b: Fp): boolean {
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y && (x === 'w' || y === 'w')) return true;
  }
  return false;
}

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** Interleavings a naive enumeration of these per-thread statement counts would run. */
export function multinomial(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const l = logFactorial(total) - counts.reduce((a, c) => a + logFactorial(c), 0);
  return Math.round(Math.min(Math.exp(l), 1e300));
}

export interface EndOracle {
  (s: SimState): { verdict: Verdict; note: string } | undefined;
}

export function explore(world: World, initial: SimState, endOracle: EndOracle, budget: Budget = {}): ExploreResult {
  try {
    return exploreInner(world, initial, endOracle, budget);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { verdict: 'inconclusive', note: `the interpreter stopped: ${why}`, steps: [], decisive: -1, statesExplored: 0, interleavings: 0, naive: 0, bound: `unsupported: ${why}` };
  }
}

function exploreInner(world: World, initial: SimState, endOracle: EndOracle, budget: Budget): ExploreResult {
  const maxStates = budget.maxStates ?? DEFAULT_BUDGET.maxStates;
  const timeMs = budget.timeMs ?? DEFAULT_BUDGET.timeMs;
  const t0 = Date.now();
  const nThreads = initial.threads.length;
  const visited = new Map<string, Set<number>>();
  const onStack = new Map<string, number>();
  let states = 1;
  let leaves = 0;
  let naive = 0;

  const root: Node = { key: stateKey(initial), state: initial, sleep: new Map(), next: 0, explored: new Map(), counts: new Array(nThreads).fill(0) };
  visited.set(root.key, new Set());
  const stack: Node[] = [root];
  onStack.set(root.key, 0);

  const pathSteps = (upto: number): TraceStep[] => {
    const out: TraceStep[] = [];
    for (let i = 1; i <= upto; i++) out.push(...stack[i].via!.r.steps);
    return out;
  };
  const leaf = (counts: number[]): void => {
    leaves++;
    if (naive === 0) naive = multinomial(counts);
  };
  const result = (verdict: Verdict, note: string, steps: TraceStep[], decisive: number, bound?: string): ExploreResult => ({
    verdict, note, steps, decisive, statesExplored: states, interleavings: Math.max(leaves, 1), naive: Math.max(naive, 1), ...(bound ? { bound } : {}),
  });

  let iter = 0;
  while (stack.length) {
    if ((++iter & 63) === 0) {
      if (budget.cancelled?.()) return result('inconclusive', 'cancelled before the exploration finished', pathSteps(stack.length - 1), -1, 'cancelled');
      if (Date.now() - t0 > timeMs) return result('inconclusive', `time budget of ${timeMs} ms exhausted after ${states} states`, pathSteps(stack.length - 1), -1, `time ${timeMs} ms`);
    }
    const top = stack[stack.length - 1];
    if (!top.trans) {
      const trans: (TransitionResult | undefined)[] = [];
      top.trans = trans;
      // Threads in the sleep set are not explored from here: only compute them when nothing
      // else can move (to tell a deadlock from a pruned branch).
      const compute = (tid: number): TransitionResult | undefined => {
        if (top.state.threads[tid].done) return undefined;
        const r = runTransition(world, top.state, tid);
        return r.changed ? r : undefined;
      };
      try {
      for (let tid = 0; tid < nThreads; tid++) trans.push(top.sleep.has(tid) ? undefined : compute(tid));
      if (!trans.some((r) => r !== undefined)) for (const tid of top.sleep.keys()) trans[tid] = compute(tid);
      } catch (err) {
        // An IR shape the interpreter cannot run (recursion, a block with no feasible edge):
        // never a crash — inconclusive, naming why.
        const why = err instanceof Error ? err.message : String(err);
        return result('inconclusive', `the interpreter stopped: ${why}`, pathSteps(stack.length - 1), -1, `unsupported: ${why}`);
      }
      const enabled = trans.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
      top.order = enabled.filter((i) => !top.pre?.has(i));
      for (const u of top.pre ?? []) if (top.trans[u]) top.explored.set(u, top.trans[u]!.fp);
      if (enabled.length === 0) {
        const s = top.state;
        const blocked = s.threads.filter((t) => !t.done);
        if (blocked.length) {
          const steps = pathSteps(stack.length - 1);
          const holder = (name: string | undefined): string => {
            const l = name ? s.locks[name] : undefined;
            if (!l) return '';
            const by = l.writer >= 0 ? [`CPU${l.writer} (write)`] : [...new Set(l.readers)].map((r) => `CPU${r} (read)`);
            const queued = l.waitingWriters.length ? `, writer ${l.waitingWriters.map((w) => `CPU${w}`).join(', ')} queued` : '';
            return by.length || queued ? ` held by ${by.join(', ') || 'nobody'}${queued}` : '';
          };
          const why = blocked.map((t) => `CPU${t.id} waits for ${t.waiting ?? 'nothing it can get'}${holder(t.waiting)}`).join('; ');
          steps.push({ thread: blocked[0].id, operation: 'deadlock', note: `every unfinished thread is blocked: ${why}` });
          leaf(top.counts);
          return result('deadlock', `every unfinished thread is blocked: ${why}`, steps, steps.length - 1);
        }
        const v = endOracle(s);
        leaf(top.counts);
        if (v) {
          const steps = pathSteps(stack.length - 1);
          steps.push({ thread: 0, operation: 'end of scenario', note: v.note });
          return result(v.verdict, v.note, steps, steps.length - 1);
        }
        onStack.delete(top.key);
        stack.pop();
        continue;
      }
    }
    // Next transition not in the sleep set and not yet explored from here.
    let tid = -1;
    while (top.next < top.order!.length) {
      const c = top.order![top.next++];
      if (!top.sleep.has(c)) { tid = c; break; }
    }
    if (tid < 0) {
      onStack.delete(top.key);
      stack.pop();
      continue;
    }
    const r = top.trans![tid]!;
    const counts = top.counts.slice();
    counts[tid] += r.stmts;
    if (r.violation) {
      const steps = pathSteps(stack.length - 1);
      steps.push(...r.steps);
      leaf(counts);
      return result(r.violation.verdict, r.violation.note, steps, steps.length - 1);
    }
    const key = stateKey(r.state);
    const cycleAt = onStack.get(key);
    if (cycleAt !== undefined) {
      // A cycle of states: live-lock if the schedule is fair (every thread enabled all along
      // the cycle takes a step in it).
      const stepping = new Set<number>([tid]);
      for (let i = cycleAt + 1; i < stack.length; i++) stepping.add(stack[i].via!.tid);
      let fair = true;
      for (let u = 0; u < nThreads && fair; u++) {
        if (stepping.has(u)) continue;
        let always = true;
        for (let i = cycleAt; i < stack.length && always; i++) {
          const node = stack[i];
          if (!node.trans![u] && node.sleep.has(u) && !node.state.threads[u].done) node.trans![u] = runTransition(world, node.state, u);
          const tr = node.trans![u];
          if (!tr || !tr.changed) always = false;
        }
        if (always) fair = false;
      }
      top.explored.set(tid, r.fp);
      if (fair) {
        leaf(counts);
        const prefix = pathSteps(cycleAt);
        const cycle: TraceStep[] = [];
        for (let i = cycleAt + 1; i < stack.length; i++) cycle.push(...stack[i].via!.r.steps);
        cycle.push(...r.steps);
        const again = cycle.map((s) => ({ ...s, note: s.note ? `${s.note} (again)` : '(again: same state)' }));
        const threads = [...stepping].map((u) => `CPU${u}`).join(', ');
        // Say it in the kernel's words: what fault-in reported and where the copy failed.
        const probe = cycle.find((s) => s.note?.includes('probed'))?.note?.split('; ')[0];
        const copy = cycle.find((s) => s.note?.includes('faulted at'))?.note;
        const fault = copy ? /faulted at (0x[0-9a-f]+): ([^;(]*)/.exec(copy) : null;
        const why = [probe, fault ? `the copy faulted at ${fault[1]} again (${fault[2].trim()})` : undefined].filter(Boolean).join('; ');
        const note = `${why ? `${why}; ` : ''}no progress: after ${cycle.length} step(s) ${threads} ${stepping.size > 1 ? 'are' : 'is'} back in exactly the same state (nothing copied, no exit) — live-lock`;
        const steps = [...prefix, ...cycle, ...again, { thread: tid, operation: 'state repeats', note }];
        return result('livelock', note, steps, steps.length - 1);
      }
      leaf(counts);
      continue;
    }
    // Sleep set of the successor: threads asleep here or explored before, independent of t.
    const sleep = new Map<number, Fp>();
    if (!budget.noReduction) {
      for (const [u, fp] of top.sleep) if (!dependent(fp, r.fp)) sleep.set(u, fp);
      for (const [u, fp] of top.explored) if (!dependent(fp, r.fp)) sleep.set(u, fp);
    }
    top.explored.set(tid, r.fp);
    const seen = visited.get(key);
    let pre: Set<number> | undefined;
    if (seen) {
      // Revisit (Godefroid's sleep sets with state caching): only threads that were asleep last
      // time and are awake now need exploring; the others were explored from this state before.
      const again = [...seen].filter((u) => !sleep.has(u));
      if (again.length === 0) { leaf(counts); continue; }
      pre = new Set<number>();
      for (let u = 0; u < nThreads; u++) if (!seen.has(u)) pre.add(u);
      visited.set(key, new Set([...seen].filter((u) => sleep.has(u))));
    } else {
      visited.set(key, new Set(sleep.keys()));
      states++;
      if (states > maxStates) return result('inconclusive', `state budget of ${maxStates} states exhausted`, pathSteps(stack.length - 1), -1, `${maxStates} states`);
    }
    const child: Node = { key, state: r.state, sleep, next: 0, explored: new Map(), via: { tid, r }, counts, ...(pre ? { pre } : {}) };
    onStack.set(key, stack.length);
    stack.push(child);
  }
  return result('ok', 'every explored interleaving and adversary choice ends cleanly', [], -1);
}
