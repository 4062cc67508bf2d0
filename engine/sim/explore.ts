// The explorer: a deterministic depth-first search over the interleavings of up to three threads
// and over the adversary's choices (results of calls the model does not know), with state
// hashing (a state reached twice is expanded once) and sleep sets (Godefroid's partial-order
// reduction: after exploring transition t from a state, t is not re-explored from successors
// reached through transitions independent of it). A thread at an adversary choice has one
// transition per value; transitions of one thread are always dependent on each other.
//
// Oracles: live-lock = a fair cycle of states (nothing changes, so nothing progresses): found at
// once when a transition closes a cycle on the DFS stack, and over the whole explored graph
// (strongly connected components, so a cycle through states explored on another branch counts
// too); deadlock = every unfinished thread blocked; reference leak and lost writes at exit.
// Budget: states (and, only when a caller asks for it, time) and a cancellation callback, each
// giving `inconclusive` with the bound named.

import type { TraceStep } from '../findings';
import { stateHash, stateTextHash, type SimState } from '../kernel/state';
import type { Access, Verdict } from '../kernel/ops';
import { choiceCount, runTransition, type TransitionResult, type World } from './interp';
import { forgetDeadLocals } from './liveness';
import { stronglyConnected } from '../scc';

export interface Budget {
  maxStates?: number;
  cancelled?: () => boolean;
  /** Turn the partial-order reduction off (tests and the bench compare). */
  noReduction?: boolean;
  /** Turn state hashing off (the bench compares): a state is expanded again on every visit, up to the budget. */
  noHashing?: boolean;
  /** Key the visited set by the hash of each state's JSON text, as before stateHash (the bench compares). */
  textKeys?: boolean;
  /** Keep dead locals in the state (the bench compares; engine/sim/liveness.ts). */
  noDeadLocals?: boolean;
  /** Called with the states explored so far, every few thousand steps of a long exploration. */
  progress?: (states: number) => void;
  /**
   * A live-lock counts only when its cycle holds, for each predicate, a step that satisfies it
   * (the uaccess-livelock rule asks for a copy that faulted and a fault-in that reported
   * success). Cycles that do not are ordinary back edges: the search goes on.
   */
  livelockRequires?: ((s: TraceStep) => boolean)[];
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
  /** Transitions executed (edges of the explored graph). */
  transitions?: number;
  /** Steps that ran a user copy, over the whole exploration (coverage: was the copy reached?). */
  copiesRun?: number;
  /** Of those, copies with page faults not serviced (the copy a fault-in retry loop retries). */
  nofaultCopiesRun?: number;
  /** Adversary choice points met (distinct states where an unknown result was chosen). */
  choicePoints?: number;
  /** Preconditions the function relied on (its caller's locks and references). */
  preconditions?: string[];
  bound?: string;
}

type Fp = Map<string, Access>;

/** A step whose progress the model does not keep in the state: no live-lock cycle runs through it. */
const unmodelledProgress = (s: TraceStep): boolean => !!s.facts?.unmodelledProgress;

/** Transition id: thread and adversary choice. */
const CH = 64;
const trId = (tid: number, choice: number): number => tid * CH + choice;
const tidOf = (tr: number): number => Math.floor(tr / CH);

/** A state's identity in the visited set (engine/kernel/state.ts stateHash). */
type Key = number;

interface Node {
  key: Key;
  state: SimState;
  sleep: Map<number, Fp>;
  trans?: Map<number, TransitionResult>;
  order?: number[];
  next: number;
  explored: Map<number, Fp>;
  /** The transition that led here. */
  via?: { tr: number; r: TransitionResult };
  counts: number[];
  /** A revisit: only these transitions (asleep on the earlier visit) are left to explore; the rest were explored then. */
  only?: Set<number>;
  /** Threads with at least one enabled transition here. */
  enabled?: boolean[];
}

interface Edge { from: Key; to: Key; tid: number; steps: TraceStep[] }

/** The switches that turn one of the explorer's savings off (tests and the bench compare). */
export type ExploreSwitches = Pick<Budget, 'noReduction' | 'noHashing' | 'textKeys' | 'noDeadLocals'>;

/** The switches of `o` that are on, to pass on to the next layer's options (absent when off). */
export function switchesOn(o: ExploreSwitches): ExploreSwitches {
  const out: ExploreSwitches = {};
  if (o.noReduction) out.noReduction = true;
  if (o.noHashing) out.noHashing = true;
  if (o.textKeys) out.textKeys = true;
  if (o.noDeadLocals) out.noDeadLocals = true;
  return out;
}

/** The bound text of an exploration stopped by its state budget (`SimResult.bound`). */
export function stateBound(states: number): string {
  return `${states} states`;
}

/** Whether a bound is the state budget (not a cancellation, a precondition or an unsupported step). */
export function isStateBound(bound: string | undefined): boolean {
  return !!bound && /^\d+ states$/.test(bound);
}

export const DEFAULT_BUDGET = { maxStates: 200000 };
const NOTHING_ASLEEP: ReadonlySet<number> = new Set<number>();
/** Steps of the search path kept in an inconclusive result. */
const STOPPED_PATH_STEPS = 100;

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

function withThread(r: TransitionResult, tid: number): TransitionResult {
  r.fp.set(`thread:${tid}`, 'w');
  return r;
}

/** Mark a cycle's steps and build the live-lock note in the kernel's words (from typed facts). */
function livelockSteps(prefix: TraceStep[], cycle: TraceStep[], tids: Set<number>): { steps: TraceStep[]; note: string } {
  const first = cycle.map((s) => ({ ...s, facts: { ...s.facts, cycle: 'first' as const } }));
  const again = cycle.map((s) => ({ ...s, note: s.note ? `${s.note} (again)` : '(again: same state)', facts: { ...s.facts, cycle: 'again' as const } }));
  const threads = [...tids].sort().map((u) => `CPU${u}`).join(', ');
  const fi = cycle.find((s) => s.facts?.faultIn)?.facts?.faultIn;
  const probe = fi ? cycle.find((s) => s.facts?.faultIn)?.note?.split('; ')[0] : undefined;
  const copy = cycle.find((s) => s.facts?.copy?.faultAt !== undefined);
  const fault = copy?.note ? /faulted at (0x[0-9a-f]+): ([^;(]*)/.exec(copy.note) : null;
  const why = [probe, fault ? `the copy faulted at ${fault[1]} again (${fault[2].trim()})` : undefined].filter(Boolean).join('; ');
  const note = `${why ? `${why}; ` : ''}no progress: after ${cycle.length} step(s) ${threads} ${tids.size > 1 ? 'are' : 'is'} back in exactly the same state (nothing copied, no exit) — live-lock`;
  const last = cycle[cycle.length - 1];
  return { steps: [...prefix, ...first, ...again, { thread: last?.thread ?? 0, operation: 'state repeats', note, facts: { sameState: true } }], note };
}

function exploreInner(world: World, initial: SimState, endOracle: EndOracle, budget: Budget): ExploreResult {
  const maxStates = budget.maxStates ?? DEFAULT_BUDGET.maxStates;
  const nThreads = initial.threads.length;
  const visited = new Map<Key, ReadonlySet<number>>();
  const onStack = new Map<Key, number>();
  const requires = budget.livelockRequires ?? [];
  let states = 1;
  let leaves = 0;
  let naive = 0;
  let transitions = 0;
  let copiesRun = 0;
  let nofaultCopiesRun = 0;
  let choicePoints = 0;
  const preconditions = new Set<string>();
  // The explored graph, for live-locks through states explored on another branch.
  const edges: Edge[] = [];
  const parent = new Map<Key, Edge | null>();
  const enabledAt = new Map<Key, boolean[]>();

  const keyOf = budget.textKeys ? stateTextHash : stateHash;
  const rootKey = keyOf(initial);
  const root: Node = { key: rootKey, state: initial, sleep: new Map(), next: 0, explored: new Map(), counts: new Array(nThreads).fill(0) };
  visited.set(root.key, new Set());
  parent.set(root.key, null);
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
    verdict, note, steps, decisive, statesExplored: states, interleavings: Math.max(leaves, 1), naive: Math.max(naive, 1),
    transitions, copiesRun, nofaultCopiesRun, choicePoints, ...(preconditions.size ? { preconditions: [...preconditions] } : {}), ...(bound ? { bound } : {}),
  });
  const account = (r: TransitionResult): void => {
    transitions++;
    for (const s of r.steps) {
      if (s.facts?.copy) copiesRun++;
      if (s.facts?.copy && !s.facts.copy.serviced) nofaultCopiesRun++;
      if (s.facts?.precondition) preconditions.add(s.facts.precondition);
    }
  };
  /** A stop before the end: a live-lock already in the explored graph still counts. */
  const stopped = (verdict: Verdict, note: string, bound: string): ExploreResult => {
    // A cancel means stop now (the graph may be large); a budget stop still looks.
    const ll = bound === 'cancelled' ? undefined : graphLivelock();
    if (ll) return ll;
    // The path the search was on when it stopped (its last steps: a deep search can be
    // thousands of steps down, which nobody reads and every face would have to render).
    const path = pathSteps(stack.length - 1);
    const tail = path.length > STOPPED_PATH_STEPS
      ? [{ thread: path[0].thread, operation: `... ${path.length - STOPPED_PATH_STEPS} earlier steps`, note: 'the search was this deep when it stopped' }, ...path.slice(-STOPPED_PATH_STEPS)]
      : path;
    return result(verdict, note, tail, -1, bound);
  };

  const graphLivelock = (): ExploreResult | undefined => {
    const found = fairCycle(edges, enabledAt, nThreads, requires);
    if (!found) return undefined;
    const prefix: TraceStep[] = [];
    const chain: Edge[] = [];
    for (let e = parent.get(found.start); e; e = parent.get(e.from)) chain.push(e);
    for (const e of chain.reverse()) prefix.push(...e.steps);
    const cycle = found.walk.flatMap((e) => e.steps);
    const { steps, note } = livelockSteps(prefix, cycle, new Set(found.walk.map((e) => e.tid)));
    return result('livelock', note, steps, steps.length - 1);
  };

  let iter = 0;
  while (stack.length) {
    if ((++iter & 4095) === 0) budget.progress?.(states);
    if ((iter & 63) === 0) {
      if (budget.cancelled?.()) return stopped('inconclusive', 'cancelled before the exploration finished', 'cancelled');
    }
    const top = stack[stack.length - 1];
    if (!top.trans) {
      const trans = new Map<number, TransitionResult>();
      top.trans = trans;
      const enabled: boolean[] = new Array(nThreads).fill(false);
      // Transitions in the sleep set are not explored from here: only compute them when nothing
      // else can move (to tell a deadlock from a pruned branch).
      const compute = (tid: number, onlyAsleep: boolean): void => {
        if (top.state.threads[tid].done) return;
        const n = choiceCount(world, top.state, tid);
        if (n > 1 && !onlyAsleep) choicePoints++;
        for (let c = 0; c < n; c++) {
          const tr = trId(tid, c);
          if (top.sleep.has(tr) !== onlyAsleep) continue;
          const r = runTransition(world, top.state, tid, c);
          if (!r.changed) continue;
          if (!budget.noDeadLocals) forgetDeadLocals(world.program.functions, r.state, tid);
          trans.set(tr, withThread(r, tid));
          enabled[tid] = true;
        }
      };
      try {
        for (let tid = 0; tid < nThreads; tid++) compute(tid, false);
        if (trans.size === 0) for (let tid = 0; tid < nThreads; tid++) compute(tid, true);
      } catch (err) {
        // An IR shape the interpreter cannot run (recursion, a block with no feasible edge):
        // never a crash — inconclusive, naming why.
        const why = err instanceof Error ? err.message : String(err);
        return stopped('inconclusive', `the interpreter stopped: ${why}`, `unsupported: ${why}`);
      }
      top.enabled = enabled;
      enabledAt.set(top.key, enabled);
      const ids = [...trans.keys()];
      top.order = top.only ? ids.filter((i) => top.only!.has(i)) : ids;
      if (top.only) for (const [u, r] of trans) if (!top.only.has(u)) top.explored.set(u, r.fp);
      if (ids.length === 0) {
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
    let tr = -1;
    while (top.next < top.order!.length) {
      const c = top.order![top.next++];
      if (!top.sleep.has(c)) { tr = c; break; }
    }
    if (tr < 0) {
      onStack.delete(top.key);
      stack.pop();
      continue;
    }
    const tid = tidOf(tr);
    const r = top.trans!.get(tr)!;
    account(r);
    const counts = top.counts.slice();
    counts[tid] += r.stmts;
    if (r.violation) {
      const steps = pathSteps(stack.length - 1);
      steps.push(...r.steps);
      leaf(counts);
      return result(r.violation.verdict, r.violation.note, steps, steps.length - 1);
    }
    const key = keyOf(r.state);
    const edge: Edge = { from: top.key, to: key, tid, steps: r.steps };
    edges.push(edge);
    const cycleAt = onStack.get(key);
    if (cycleAt !== undefined) {
      // A cycle of states on the stack: live-lock if the schedule is fair (every thread enabled
      // all along the cycle takes a step in it) and the cycle holds what the caller requires.
      const stepping = new Set<number>([tid]);
      for (let i = cycleAt + 1; i < stack.length; i++) stepping.add(tidOf(stack[i].via!.tr));
      let fair = true;
      for (let u = 0; u < nThreads && fair; u++) {
        if (stepping.has(u)) continue;
        let always = true;
        for (let i = cycleAt; i < stack.length && always; i++) {
          const node = stack[i];
          let on = node.enabled?.[u] ?? false;
          if (!on && !node.state.threads[u].done) {
            // Asleep here (not computed): is it enabled?
            for (let c = 0; c < choiceCount(world, node.state, u) && !on; c++) on = runTransition(world, node.state, u, c).changed;
          }
          if (!on) always = false;
        }
        if (always) fair = false;
      }
      top.explored.set(tr, r.fp);
      // Most back edges close a cycle that lacks what the caller requires (the adversary
      // repeating a choice): test that on the steps in place, build the cycle only for a verdict.
      const cycleHas = (p: (s: TraceStep) => boolean): boolean => {
        for (let i = cycleAt + 1; i < stack.length; i++) if (stack[i].via!.r.steps.some(p)) return true;
        return r.steps.some(p);
      };
      if (fair && requires.every(cycleHas) && !cycleHas(unmodelledProgress)) {
        const cycle: TraceStep[] = [];
        for (let i = cycleAt + 1; i < stack.length; i++) cycle.push(...stack[i].via!.r.steps);
        cycle.push(...r.steps);
        leaf(counts);
        const { steps, note } = livelockSteps(pathSteps(cycleAt), cycle, stepping);
        return result('livelock', note, steps, steps.length - 1);
      }
      leaf(counts);
      continue;
    }
    // Sleep set of the successor: transitions asleep here or explored before, independent of t.
    const sleep = new Map<number, Fp>();
    if (!budget.noReduction) {
      for (const [u, fp] of top.sleep) if (!dependent(fp, r.fp)) sleep.set(u, fp);
      for (const [u, fp] of top.explored) if (!dependent(fp, r.fp)) sleep.set(u, fp);
    }
    top.explored.set(tr, r.fp);
    const seen = budget.noHashing ? undefined : visited.get(key);
    let only: Set<number> | undefined;
    if (seen) {
      // Revisit (Godefroid's sleep sets with state caching): only transitions that were asleep
      // last time and are awake now need exploring; the others were explored from this state before.
      const again = [...seen].filter((u) => !sleep.has(u));
      if (again.length === 0) { leaf(counts); continue; }
      only = new Set(seen);
      visited.set(key, new Set([...seen].filter((u) => sleep.has(u))));
    } else {
      // Nothing asleep (always so with one thread): one shared empty set, never changed in place.
      visited.set(key, sleep.size ? new Set(sleep.keys()) : NOTHING_ASLEEP);
      if (!parent.has(key)) parent.set(key, edge);
      states++;
      if (states > maxStates) return stopped('inconclusive', `state budget of ${maxStates} states exhausted`, stateBound(maxStates));
    }
    const child: Node = { key, state: r.state, sleep, next: 0, explored: new Map(), via: { tr, r }, counts, ...(only ? { only } : {}) };
    onStack.set(key, stack.length);
    stack.push(child);
  }
  const ll = graphLivelock();
  if (ll) return ll;
  return result('ok', 'every explored interleaving and adversary choice ends cleanly', [], -1);
}

/**
 * A weakly fair cycle in the explored graph that holds a step for every requirement: Tarjan's
 * strongly connected components; in a component, a thread enabled in every state must step
 * inside it. The walk returned starts and ends at `start` and covers one edge per requirement
 * and per such thread (shortest paths inside the component).
 */
function fairCycle(edges: Edge[], enabledAt: Map<Key, boolean[]>, nThreads: number, requires: ((s: TraceStep) => boolean)[]): { start: Key; walk: Edge[] } | undefined {
  const out = new Map<Key, Edge[]>();
  for (const e of edges) {
    // No cycle goes through a step whose progress the state does not show.
    if (e.steps.some(unmodelledProgress)) continue;
    if (!out.has(e.from)) out.set(e.from, []);
    out.get(e.from)!.push(e);
  }
  // Components of the explored graph (engine/scc.ts), on vertex numbers given in the order the
  // states first appear as edge sources (the order the search left them).
  const keys = [...out.keys()];
  const num = new Map<Key, number>(keys.map((k, i) => [k, i]));
  for (const es of out.values()) for (const e of es) if (!num.has(e.to)) { num.set(e.to, keys.length); keys.push(e.to); }
  const comps: Key[][] = stronglyConnected(keys.length, (v) => (out.get(keys[v]) ?? []).map((e) => num.get(e.to)!))
    .map((members) => members.map((v) => keys[v]));
  for (const comp of comps) {
    const inC = new Set(comp);
    const inner = comp.flatMap((v) => (out.get(v) ?? []).filter((e) => inC.has(e.to)));
    if (!inner.length) continue;
    // Fairness: a thread enabled in every state of the component must step in it.
    const needThreads: number[] = [];
    let fair = true;
    for (let u = 0; u < nThreads; u++) {
      if (inner.some((e) => e.tid === u)) continue;
      if (comp.every((v) => enabledAt.get(v)?.[u])) { fair = false; break; }
    }
    if (!fair) continue;
    for (let u = 0; u < nThreads; u++) if (inner.some((e) => e.tid === u) && comp.every((v) => enabledAt.get(v)?.[u])) needThreads.push(u);
    const wanted: ((e: Edge) => boolean)[] = [
      ...requires.map((p) => (e: Edge) => e.steps.some(p)),
      ...needThreads.map((u) => (e: Edge) => e.tid === u),
    ];
    if (!wanted.every((w) => inner.some(w))) continue;
    const start = inner.find(wanted[0] ?? (() => true))!.from;
    const walk: Edge[] = [];
    let at = start;
    const pathTo = (from: Key, pred: (e: Edge) => boolean): Edge[] | undefined => {
      // BFS inside the component to an edge satisfying pred; returns the edges taken, that edge last.
      const prev = new Map<Key, Edge | null>([[from, null]]);
      const q = [from];
      for (let qi = 0; qi < q.length; qi++) {
        const v = q[qi];
        for (const e of out.get(v) ?? []) {
          if (!inC.has(e.to)) continue;
          if (pred(e)) {
            const path: Edge[] = [e];
            for (let p = prev.get(v); p; p = prev.get(p.from)) path.push(p);
            return path.reverse();
          }
          if (!prev.has(e.to)) { prev.set(e.to, e); q.push(e.to); }
        }
      }
      return undefined;
    };
    let ok = true;
    for (const w of wanted) {
      if (walk.some(w)) continue;
      const p = pathTo(at, w);
      if (!p) { ok = false; break; }
      walk.push(...p);
      at = walk[walk.length - 1].to;
    }
    if (!ok) continue;
    if (at !== start || !walk.length) {
      const back = pathTo(at, (e) => e.to === start);
      if (!back) continue;
      walk.push(...back);
    }
    return { start, walk };
  }
  return undefined;
}
