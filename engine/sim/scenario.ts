// Scenarios are data (herdtools style): threads (FunctionIR + arguments), the initial memory
// layout, adversary choices, the kernel version, and the expected verdict per profile beside
// them. One runner builds the initial state, explores every choice and compares.

import type { CallStmt, FunctionIR } from '../ir';
import type { ApiEntry } from '../kernel/api-schema';
import { lookupApi } from '../kernel/api-table';
import { PROFILES, PROFILE_NAMES, getProfile, noProfileUse, type ArchProfile, type ProfileUse } from '../kernel/profiles';
import { MAINLINE, kernelSwitches } from '../kernel/versions';
import {
  GUP_PIN_COUNTING_BIAS, hex, newPage, type FileState, type Layout, type Mm, type SimState, type Val,
} from '../kernel/state';
import { forkMm, type Verdict } from '../kernel/ops';
import { explore, switchesOn, type Budget, type ExploreResult } from './explore';
import { newFrame, type ChoiceSite, type Program, type World } from './interp';

export type ProfileName = ArchProfile['name'];

export interface ThreadSpec {
  fn: string;
  args?: Val[];
  /** Address space: 0 = the process, 1 = the forked child (layout.forked). */
  mm?: number;
  name?: string;
}

export interface ChoiceOption {
  label: string;
  layout?: Partial<Layout>;
  globals?: Record<string, Val>;
}

export interface Scenario {
  name: string;
  /** One line for `simulate --list`. */
  title: string;
  /** Public citation of what the scenario reproduces: mailing-list thread (subject, date, lore
   * link), kernel files, commits. */
  source: string;
  side: 'before' | 'after';
  /** The scenario on the other side of the fix. */
  pair?: string;
  /** Which oracle the scenario exercises (docs/scenarios.md). */
  oracle: string;
  functions: FunctionIR[];
  threads: ThreadSpec[];
  layout: Layout;
  globals?: Record<string, Val>;
  /** Adversary choices over the initial layout: every combination is explored. */
  choices?: { name: string; options: ChoiceOption[] }[];
  kernel?: string;
  /** Expected verdict per profile; `*` for the rest. */
  expect: Partial<Record<ProfileName | '*', Verdict>>;
  /**
   * API semantics the scenario assumes for calls the table does not have yet (a workspace
   * declaring an API, ARCHITECTURE.md "It is data"). The table always wins.
   */
  assumeApis?: ApiEntry[];
  /** The functions were lowered from C: trace steps carry their source ranges. */
  fromC?: boolean;
  /** Adversary choices at unknown call sites (engine/sim/from-c): the explorer branches over them. */
  choiceSites?: Map<CallStmt, ChoiceSite>;
  /** Locks / references released without being taken are the caller's (a precondition), not an underflow. */
  callerHolds?: boolean;
}

/** One scenario run on one profile: the explorer's answer plus what was run. */
export interface SimResult extends ExploreResult {
  scenario: string;
  expected?: Verdict;
  arch: ProfileName;
  kernel: string;
  /** The adversary choice that produced the verdict. */
  choice?: string;
  threads: string[];
  /** What the run read of its profile (runAnswersFor: which other profiles it answers for). */
  profileUse: ProfileUse;
}

export function expectedVerdict(sc: Scenario, arch: ProfileName): Verdict | undefined {
  return sc.expect[arch] ?? sc.expect['*'];
}

function mergeLayout(base: Layout, extra: Partial<Layout> | undefined): Layout {
  if (!extra) return base;
  return {
    ...base, ...extra,
    vmas: extra.vmas ?? base.vmas,
    badGranules: [...(base.badGranules ?? []), ...(extra.badGranules ?? [])],
    pinnedBy: [...(base.pinnedBy ?? []), ...(extra.pinnedBy ?? [])],
  };
}

export interface InitialState {
  state: SimState;
  baseline: Record<number, { gets: number; pins: number }>;
}

/** Build the initial state from the layout (pages present, tags, pins, TLB, fork). */
export function buildInitialState(sc: Scenario, layout: Layout, globals: Record<string, Val>, profile: ArchProfile, kernel: string): InitialState {
  const ps = profile.pageSize;
  const sw = kernelSwitches(kernel);
  const mm: Mm = { id: 0, vmas: [], ptes: {}, tlbFlushPending: 0, hasPinned: false, notifiers: [], unflushed: {}, notifierSeq: 0, invalidating: 0 };
  const s: SimState = { mms: [mm], pages: [], files: {}, locks: {}, threads: [], globals: { ...globals } };
  for (const f of layout.files ?? []) {
    const fs: FileState = { blockBacked: f.blockBacked ?? true, pages: {} };
    if (f.faultLock) { fs.faultLock = f.faultLock; fs.faultLockClass = f.faultLockClass ?? 'glock'; }
    s.files[f.name] = fs;
  }
  for (const v of layout.vmas) {
    const write = v.write ?? true;
    mm.vmas.push({ start: v.start, end: v.start + v.pages * ps, kind: v.kind, write, softDirty: true, uffdWp: !!v.uffdWp, ...(v.file ? { file: v.file, pgoff: v.pgoff ?? 0 } : {}) });
    if (v.file && !s.files[v.file]) s.files[v.file] = { blockBacked: true, pages: {} };
    const present = v.present ?? [...Array(v.pages).keys()];
    for (const i of present) {
      const vpn = v.start / ps + i;
      if (v.kind === 'anon' || v.kind === 'tmpfs') {
        const p = newPage(s, { anon: v.kind === 'anon', anonExclusive: v.kind === 'anon', refcount: 1, mapcount: 1 });
        mm.ptes[String(vpn)] = { page: p.id, present: true, write, dirty: false, young: true, softDirty: true, uffdWp: !!v.uffdWp };
      } else {
        const f = s.files[v.file!];
        const index = (v.pgoff ?? 0) + i;
        const dirty = v.kind === 'shared-file' && !!v.dirty;
        const p = newPage(s, { anon: false, file: v.file, index, blockBacked: f.blockBacked, buffers: f.blockBacked, dirty, refcount: 2, mapcount: 1 });
        f.pages[String(index)] = p.id;
        mm.ptes[String(vpn)] = { page: p.id, present: true, write: v.kind === 'shared-file' && write && dirty, dirty, young: true, softDirty: true, uffdWp: false };
      }
    }
  }
  for (const a of layout.badGranules ?? []) {
    const pte = mm.ptes[String(Math.floor(a / ps))];
    if (!pte) continue;
    const off = (a % ps) - ((a % ps) % 16);
    const p = s.pages[pte.page];
    if (!p.badGranules.includes(off)) p.badGranules.push(off);
  }
  const baseline: InitialState['baseline'] = {};
  for (const pin of layout.pinnedBy ?? []) {
    const vpn = Math.floor(pin.addr / ps);
    const pte = mm.ptes[String(vpn)];
    if (!pte) continue;
    const p = s.pages[pte.page];
    p.gupPins += pin.pins ?? 0;
    p.pincount += pin.pins ?? 0;
    p.gupGets += pin.gets ?? 0;
    p.refcount += (pin.pins ?? 0) * GUP_PIN_COUNTING_BIAS + (pin.gets ?? 0);
    p.gupFrom = { mm: 0, vpn, write: true };
    if (pin.pins) mm.hasPinned = true;
  }
  if (layout.forked) forkMm(s, 0, sw);
  sc.threads.forEach((t, i) => {
    const fn = sc.functions.find((f) => f.name === t.fn);
    if (!fn) throw new Error(`scenario ${sc.name}: no function ${t.fn}`);
    s.threads.push({ id: i, name: t.name ?? t.fn, mm: t.mm ?? 0, frames: [newFrame(fn, t.args ?? [])], done: false, retval: null, pfDisabled: 0, tlb: {} });
  });
  for (const [tid, addrs] of Object.entries(layout.tlb ?? {})) {
    const t = s.threads[Number(tid)];
    for (const a of addrs) {
      const key = String(Math.floor(a / ps));
      const pte = s.mms[t.mm].ptes[key];
      if (pte?.present && pte.write) t.tlb[key] = { page: pte.page, write: true };
    }
  }
  for (const p of s.pages) baseline[p.id] = { gets: p.gupGets, pins: p.gupPins };
  return { state: s, baseline };
}

function endOracle(baseline: InitialState['baseline'], ps: number) {
  return (s: SimState): { verdict: Verdict; note: string } | undefined => {
    for (const p of s.pages) {
      const b = baseline[p.id] ?? { gets: 0, pins: 0 };
      if (p.gupGets > b.gets || p.gupPins > b.pins) {
        const what = p.gupPins > b.pins ? `${p.gupPins - b.pins} pin(s)` : `${p.gupGets - b.gets} reference(s)`;
        return { verdict: 'leak', note: `every thread returned but page #${p.id} still carries ${what} taken by GUP (refcount ${p.refcount}): reference leak at function exit` };
      }
    }
    for (const p of s.pages) {
      if (!p.anon && p.file && !p.dirty && p.content !== p.disk) {
        return { verdict: 'data-loss', note: `page #${p.id} of ${p.file} is clean but holds "${p.content}" while writeback wrote "${p.disk}": the store is never written back (dirtied before writeback cleaned it, or not at all)` };
      }
    }
    void ps;
    return undefined;
  };
}

export interface RunOptions extends Budget {
  arch?: ProfileName;
  kernel?: string;
}

function combos(sc: Scenario): ChoiceOption[][] {
  let out: ChoiceOption[][] = [[]];
  for (const c of sc.choices ?? []) out = out.flatMap((prefix) => c.options.map((o) => [...prefix, o]));
  return out;
}

/** Run one scenario under one profile: every adversary choice, first failing verdict wins. */
export function runScenario(sc: Scenario, opts: RunOptions = {}): SimResult {
  const arch = opts.arch ?? 'arm64-mte';
  const profile = getProfile(arch) ?? PROFILES.x86_64;
  const kernel = opts.kernel ?? sc.kernel ?? MAINLINE;
  const program: Program = {
    functions: Object.fromEntries(sc.functions.map((f) => [f.name, f])), ...(sc.fromC ? { fromC: true } : {}),
    ...(sc.choiceSites ? { choices: sc.choiceSites } : {}), ...(sc.callerHolds ? { callerHolds: true } : {}),
  };
  const assumed = new Map((sc.assumeApis ?? []).map((e) => [e.name, e]));
  const profileUse = noProfileUse();
  const world: World = {
    program, profile, sw: kernelSwitches(kernel), profileUse,
    api: (name) => {
      const e = lookupApi(name);
      const a = assumed.get(name);
      if (e && (e.refs || !a)) return e;
      return a ? { ...e, ...a } : e;
    },
  };
  let states = 0;
  let leaves = 0;
  let naive = 0;
  let transitions = 0;
  let copiesRun = 0;
  let nofaultCopiesRun = 0;
  let choicePoints = 0;
  const preconditions = new Set<string>();
  let inconclusive: SimResult | undefined;
  for (const combo of combos(sc)) {
    let layout = sc.layout;
    let globals: Record<string, Val> = { ...(sc.globals ?? {}) };
    for (const o of combo) {
      layout = mergeLayout(layout, o.layout);
      globals = { ...globals, ...(o.globals ?? {}) };
    }
    const init = buildInitialState(sc, layout, globals, profile, kernel);
    const r = explore(world, init.state, endOracle(init.baseline, profile.pageSize), {
      ...(opts.maxStates !== undefined ? { maxStates: opts.maxStates } : {}),
      ...(opts.cancelled ? { cancelled: opts.cancelled } : {}),
      ...switchesOn(opts),
      ...(opts.progress ? { progress: (n: number) => opts.progress!(states + n) } : {}),
      ...(opts.livelockRequires ? { livelockRequires: opts.livelockRequires } : {}),
    });
    transitions += r.transitions ?? 0;
    copiesRun += r.copiesRun ?? 0;
    nofaultCopiesRun += r.nofaultCopiesRun ?? 0;
    choicePoints += r.choicePoints ?? 0;
    for (const p of r.preconditions ?? []) preconditions.add(p);
    const extra = { transitions, copiesRun, nofaultCopiesRun, choicePoints, ...(preconditions.size ? { preconditions: [...preconditions] } : {}) };
    states += r.statesExplored;
    leaves += r.interleavings;
    naive += r.naive;
    const label = combo.map((o) => o.label).join(', ') || undefined;
    const res: SimResult = {
      scenario: sc.name, verdict: r.verdict, arch, kernel, note: r.note, steps: r.steps, decisive: r.decisive,
      statesExplored: states, interleavings: leaves, naive, threads: sc.threads.map((t) => t.name ?? t.fn), ...extra, profileUse,
      ...(r.bound ? { bound: r.bound } : {}), ...(label ? { choice: label } : {}),
    };
    const exp = expectedVerdict(sc, arch);
    if (exp) res.expected = exp;
    if (r.verdict === 'inconclusive') {
      inconclusive ??= res;
      if (r.bound === 'cancelled') break;
      continue;
    }
    if (r.verdict !== 'ok') return res;
  }
  const base = inconclusive ?? {
    scenario: sc.name, verdict: 'ok' as Verdict, arch, kernel, note: `every interleaving of ${sc.threads.length} thread(s) under ${combos(sc).length} adversary choice(s) ends cleanly`,
    steps: [], decisive: -1, statesExplored: states, interleavings: leaves, naive, threads: sc.threads.map((t) => t.name ?? t.fn), profileUse,
  };
  const exp = expectedVerdict(sc, arch);
  return {
    ...base, statesExplored: states, interleavings: leaves, naive, transitions, copiesRun, nofaultCopiesRun, choicePoints,
    ...(preconditions.size ? { preconditions: [...preconditions] } : {}), ...(exp ? { expected: exp } : {}),
  };
}

export function runScenarioAllProfiles(sc: Scenario, opts: Omit<RunOptions, 'arch'> = {}): SimResult[] {
  return PROFILE_NAMES.map((arch) => runScenario(sc, { ...opts, arch }));
}

export { hex };
