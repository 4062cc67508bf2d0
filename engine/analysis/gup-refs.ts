// Path-sensitive reference analysis for pages taken by GUP (thread "Keep track of GUPed pages in fs
// and block", Apr 2019: every get_user_pages / iov_iter_get_pages must be balanced; mm/gup.c and
// Documentation/core-api/pin_user_pages.rst: release exactly the returned
// count, nothing when it is <= 0, with the release that matches FOLL_GET or FOLL_PIN).
//
// Abstract interpretation over the CFG. A path state records, per acquisition site:
//   - which outcomes of the call are still possible on this path (negative / zero / fewer than
//     asked / all asked), refined by branch conditions on the returned count and its copies;
//   - whether the pages are held, released, handed off (struct field, global, list, sink from
//     the table, returned), or escaped to code we cannot see (then we say nothing);
//   - where the path left the code that could still release them (for the leak message).
// States that are equal at a block are merged; each block keeps at most `maxStatesPerBlock`
// states and the whole run has a step budget, so a 500-line function with 40 gotos stays cheap.
// Events (leak, mismatch, partial release, double release) are collected for the four rules.

import type { CallStmt, Edge, Expr, FileIR, FunctionIR, SourceRange, Stmt } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { GUP_FLAG_PREFIX, GUP_PIN_FLAG, gupArrayFreers, gupPageAliases, gupPageCarriers, gupValueTests, gupZeroDerivers } from '../kernel/api/gup';
import { isObserverCall } from '../kernel/api/ownership';
import type { RefEffect } from '../kernel/api/refs-schema';
import { exprKey, isIntValue, mentionsName, renderExpr, rootVar, varsOf } from './expr';
import { fileFunction, helperSummary } from './gup-summaries';
import { refilledIds } from './gup/refill';
import { applyFacts, LoopPathFacts, nullTestOf } from './path-conditions';
import { handsOnBefore, readsScalarOnly, usedBeforeRedefined } from './gup/ownership-facts';
import { DerivedValues, MAX_DERIVED_SIZE, atNothing, exprSize, mentionsAny, negativeNonErrno } from './gup/hand-back';
import { ValueFactsContext, vfAssign, vfCall, vfForget, vfHavoc, vfKey, vfTruth, type ValueFacts } from './gup/value-facts';
import { findReleaseLoops, findTransferLoops, releaseLoopBound, type ReleaseLoop, type TransferLoop } from './release-loops';

type AcquireEffect = Extract<RefEffect, { op: 'acquire' }>;
type ReleaseEffect = Extract<RefEffect, { op: 'release' }>;

/** Outcome classes of an acquisition's return value. */
export const NEG = 1;
export const ZERO = 2;
export const PART = 4;
export const FULL = 8;
const ALL = NEG | ZERO | PART | FULL;
export const TAKEN = PART | FULL;

export interface GupAcquisition {
  /** Index in `GupAnalysis.acquisitions`. */
  id: number;
  call: CallStmt;
  api: string;
  /** 'unknown' when FOLL_PIN cannot be decided from the flags expression. */
  kind: 'get' | 'pin' | 'unknown';
  arrayKey: string;
  arrayText: string;
  /** The variable the pages hang off (`pages`, `obj` for `obj->pages`). */
  root: string;
  single: boolean;
  requestedKey?: string;
  requestedText?: string;
  resultKey?: string;
  resultText?: string;
  /** The return value counts pages (not bytes) and the array is not an offset into another. */
  countTracked: boolean;
  mayTakeNothing: boolean;
  /** The acquisition fills the array from this offset (`pages + done`, `&map[n]`); undefined = from 0. */
  offsetKey?: string;
  /** The offset moves between runs (a loop filling one array): running again fills new slots. */
  accumulates: boolean;
  /** The kind comes from gup_flags this function was given (an mm/gup.c internal called with a parameter). */
  kindFromCaller: boolean;
  /** Other lvalues that hold this array (`bo->pages` after `bo->pages = pages`). */
  ownerKeys: string[];
  /** Their root variables (`bo`). */
  ownerRoots: string[];
}

/**
 * What the shared ownership analysis observed on some path, for the rules to judge. The analysis
 * says what happened (a release of this kind, with this count, while the pages were in this
 * state; pages still held where the function returns); each rule file decides whether that is a
 * bug (engine/rules/gup-*.ts).
 */
export type GupFact = ReleaseFact | HeldFact | RetakeFact | HandBackFact;

/** A release (or a same-file helper that releases) reached with the acquisition in some state. */
export interface ReleaseFact {
  kind: 'release';
  acq: GupAcquisition;
  at: SourceRange;
  call: CallStmt;
  /** The release function itself (the helper's inner release when `helper` is set). */
  api: string;
  /** `helper()` when the release happens inside a same-file helper called here. */
  helper?: string;
  releaseKind: 'get' | 'pin' | 'either';
  /** The release is one of two opposite-kind releases picked by a flag on exclusive paths, and the function takes both kinds into this array. */
  flagSelected: boolean;
  /** The release comes after a test of FOLL_PIN (only computed when the kind comes from the caller). */
  pinTested: boolean;
  /** Ownership state of the pages just before this release on this path. */
  before: Status;
  /** Where this path released them already (when `before` is 'released'). */
  first?: { at: SourceRange; api: string };
  /** Releases the whole acquisition (not one entry of it). */
  whole: boolean;
  /** A helper that releases only on some of its paths. */
  maybe: boolean;
  /** Outcomes of the acquisition still possible on this path (NEG/ZERO/PART/FULL bits). */
  outcomes: number;
  count?: ReleaseCount;
  inLoop: boolean;
  nullChecked: boolean;
  loopRange?: SourceRange;
}

export interface ReleaseCount {
  key: string;
  text: string;
  /** Argument range (for a quick fix). */
  range?: SourceRange;
  /** The count is the acquisition's result (or a copy of it) on this path. */
  isResult: boolean;
  /** The count is the requested count, still holding what was asked for on this path. */
  isRequested: boolean;
  /** The count lives in an unsigned variable: a negative result wraps to a huge count. */
  unsigned: boolean;
}

/** Pages still held (some taken, none released or handed on) where the path leaves the function. */
export interface HeldFact {
  kind: 'held';
  acq: GupAcquisition;
  at: SourceRange;
  via: string;
  branch?: { text: string; line: number; range?: SourceRange };
  /** The pages live in memory the caller sees (a parameter's array or struct, a global). */
  visible: boolean;
  /** The path returns an error value. */
  retErr: boolean;
  /** The array itself was freed on this path. */
  freed: boolean;
  /** The returned count was recorded in a struct field or global. */
  recorded: boolean;
  /** The function releases or hands off this array somewhere. */
  releasedSomewhere: boolean;
}

/** The acquisition runs again (a retry loop) while the pages of its previous run are held. */
export interface RetakeFact {
  kind: 'retake';
  acq: GupAcquisition;
  at: SourceRange;
  via: string;
  branch?: { text: string; line: number; range?: SourceRange };
  recorded: boolean;
}

/**
 * A function that implements an acquiring API-table entry returns a value computed from the
 * acquisition's result (not the result itself) on a path where that result may say "nothing
 * taken": the caller reads that value with the entry's return convention.
 */
export interface HandBackFact {
  kind: 'handback';
  acq: GupAcquisition;
  at: SourceRange;
  /** The table entry this function implements. */
  implements: string;
  outcomes: number;
  valueText: string;
  /** The returned value when the acquisition took nothing (its result set to 0), as text. */
  nothingText: string;
  /** That value is the negation of a non-constant: it may be negative, and it is no -errno. */
  negativeNonErrno: boolean;
}

export interface GupAnalysis {
  acquisitions: GupAcquisition[];
  facts: GupFact[];
  /** Set when a budget ran out or the run was cancelled: findings are then a subset. */
  exhausted?: string;
  /** Work items stepped (the unit of the step budget): what a performance test can assert. */
  steps?: number;
}

export interface GupOptions {
  cancelled?: () => boolean;
  maxStatesPerBlock?: number;
  maxSteps?: number;
}

export type Status = 'held' | 'released' | 'element' | 'handed' | 'escaped' | 'pending' | 'walking';

interface AcqState {
  id: number;
  status: Status;
  outcomes: number;
  countKeys: string[];
  pendingKey?: string;
  pendingFailure?: string;
  releasedAt?: SourceRange;
  releasedApi?: string;
  doomPending?: boolean;
  /** The whole array went to a known non-owning function (kfree/kvfree of the array). */
  freed?: boolean;
  /** The returned count was stored in a struct field / global: that struct now tracks the pages. */
  recorded?: boolean;
  reportAt?: { range: SourceRange; via: string };
  /** The variable holding the requested count was assigned since the call: it no longer says what was asked for. */
  requestStale?: boolean;
  /** Header of the transfer loop walking the array (status 'walking'). */
  walkHeader?: number;
  /** Not part of the state key: the last branch taken before the pages were doomed. */
  branch?: { text: string; line: number; range?: SourceRange };
  /**
   * This path adopted a reference on the page that it did not take: the page was loaded from
   * a caller's slot (`p = *slot`) and another page was stored into that slot since, or a call
   * the API table marks `unmap` removed a mapping of it. That reference is now this function's
   * to drop, so one release more than it took is not a double release.
   */
  adoptedRef?: boolean;
  /**
   * A single page whose variable was given another value while a local copy still holds it
   * (`keep = page; ... page = lookup(...)`): the variable no longer designates this page, the
   * copies (aliases, handles) do.
   */
  detached?: boolean;
}

interface PathState {
  acqs: AcqState[];
  /** Copy propagation of simple values: `i = 0`, `n = ret`. */
  vars: Record<string, string>;
  /** Local variables that point at (an entry of) a tracked array or page. */
  aliases: Record<string, number>;
  /** Locals holding a handle on a tracked page (its PFN, its address): storing or returning one hands the page on. */
  handles: Record<string, number>;
  /** Variables derived from an acquisition's result that are zero only when it took nothing (`npages = DIV_ROUND_UP(off + n, PAGE_SIZE)`). */
  zeros: Record<string, number>;
  /** Temporaries holding a test of a value (`$t = IS_ERR_VALUE(ret)`), substituted in conditions. */
  tests: Record<string, Expr>;
  /** The value returned on this path looks like an error (`-EFAULT`, a variable holding one). */
  retErr?: boolean;
  /** Truth of conditions over variables the function never assigns (`flags & USER`), per path. */
  conds: Record<string, boolean>;
  /** Not part of the state key. */
  lastBranch?: { text: string; line: number; range?: SourceRange };
  /** Not part of the state key: the last backward `goto` taken (`goto again`). */
  lastJump?: { range: SourceRange; label: string };
  /** Zeroed objects, non-NULL pointers, error pointers on this path (gup/value-facts.ts). */
  vf: ValueFacts;
  /** In a function implementing an acquiring entry: locals holding values computed from a result (gup/hand-back.ts). */
  dv: Record<string, number>;
}

/**
 * Every field listed, always in this order: acquisition states then share one object shape
 * (a spread of objects that grew their optional fields in different orders gave many shapes,
 * and every access site that sees several shapes is slower).
 */
function newAcq(id: number, status: Status, outcomes: number, countKeys: string[]): AcqState {
  return {
    id, status, outcomes, countKeys,
    pendingKey: undefined, pendingFailure: undefined, releasedAt: undefined, releasedApi: undefined,
    doomPending: undefined, freed: undefined, recorded: undefined, reportAt: undefined, requestStale: undefined, walkHeader: undefined, branch: undefined, adoptedRef: undefined,
    detached: undefined,
  };
}

function cloneAcq(a: AcqState): AcqState {
  return {
    id: a.id, status: a.status, outcomes: a.outcomes, countKeys: a.countKeys,
    pendingKey: a.pendingKey, pendingFailure: a.pendingFailure, releasedAt: a.releasedAt, releasedApi: a.releasedApi,
    doomPending: a.doomPending, freed: a.freed, recorded: a.recorded, reportAt: a.reportAt, requestStale: a.requestStale, walkHeader: a.walkHeader, branch: a.branch, adoptedRef: a.adoptedRef,
    detached: a.detached,
  };
}

/**
 * A copy the caller may change. `countKeys` arrays are shared: they are never changed in
 * place, only replaced (copy-on-write), so copying them on every clone is not needed.
 */
function cloneState(s: PathState): PathState {
  return {
    acqs: s.acqs.map(cloneAcq),
    vars: { ...s.vars },
    aliases: { ...s.aliases },
    handles: { ...s.handles },
    zeros: { ...s.zeros },
    tests: { ...s.tests },
    conds: { ...s.conds },
    lastBranch: s.lastBranch,
    lastJump: s.lastJump,
    retErr: s.retErr,
    vf: { ...s.vf },
    dv: { ...s.dv },
  };
}

/**
 * Identity of a path state for merging at a block. Two states get the same key exactly when
 * their key-relevant parts are equal (strings are length-prefixed, every field is terminated,
 * objects are read in their own key order as JSON.stringify would), built directly as one
 * string: this runs once or twice per visited block and was the interpreter's hot spot.
 */
function stateKey(s: PathState): string {
  let k = '';
  for (const a of s.acqs) {
    const ck = a.countKeys.length < 2 ? (a.countKeys.length ? a.countKeys[0] : '') : [...a.countKeys].sort().join(',');
    const pk = a.pendingKey ?? '';
    k += `${a.id};${a.status};${a.outcomes};${ck.length}:${ck};${pk.length}:${pk};${a.doomPending ? 1 : 0};${a.reportAt ? a.reportAt.range.start : ''};${a.releasedAt ? a.releasedAt.start : ''};${a.freed ? 1 : 0};${a.recorded ? 1 : 0};${a.requestStale ? 1 : 0};${a.walkHeader ?? ''};${a.adoptedRef ? 1 : 0};${a.detached ? 1 : 0}|`;
  }
  k += '#';
  const vars = s.vars;
  for (const name in vars) k += `${name.length}:${name}${vars[name].length}:${vars[name]}`;
  k += '#';
  const aliases = s.aliases;
  for (const name in aliases) k += `${name.length}:${name}${aliases[name]};`;
  k += '#';
  for (const name in s.handles) k += `${name.length}:${name}${s.handles[name]};`;
  k += '#';
  for (const name in s.zeros) k += `${name.length}:${name}${s.zeros[name]};`;
  k += '#';
  const tests = Object.keys(s.tests);
  if (tests.length > 1) tests.sort();
  for (const name of tests) k += `${name.length}:${name}`;
  k += '#';
  for (const c in s.conds) k += `${c.length}:${c}${s.conds[c] ? 1 : 0}`;
  k += `#${s.retErr ? 1 : 0}#${vfKey(s.vf)}#`;
  for (const name in s.dv) k += `${name.length}:${name}${s.dv[name]};`;
  return k;
}

const line = (r: SourceRange): number => r.startRow + 1;

const cache = new WeakMap<FunctionIR, GupAnalysis>();

/** Run (or fetch the cached) analysis of one function. */
export function analyzeGupRefs(fn: FunctionIR, file: FileIR, opts: GupOptions = {}): GupAnalysis {
  const hit = cache.get(fn);
  if (hit) return hit;
  // Every event is about an acquisition made in this function, so a function that calls no
  // acquiring API has nothing to report; most functions of a real file are such (measured:
  // this halves the check time of the benchmark corpus). Nor does one whose every acquiring call
  // takes a reference the analysis does not track (untrackedSingle): Linux 6.1
  // __ip_append_data(), __ip6_append_data() and kcm_sendmsg() (`get_page(pfrag->page)`) took
  // 170 ms of path states for no acquisition.
  if (!acquiresPages(fn)) {
    const none: GupAnalysis = { acquisitions: [], facts: [] };
    cache.set(fn, none);
    return none;
  }
  const result = new GupInterpreter(fn, file, opts).run();
  if (!result.exhausted || result.exhausted.startsWith('state cap')) cache.set(fn, result);
  return result;
}

function acquiresPages(fn: FunctionIR): boolean {
  for (const b of fn.blocks) {
    for (const st of b.stmts) {
      if (st.kind !== 'call') continue;
      const refs = lookupApi(st.callee)?.refs;
      if (refs?.op === 'acquire' && !untrackedSingle(st, refs)) return true;
    }
  }
  return false;
}

/**
 * A single reference taken on a page that the function designates only through memory others
 * see or through a handle it derived the page from (a struct field, an array slot,
 * `get_page(virt_to_page(p))`): that memory or handle carries the reference, not a local of this
 * function, and the analysis does not track it (GupInterpreter.acquisitionFor). Tracked only
 * when a local variable or a parameter names the page.
 */
function untrackedSingle(c: CallStmt, r: AcquireEffect): boolean {
  if (!r.single) return false;
  const pages = c.args[(r.byArity?.[c.args.length] ?? r).pagesArg];
  return !pages || pages.kind !== 'var' || pages.name.startsWith('$');
}

class GupInterpreter {
  private readonly acquisitions: GupAcquisition[] = [];
  private readonly acqBySite = new Map<CallStmt, GupAcquisition>();
  private readonly facts: GupFact[] = [];
  /** The block whose statements are being stepped. */
  private curBlock = 0;
  private readonly factKeys = new Set<string>();
  private readonly releaseLoops: ReleaseLoop[];
  private readonly loopOfCall = new Map<CallStmt, ReleaseLoop>();
  private readonly loopsByHeader = new Map<number, ReleaseLoop[]>();
  private readonly loopBody = new Map<number, Set<number>>();
  private readonly transfersByHeader = new Map<number, TransferLoop[]>();
  private readonly counterVars = new Set<string>();
  private readonly returnedVars = new Set<string>();
  /** Variables assigned the result of a call that is not a GUP acquisition (error codes, mostly). */
  private readonly callResults = new Set<string>();
  private readonly flagVars = new Set<string>();
  private readonly flagSelected = new Set<CallStmt>();
  private readonly mentionReach = new Map<string, Set<number>>();
  private readonly globals: Set<string>;
  private exhausted?: string;
  /** `$t3` -> `bio_add_page()`: temporaries named by the call they hold, for messages. */
  private readonly tempName = (name: string): string | undefined => this.tempCallee.get(name);
  private readonly tempCallee = new Map<string, string>();

  /** Locals that only ever point into another array: `pages = pvec + pinned`. */
  private readonly derived = new Map<string, { base: Expr; offset: string }>();
  /** Pointer variables that advance over an array (`pages += n`). */
  private readonly advancing = new Set<string>();
  /** Non-local lvalues an array variable is stored into anywhere in the function: `bo->pages = pages`. */
  private readonly storedInto = new Map<string, { key: string; root: string }[]>();
  /** Switch cases, conditions tested in loops, counting loops (path-conditions.ts). */
  private readonly loopFacts: LoopPathFacts;

  private readonly vfc: ValueFactsContext;
  /** The acquiring API-table entry this function implements (its callers read its result by that entry's convention). */
  private readonly implementsAcquire?: string;
  private readonly derivedValues = new DerivedValues();

  constructor(private readonly fn: FunctionIR, private readonly file: FileIR, private readonly opts: GupOptions) {
    this.globals = new Set(file.globals);
    this.vfc = new ValueFactsContext(fn, file);
    const self = lookupApi(fn.name)?.refs;
    if (self?.op === 'acquire' && (self.returns === 'bytes-or-errno' || self.returns === 'count-or-errno')) this.implementsAcquire = fn.name;
    this.findArrayAliases();
    this.releaseLoops = findReleaseLoops(fn);
    for (const rl of this.releaseLoops) {
      this.loopOfCall.set(rl.call, rl);
      const l = this.loopsByHeader.get(rl.loop.header) ?? [];
      l.push(rl);
      this.loopsByHeader.set(rl.loop.header, l);
      this.loopBody.set(rl.loop.header, new Set(rl.loop.body));
    }
    const helperTakes = (name: string, i: number): boolean => {
      const eff = helperSummary(file, name)?.params[i];
      return !!eff && (!!eff.handoff || !!eff.release);
    };
    for (const tl of findTransferLoops(fn, (name) => fileFunction(file, name) !== undefined, helperTakes)) {
      const l = this.transfersByHeader.get(tl.loop.header) ?? [];
      l.push(tl);
      this.transfersByHeader.set(tl.loop.header, l);
      this.loopBody.set(tl.loop.header, new Set(tl.loop.body));
    }
    this.loopFacts = new LoopPathFacts(fn, this.globals, (e) => this.stableCond(e), (k) => this.repeatedCond(k));
    this.findFlagSelectedReleases();
    for (const rl of this.releaseLoops) this.counterVars.add(rl.index);
    for (const b of fn.blocks) for (const s of b.stmts) if (s.kind === 'return' && s.value?.kind === 'var') this.returnedVars.add(s.value.name);
    for (const b of fn.blocks) for (const s of b.stmts) if (s.kind === 'call' && s.result?.kind === 'var' && !lookupApi(s.callee)?.refs) this.callResults.add(s.result.name);
    const flagOf = (e: Expr): void => {
      if (e.kind === 'var') this.flagVars.add(e.name);
      else if (e.kind === 'unary' && e.op === '!') flagOf(e.arg);
      else if (e.kind === 'binary' && (e.op === '&&' || e.op === '||')) { flagOf(e.left); flagOf(e.right); }
      else if (e.kind === 'binary' && e.left.kind === 'var' && e.right.kind === 'int') this.flagVars.add(e.left.name);
    };
    for (const b of fn.blocks) for (const e of b.succs) if (e.cond) flagOf(e.cond);
    for (const b of fn.blocks) for (const s of b.stmts) {
      if (s.kind === 'call' && s.result?.kind === 'var' && s.result.name.startsWith('$')) this.tempCallee.set(s.result.name, `${s.callee}()`);
    }
  }

  run(): GupAnalysis {
    const fn = this.fn;
    const maxPerBlock = this.opts.maxStatesPerBlock ?? 64;
    const maxSteps = this.opts.maxSteps ?? 200_000;
    const seen: (Set<string> | undefined)[] = [];
    const work: { block: number; state: PathState }[] = [{ block: fn.entry, state: { acqs: [], vars: {}, aliases: {}, handles: {}, zeros: {}, tests: {}, conds: {}, vf: {}, dv: {} } }];
    let steps = 0;
    while (work.length) {
      if (++steps > maxSteps) {
        this.exhausted = `step budget (${maxSteps}) exhausted`;
        break;
      }
      if ((steps & 255) === 0 && this.opts.cancelled?.()) {
        this.exhausted = 'cancelled';
        break;
      }
      const { block, state } = work.pop()!;
      const key = stateKey(state);
      let set = seen[block];
      if (!set) seen[block] = set = new Set();
      if (set.has(key)) continue;
      let current = state;
      if (set.size >= maxPerBlock) {
        // Widening: forget the copy-propagated values and value tests (they only sharpen
        // messages and loop bounds); if the coarser state is new, keep exploring it, up to a
        // hard cap. Past that, drop: findings stay a subset, never invented.
        const coarse = { ...cloneState(state), vars: {}, tests: {}, conds: {}, vf: {}, dv: {} };
        const ck = stateKey(coarse);
        if (set.has(ck)) continue;
        if (set.size >= 2 * maxPerBlock) {
          this.exhausted = `state cap (${maxPerBlock} per block) reached`;
          continue;
        }
        set.add(ck);
        current = coarse;
      } else set.add(key);
      const b = fn.blocks[block];
      if (!b) continue;
      // Each queued state belongs to its work item alone (traverse() hands out copies), so
      // it is stepped in place.
      let st = current;
      this.curBlock = block;
      for (const s of b.stmts) st = this.step(st, s);
      if (block === fn.exit) {
        this.atExit(st);
        continue;
      }
      // A block with no successor other than the exit is a dead end the lowering left (code
      // after a noreturn call): no verdict on that path.
      // The last edge takes the block's state itself; the others take copies.
      const succs = b.succs;
      for (let i = 0; i < succs.length; i++) {
        const e = succs[i];
        const next = this.traverse(st, block, e, i === succs.length - 1);
        if (next) work.push({ block: e.to, state: next });
      }
    }
    return { acquisitions: this.acquisitions, facts: this.facts, exhausted: this.exhausted, steps };
  }

  // ---- facts ----------------------------------------------------------------------------

  /** Record a fact once: paths that agree on everything a rule reads give one fact. */
  private emit(f: GupFact): void {
    let k: string;
    switch (f.kind) {
      case 'release':
        k = `r:${f.acq.id}:${f.at.start}:${f.api}:${f.helper ?? ''}:${f.before}:${f.whole}:${f.maybe}:${f.outcomes}:${f.flagSelected}:${f.count ? `${f.count.key}:${f.count.isResult}:${f.count.isRequested}` : ''}:${f.inLoop}:${f.nullChecked}:${f.first?.at.start ?? ''}`;
        break;
      case 'held':
        k = `h:${f.acq.id}:${f.at.start}:${f.visible}:${f.retErr}:${f.freed}:${f.recorded}`;
        break;
      case 'retake':
        k = `t:${f.acq.id}:${f.at.start}:${f.recorded}`;
        break;
      case 'handback':
        k = `b:${f.acq.id}:${f.at.start}:${f.outcomes}`;
        break;
    }
    if (this.factKeys.has(k)) return;
    this.factKeys.add(k);
    this.facts.push(f);
  }

  // ---- references -----------------------------------------------------------------------

  /** Which tracked acquisitions an expression designates, and whether only an entry of them. */
  private refOf(e: Expr | undefined, st: PathState): { ids: number[]; element: boolean } | undefined {
    if (!e) return undefined;
    if (e.kind === 'var' && st.aliases[e.name] !== undefined) return { ids: [st.aliases[e.name]], element: true };
    const key = exprKey(e);
    const direct = st.acqs.filter((a) => {
      const acq = this.acquisitions[a.id];
      return (acq.arrayKey === key && !a.detached) || acq.ownerKeys.includes(key);
    }).map((a) => a.id);
    if (direct.length) return { ids: direct, element: false };
    if (e.kind === 'var' && this.derived.has(e.name)) {
      const d = this.derived.get(e.name)!;
      const r = this.refOf(d.base, st);
      return r ? { ids: r.ids, element: r.element || d.offset !== '0' } : undefined;
    }
    if (e.kind === 'index') {
      const r = this.refOf(e.base, st);
      return r ? { ids: r.ids, element: true } : undefined;
    }
    if (e.kind === 'unary' && (e.op === '&' || e.op === '*')) {
      const r = this.refOf(e.arg, st);
      return r ? { ids: r.ids, element: r.element || e.op === '*' } : undefined;
    }
    if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
      const r = this.refOf(e.left, st);
      return r ? { ids: r.ids, element: true } : undefined;
    }
    return undefined;
  }

  /** refOf, plus "a struct whose field holds the pages" (`obj` when pages are `obj->pages`). */
  private refOrOwner(e: Expr, st: PathState): number[] {
    const r = this.refOf(e, st);
    if (r) return r.ids;
    // `obj` when the pages are `obj->pages`; `&page->lru` (list_add of the page itself);
    // a local alias of a page (`p = pages[i]; list_add(&p->lru, ...)`).
    let x: Expr = e;
    while (x.kind === 'unary' && x.op === '&') x = x.arg;
    // `obj` or `&obj` (the patch-fragment stand-in passes `&name` for every local it saw).
    if (x.kind === 'var') {
      const name = x.name;
      return st.acqs.filter((a) => this.acquisitions[a.id].root === name || this.acquisitions[a.id].ownerRoots.includes(name)).map((a) => a.id);
    }
    if (x.kind === 'field') {
      const base = this.refOf(x.base, st);
      if (base) return base.ids;
    }
    return [];
  }

  private acqState(st: PathState, id: number): AcqState | undefined {
    return st.acqs.find((a) => a.id === id);
  }

  // ---- statements -----------------------------------------------------------------------

  private forget(st: PathState, key: string): void {
    for (const a of st.acqs) {
      // Replaced, not changed in place: clones share the array (see cloneState).
      if (a.countKeys.includes(key)) a.countKeys = a.countKeys.filter((k) => k !== key);
      if (a.pendingKey === key) {
        a.pendingKey = undefined;
        if (a.status === 'pending') a.status = 'handed';
      }
    }
    for (const c in st.conds) if (mentionsWord(c, key)) delete st.conds[c];
    // Only when present: `delete` of an absent key still costs (and the check is cheap).
    if (st.vars[key] !== undefined) delete st.vars[key];
    const copy = st.aliases[key] ?? st.handles[key];
    if (st.aliases[key] !== undefined) delete st.aliases[key];
    if (st.handles[key] !== undefined) delete st.handles[key];
    if (st.zeros[key] !== undefined) delete st.zeros[key];
    if (st.tests[key] !== undefined) delete st.tests[key];
    // The last copy of a detached page got another value: nothing here designates it now.
    if (copy !== undefined) {
      const a = this.acqState(st, copy);
      if (a?.detached && !copyHolds(st.aliases, copy) && !copyHolds(st.handles, copy)) this.dropAcqs(st, [copy]);
    }
    vfForget(st.vf, key);
    if (st.dv[key] !== undefined) delete st.dv[key];
  }

  /** The branch record of a conditional edge: one per edge (read-only, shared by the paths). */
  private branchOf(e: Edge, cond: Expr, range: SourceRange): { text: string; line: number; range?: SourceRange } {
    let b = this.branches.get(e);
    if (!b) this.branches.set(e, (b = { text: renderExpr(cond, this.tempName), line: line(range), range }));
    return b;
  }

  /** canMention() of each acquisition's root, by acquisition id (asked on every edge). */
  private readonly reachOfAcq: (Set<number> | undefined)[] = [];

  private readonly branches = new Map<Edge, { text: string; line: number; range?: SourceRange }>();

  /** Blocks of loops headed by `header` (a jump from one of them to it is a back edge). */
  private backEdgeSources(header: number): Set<number> | undefined {
    if (!this.loopBlocksByHeader) {
      this.loopBlocksByHeader = new Map();
      for (const l of this.fn.loops) {
        const set = this.loopBlocksByHeader.get(l.header) ?? new Set<number>();
        for (const b of l.body) set.add(b);
        this.loopBlocksByHeader.set(l.header, set);
      }
    }
    return this.loopBlocksByHeader.get(header);
  }

  private loopBlocksByHeader?: Map<number, Set<number>>;

  private step(st: PathState, s: Stmt): PathState {
    switch (s.kind) {
      case 'decl':
        this.untrackSingle(st, s.name);
        this.forget(st, s.name);
        return st;
      case 'assign': {
        const dvValue = this.implementsAcquire && s.target.kind === 'var' ? this.derivedValue(st, s.value, s.target.name) : undefined;
        const out = this.assign(st, s.target, s.value);
        if (dvValue !== undefined) out.dv[exprKey(s.target)] = dvValue;
        vfAssign(out.vf, this.vfc, s.target, s.value);
        return out;
      }
      case 'havoc': {
        if (s.target) this.forget(st, exprKey(s.target));
        vfHavoc(st.vf, s.text);
        // Pages reachable from an unknown expression (a call through a function pointer):
        // whoever that is may own them now.
        for (const a of st.acqs) {
          const acq = this.acquisitions[a.id];
          if (a.status === 'held' && new RegExp(`\\b${escapeRe(acq.root)}\\b`).test(s.text)) a.status = 'escaped';
        }
        return st;
      }
      case 'return': {
        if (this.implementsAcquire && s.value) this.handBack(st, s.value, s.range);
        this.walkExit(st, this.curBlock, this.fn.exit, true);
        st.retErr = !!s.value && this.isErrorValue(s.value, st);
        if (s.value) {
          for (const v of varsOf(s.value)) {
            const h = st.handles[v];
            const a = h !== undefined ? this.acqState(st, h) : undefined;
            if (a && (a.status === 'held' || a.status === 'pending' || a.status === 'element')) a.status = 'handed';
          }
          for (const id of this.refOrOwner(s.value, st)) {
            const a = this.acqState(st, id);
            if (a && (a.status === 'held' || a.status === 'pending')) a.status = 'handed';
          }
        }
        for (const a of st.acqs) {
          if (!a.reportAt && this.isHeld(a)) {
            const what = s.value && (s.value.kind === 'unary' || s.value.kind === 'int' || s.value.kind === 'const') ? ` ${renderExpr(s.value)}` : '';
            a.reportAt = { range: s.range, via: `the function returns${what} at line ${line(s.range)}` };
            a.branch = st.lastBranch;
          }
        }
        return st;
      }
      case 'call': {
        const out = this.call(st, s);
        // `page = lookup(...)`: the variable names another page from now on (as for an
        // assignment); an acquisition's result is its count, and page_folio(page) and the
        // like keep naming the same page.
        if (s.result && lookupApi(s.callee)?.refs?.op !== 'acquire' && gupPageAliases[s.callee] === undefined) this.untrackSingle(out, exprKey(s.result));
        vfCall(out.vf, this.vfc, s);
        return out;
      }
    }
  }

  /** Page variables loaded once from a caller's slot (`p = *slot`), by variable: the slot's key. */
  private slotSourcesCache?: Map<string, string>;

  private slotSources(): Map<string, string> {
    if (this.slotSourcesCache) return this.slotSourcesCache;
    const seen = new Map<string, string | null>();
    for (const b of this.fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'assign' || s.target.kind !== 'var') continue;
      const v = s.target.name;
      const x = s.value;
      const fromSlot = (x.kind === 'field' || (x.kind === 'unary' && x.op === '*') || x.kind === 'index')
        && this.fn.params.some((p) => p.name === rootVar(x));
      seen.set(v, seen.has(v) || !fromSlot ? null : exprKey(x));
    }
    const out = new Map<string, string>();
    for (const [v, k] of seen) if (k !== null) out.set(v, k);
    return (this.slotSourcesCache = out);
  }

  /** A store into the caller's slot a tracked single page was loaded from (see AcqState.adoptedRef). */
  private takeOverSlot(st: PathState, target: Expr, tKey: string): void {
    if (target.kind === 'var') return;
    const src = this.slotSources();
    for (const a of st.acqs) {
      const acq = this.acquisitions[a.id];
      if (!acq.single || src.get(acq.arrayKey) !== tKey) continue;
      if (a.status === 'held' || a.status === 'released') a.adoptedRef = true;
    }
  }

  private assign(st: PathState, target: Expr, value: Expr): PathState {
    const tKey = exprKey(target);
    const vKey = exprKey(value);
    const copiesCount = st.acqs.filter((a) => a.countKeys.includes(vKey)).map((a) => a.id);
    const ref = this.refOf(value, st);
    const testOf = value.kind === 'var' ? st.tests[value.name] : undefined;
    let resolved: string | undefined;
    if (value.kind === 'int' || value.kind === 'const' || (value.kind === 'unary' && value.op === '-' && (value.arg.kind === 'int' || value.arg.kind === 'const'))) resolved = vKey;
    else if (value.kind === 'var') resolved = st.vars[value.name] ?? value.name;
    this.takeOverSlot(st, target, tKey);
    this.forget(st, tKey);
    // `vsg->state = PAGES_LOCKED` after filling vsg->pages: the caller's struct now records that
    // it holds the pages (its teardown releases them by that state).
    const enumLike = value.kind === 'const' ? value.name !== 'NULL'
      : value.kind === 'var' && !value.name.startsWith('$') && this.fn.locals[value.name] === undefined && !this.fn.params.some((p) => p.name === value.name) && !this.globals.has(value.name);
    if (target.kind === 'field' && enumLike) {
      const troot = rootVar(target);
      for (const a of st.acqs) {
        const acq = this.acquisitions[a.id];
        if (a.status === 'held' && troot !== undefined && (acq.root === troot || acq.ownerRoots.includes(troot)) && this.isVisible(acq)) a.recorded = true;
      }
    }
    // `pvec = NULL`: a later `if (pvec)` on this path is false.
    if (target.kind === 'var' && (isIntValue(value, 0) || (value.kind === 'const' && value.name === 'NULL'))) {
      const z = this.stableCond(target);
      if (z) st.conds[z.key] = !z.truth;
    }
    // The variable naming a single referenced page gets another page: where the old one went
    // is not visible here (copied earlier, or lost), and what the variable names from now on is
    // another page; stop tracking the old one rather than guess.
    this.untrackSingle(st, tKey);
    // `nr = ret` / `nr = 0` before the release: the variable no longer holds the requested count.
    for (const a of st.acqs) if (!a.requestStale && this.acquisitions[a.id].requestedKey === tKey) a.requestStale = true;
    // `bv.bv_page = pages[i]` on a local struct value (not a pointer): the struct is a local
    // holder; whoever gets the struct (`bvecs[n] = bv`, `return bv`) gets the pages.
    const holder = target.kind === 'field' && !target.arrow && target.base.kind === 'var' && this.isLocalAggregate(target.base.name) ? target.base.name : undefined;
    const localTarget = (target.kind === 'var' && !this.globals.has(target.name)) || holder !== undefined;
    for (const id of copiesCount) {
      const a = this.acqState(st, id);
      if (!a) continue;
      a.countKeys = [...a.countKeys, tKey];
      // `obj->nr_pages = ret`: the struct now records how many pages it holds; whoever tears
      // it down releases them ("count in a struct field").
      if (!localTarget) a.recorded = true;
    }
    // `*pinned += ret`, `umem->num_pages += rv`: a running count kept in the caller's memory
    // (an out-parameter, a struct field) records the pages too.
    if (!localTarget && target.kind !== 'index' && value.kind === 'binary' && value.op === '+' && exprKey(value.left) === tKey) {
      const added = exprKey(value.right);
      for (const a of st.acqs) if (!copiesCount.includes(a.id) && a.countKeys.includes(added)) a.recorded = true;
    }
    // Copy propagation only for the variables a verdict reads (release-loop counters, returned
    // variables): tracking every assignment would split paths on values nobody looks at.
    if (target.kind === 'var' && resolved !== undefined && resolved !== tKey) {
      if (this.counterVars.has(tKey)) st.vars[tKey] = resolved;
      else if (this.returnedVars.has(tKey) && resolved.startsWith('-')) st.vars[tKey] = resolved;
      // Flags the code branches on later (`pinned = true; ... if (pinned) unpin...`).
      else if (this.flagVars.has(tKey) && (/^-?\d+$/.test(resolved) || resolved.startsWith('-'))) st.vars[tKey] = resolved;
    }
    if (testOf && target.kind === 'var') st.tests[tKey] = testOf;
    if (localTarget && (target.kind === 'var' || holder !== undefined)) {
      const key = holder ?? tKey;
      for (const v of varsOf(value)) if (st.handles[v] !== undefined) { st.handles[key] = st.handles[v]; break; }
    }
    if (ref && holder !== undefined) {
      const live = ref.ids.filter((id) => {
        const a = this.acqState(st, id);
        return !!a && (a.status === 'held' || a.status === 'element' || a.status === 'pending');
      });
      if (live.length === 1) st.handles[holder] = live[0];
      else this.handOffIds(st, live);
    } else if (ref) {
      const local = target.kind === 'var' && !this.globals.has(target.name);
      if (local) {
        if (ref.ids.length === 1) st.aliases[tKey] = ref.ids[0];
        else if (ref.element) {
          // `p = pages[0]` after a second call filled the same array: the slot holds the
          // pages of the one acquisition this path still holds (the others went to owners
          // or were released).
          const live = ref.ids.filter((id) => {
            const a = this.acqState(st, id);
            return !!a && (a.status === 'held' || a.status === 'element' || a.status === 'pending');
          });
          if (live.length === 1) st.aliases[tKey] = live[0];
        }
      } else {
        // Ownership hand-off: stored into a struct field, a global, an out-parameter or
        // another array (pages kept in a bio / request for completion to release).
        for (const id of ref.ids) {
          const a = this.acqState(st, id);
          if (a && (a.status === 'held' || a.status === 'pending')) a.status = 'handed';
        }
      }
    } else if (!localTarget) {
      // The struct that holds the pages (`*pmem = mem` when the pages are mem->hpages), or a
      // value computed from a page handle (`hpas[i] = page_to_pfn(page) << PAGE_SHIFT`), stored
      // where someone else finds it: that memory carries the references now.
      const ids = new Set<number>(this.refOrOwner(value, st));
      for (const v of varsOf(value)) {
        if (st.aliases[v] !== undefined) ids.add(st.aliases[v]);
        if (st.handles[v] !== undefined) ids.add(st.handles[v]);
      }
      for (const id of ids) {
        const a = this.acqState(st, id);
        if (a && (a.status === 'held' || a.status === 'pending' || a.status === 'element')) a.status = 'handed';
      }
    }
    return st;
  }

  /** A local variable of struct type held by value (not a pointer, not an array). */
  private isLocalAggregate(name: string): boolean {
    const t = this.fn.locals[name];
    if (t === undefined || this.globals.has(name)) return false;
    return /^\s*(const\s+)?(struct|union)\b/.test(t) && !/[*\[]/.test(t);
  }

  /** Held references now kept in memory others find (a handle stored there): handed on. */
  private handOffIds(st: PathState, ids: Iterable<number>): void {
    for (const id of ids) {
      const a = this.acqState(st, id);
      if (a && (a.status === 'held' || a.status === 'pending' || a.status === 'element')) a.status = 'handed';
    }
  }

  private call(st: PathState, c: CallStmt): PathState {
    const api = lookupApi(c.callee);
    const refs = api?.refs;
    const resultKey = c.result ? exprKey(c.result) : undefined;
    if (refs?.op === 'acquire') {
      if (resultKey) this.forget(st, resultKey);
      this.acquire(st, c, refs);
      return st;
    }
    if (refs?.op === 'release') {
      this.release(st, c, refs);
    } else if (refs?.op === 'unmap') {
      for (const id of this.refOf(c.args[refs.pagesArg], st)?.ids ?? []) {
        const a = this.acqState(st, id);
        if (a && this.acquisitions[id].single && (a.status === 'held' || a.status === 'released')) a.adoptedRef = true;
      }
    } else if (refs?.op === 'handoff') {
      const ids = this.refOf(c.args[refs.pagesArg], st)?.ids ?? [];
      for (const id of ids) {
        const a = this.acqState(st, id);
        if (!a || (a.status !== 'held' && a.status !== 'element')) continue;
        if (refs.failure && refs.failure !== 'never' && resultKey) {
          a.status = 'pending';
          a.pendingKey = resultKey;
          a.pendingFailure = refs.failure;
        } else a.status = 'handed';
      }
      if (resultKey) {
        // Keep the pending hand-off linked to the result we just set.
        delete st.vars[resultKey];
        delete st.aliases[resultKey];
        for (const c in st.conds) if (mentionsWord(c, resultKey)) delete st.conds[c];
        for (const a of st.acqs) if (a.countKeys.includes(resultKey)) a.countKeys = a.countKeys.filter((k) => k !== resultKey);
      }
      return st;
    } else if (api && gupPageAliases[c.callee] !== undefined && resultKey) {
      // `page = compound_head(page)`: the variable still designates the same reference.
      if (exprKey(c.args[gupPageAliases[c.callee]] ?? { kind: 'unknown', text: '' }) === resultKey) return st;
      // page_folio(pages[i]): the folio is the page's reference under another type.
      const r = this.refOf(c.args[gupPageAliases[c.callee]], st);
      this.forget(st, resultKey);
      if (r && r.ids.length === 1 && c.result?.kind === 'var' && !this.globals.has(c.result.name)) st.aliases[resultKey] = r.ids[0];
      // `slots[n] = folio_page(folio, 0)`: the page goes straight into memory others find.
      else if (r && c.result && c.result.kind !== 'var') this.handOffIds(st, r.ids);
      return st;
    } else if (api && gupPageCarriers[c.callee] !== undefined && resultKey) {
      // page_to_pfn(page) / page_address(page): a handle that can carry the same reference
      // when it is kept (stored where others find it, or returned).
      const r = this.refOf(c.args[gupPageCarriers[c.callee]], st);
      this.forget(st, resultKey);
      if (r && r.ids.length === 1 && c.result?.kind === 'var' && !this.globals.has(c.result.name)) st.handles[resultKey] = r.ids[0];
      // `*pfn = page_to_pfn(page)`: the handle is stored straight into the caller's memory.
      else if (r && c.result) this.handOffIds(st, r.ids);
      return st;
    } else if (api) {
      // A known function that takes no ownership (kmap, set_page_dirty_lock, kvfree of the
      // array...): the caller still holds the references. Freeing the array itself means
      // nobody can release them any more, even if it lived in the caller's struct.
      const freed = gupArrayFreers[c.callee];
      const r = freed !== undefined ? this.refOf(c.args[freed], st) : undefined;
      if (r && !r.element) for (const id of r.ids) {
        const a = this.acqState(st, id);
        if (a && !this.acquisitions[id].single) a.freed = true;
      }
      const test = gupValueTests[c.callee];
      if (test && resultKey && c.args[0]) {
        this.forget(st, resultKey);
        st.tests[resultKey] = test === 'identity' ? c.args[0] : { kind: 'binary', op: '<', left: c.args[0], right: { kind: 'int', value: 0 } };
        return st;
      }
    } else {
      const test = gupValueTests[c.callee];
      if (test && resultKey && c.args[0]) {
        this.forget(st, resultKey);
        st.tests[resultKey] = test === 'identity' ? c.args[0] : { kind: 'binary', op: '<', left: c.args[0], right: { kind: 'int', value: 0 } };
        return st;
      }
      const helper = fileFunction(this.file, c.callee);
      if (helper) this.applyHelper(st, c);
      else if (!isObserverCall(c.callee)) {
        // A function we cannot see. It borrows the pages unless there is evidence it takes
        // them: if this function still releases, stores or returns them after the call on some
        // path, the call borrowed; if nothing after the call ever does, the callee took them.
        // A callee that reports success (0) may keep them: on its success branch they count as
        // taken unless an ownership use is still ahead there (refine()).
        let lent = false;
        for (const arg of c.args) {
          for (const id of this.refOrOwner(arg, st)) {
            const a = this.acqState(st, id);
            if (!a || (a.status !== 'held' && a.status !== 'pending' && a.status !== 'element')) continue;
            if (!this.usedAfter(c, this.acquisitions[id])) a.status = 'escaped';
            else if (resultKey && a.status !== 'pending') {
              a.status = 'pending';
              a.pendingKey = resultKey;
              a.pendingFailure = 'lent';
              lent = true;
            }
          }
        }
        if (lent && resultKey) {
          // Keep the pending loan linked to the result we just set (as for a hand-off).
          if (st.vars[resultKey] !== undefined) delete st.vars[resultKey];
          if (st.aliases[resultKey] !== undefined) delete st.aliases[resultKey];
          if (st.tests[resultKey] !== undefined) delete st.tests[resultKey];
          for (const c in st.conds) if (mentionsWord(c, resultKey)) delete st.conds[c];
          for (const a of st.acqs) if (a.countKeys.includes(resultKey)) a.countKeys = a.countKeys.filter((k) => k !== resultKey);
          return st;
        }
      }
    }
    if (resultKey) this.forget(st, resultKey);
    // `npages = DIV_ROUND_UP(off + n, PAGE_SIZE)`: npages == 0 means n was 0 (nothing taken).
    const zd = gupZeroDerivers[c.callee];
    if (zd !== undefined && resultKey && c.result?.kind === 'var' && c.args[zd]) {
      const terms: Expr[] = [];
      const sum = (x: Expr): void => {
        if (x.kind === 'binary' && x.op === '+') { sum(x.left); sum(x.right); } else terms.push(x);
      };
      sum(c.args[zd]);
      for (const a of st.acqs) {
        if (terms.some((t) => a.countKeys.includes(exprKey(t)))) { st.zeros[resultKey] = a.id; break; }
      }
    }
    // __pa(page_address(page)): a value computed from a handle is a handle on the same page.
    if (resultKey && c.result && (!api || !api.refs)) {
      const local = c.result.kind === 'var' && !this.globals.has(c.result.name);
      for (const x of c.args) for (const v of varsOf(x)) {
        if (st.handles[v] === undefined) continue;
        // `*hpa = __pa(addr)`: the computed handle goes straight into non-local memory.
        if (local) st.handles[resultKey] = st.handles[v];
        else this.handOffIds(st, [st.handles[v]]);
      }
    }
    return st;
  }

  /**
   * Going back from `c` through its block (and straight-line predecessors), `name` was stored
   * into non-local memory or given to a table owner before anything assigned it.
   */
  private handedJustBefore(c: CallStmt, name: string): boolean {
    if (!this.stmtPos) {
      this.stmtPos = new Map();
      for (const b of this.fn.blocks) b.stmts.forEach((x, idx) => this.stmtPos!.set(x, { block: b.id, idx }));
    }
    const pos = this.stmtPos.get(c);
    if (!pos) return false;
    if (!this.predsCache) {
      this.predsCache = new Map();
      for (const b of this.fn.blocks) for (const e of b.succs) {
        const l = this.predsCache.get(e.to) ?? [];
        l.push(b.id);
        this.predsCache.set(e.to, l);
      }
    }
    let block = pos.block;
    let end = pos.idx;
    for (let hop = 0; hop < 4; hop++) {
      const stmts = this.fn.blocks[block]?.stmts ?? [];
      for (let i = end - 1; i >= 0; i--) {
        const x = stmts[i];
        if (x.kind === 'assign') {
          if (x.target.kind === 'var' && x.target.name === name) return false;
          const local = x.target.kind === 'var' && !this.globals.has(x.target.name);
          if (!local && x.value.kind === 'var' && x.value.name === name) return true;
        } else if (x.kind === 'call') {
          if (handsOnBefore(this.file, x, name, this.globals)) return true;
          if (x.result?.kind === 'var' && x.result.name === name) return false;
        } else if (x.kind === 'decl' && x.name === name) return false;
      }
      const preds = this.predsCache.get(block) ?? [];
      if (preds.length !== 1) return false;
      block = preds[0];
      end = this.fn.blocks[block]?.stmts.length ?? 0;
    }
    return false;
  }

  private predsCache?: Map<number, number[]>;

  /**
   * `key` is about to name another page: single-page acquisitions it named are no longer
   * designated by it. One a local copy still holds stays tracked through the copy (detached);
   * the others are no longer tracked.
   */
  private untrackSingle(st: PathState, key: string): void {
    let drop = false;
    for (const a of st.acqs) {
      const acq = this.acquisitions[a.id];
      if (!acq.single || acq.arrayKey !== key || a.detached) continue;
      if (copyHolds(st.aliases, a.id, key) || copyHolds(st.handles, a.id, key)) a.detached = true;
      else drop = true;
    }
    if (!drop) return;
    st.acqs = st.acqs.filter((a) => a.detached || !(this.acquisitions[a.id].single && this.acquisitions[a.id].arrayKey === key));
    for (const name in st.aliases) {
      if (!st.acqs.some((a) => a.id === st.aliases[name])) delete st.aliases[name];
    }
    for (const name in st.handles) {
      if (!st.acqs.some((a) => a.id === st.handles[name])) delete st.handles[name];
    }
  }

  /** Stop tracking these acquisitions on this path (and the locals that designate them). */
  private dropAcqs(st: PathState, ids: readonly number[]): void {
    st.acqs = st.acqs.filter((a) => !ids.includes(a.id));
    for (const name in st.aliases) if (ids.includes(st.aliases[name])) delete st.aliases[name];
    for (const name in st.handles) if (ids.includes(st.handles[name])) delete st.handles[name];
    for (const name in st.zeros) if (ids.includes(st.zeros[name])) delete st.zeros[name];
  }

  private isErrorValue(e: Expr, st: PathState): boolean {
    if (e.kind === 'unary' && e.op === '-') return true;
    if (e.kind === 'int') return e.value < 0;
    if (e.kind === 'var') {
      const v = st.vars[e.name];
      if (v !== undefined && v.startsWith('-')) return true;
      // The GUP result itself on a path where it is known negative.
      return st.acqs.some((a) => a.countKeys.includes(e.name) && a.outcomes !== 0 && (a.outcomes & ~NEG) === 0);
    }
    return false;
  }

  private isHeld(a: AcqState): boolean {
    return (a.status === 'held') && (a.outcomes & TAKEN) !== 0;
  }

  // ---- acquire --------------------------------------------------------------------------

  private decodeKind(c: CallStmt, r: AcquireEffect, flagsArg: number | undefined): 'get' | 'pin' | 'unknown' {
    if (r.kind !== 'flags') return r.kind;
    const flags = flagsArg !== undefined ? c.args[flagsArg] : undefined;
    if (!flags) return 'get';
    return this.flagsKind(flags, 0);
  }

  private flagsKind(e: Expr, depth: number): 'get' | 'pin' | 'unknown' {
    if (mentionsName(e, GUP_PIN_FLAG)) return 'pin';
    if (e.kind === 'unknown') return 'unknown';
    // A driver macro (`#define FOO_GUP_FLAGS (FOLL_WRITE | FOLL_PIN)`) may hide FOLL_PIN.
    if (constNames(e).some((n) => !n.startsWith(GUP_FLAG_PREFIX))) return 'unknown';
    const vars = [...varsOf(e)].filter((v) => v !== GUP_PIN_FLAG);
    if (vars.length === 0) return 'get';
    if (depth > 4) return 'unknown';
    let sawUnknown = false;
    for (const v of vars) {
      // A flags variable: FOLL_PIN in any value it is assigned makes the call a pin.
      const values: Expr[] = [];
      for (const b of this.fn.blocks) for (const s of b.stmts) if (s.kind === 'assign' && s.target.kind === 'var' && s.target.name === v) values.push(s.value);
      if (values.length === 0) {
        // A parameter or a global the caller controls, or an uppercase constant the lowering kept as a variable.
        if (this.fn.params.some((p) => p.name === v) || this.globals.has(v)) sawUnknown = true;
        continue;
      }
      for (const val of values) {
        const k = this.flagsKind(val, depth + 1);
        if (k === 'pin') return 'pin';
        if (k === 'unknown') sawUnknown = true;
      }
    }
    return sawUnknown ? 'unknown' : 'get';
  }

  private acquisitionFor(c: CallStmt, r: AcquireEffect): GupAcquisition | undefined {
    const cached = this.acqBySite.get(c);
    if (cached) return cached;
    const pos = r.byArity?.[c.args.length] ?? r;
    let pagesExpr = c.args[pos.pagesArg];
    // One arity can mean two prototypes (get_user_pages_remote had 8 arguments both as
    // (tsk, mm, start, nr, write, force, pages, vmas) and (tsk, mm, start, nr, flags, pages,
    // vmas, locked)): when the declared type of the chosen argument is known and is not a page
    // array, take the argument that is one.
    const t = this.typeOf(pagesExpr);
    if (!r.single && !r.allocatesArray && t !== undefined && !/page/.test(t)) {
      const alt = c.args.find((x) => /struct\s+page\s*\*\s*\*/.test(this.typeOf(x) ?? ''));
      if (alt) pagesExpr = alt;
    }
    if (!pagesExpr || untrackedSingle(c, r)) return undefined;
    let array: Expr = pagesExpr;
    let single = !!r.single;
    const countTracked = r.returns !== 'bytes-or-errno' && !r.single;
    let offsetKey: string | undefined;
    if (r.allocatesArray) {
      array = pagesExpr.kind === 'unary' && pagesExpr.op === '&' ? pagesExpr.arg : { kind: 'unary', op: '*', arg: pagesExpr };
    } else if (!single && pagesExpr.kind === 'unary' && pagesExpr.op === '&' && pagesExpr.arg.kind !== 'index') {
      // get_user_pages_fast(addr, 1, flags, &page): an array of one, the page variable itself.
      array = pagesExpr.arg;
      single = true;
    } else if (!single) {
      // Acquiring into a sub-range (`pages + done`, `&map[n]`): the acquisition is the range
      // from that offset; releases of the same range designate it.
      const sub = subRange(pagesExpr);
      if (sub) {
        array = sub.base;
        offsetKey = sub.offset;
      }
    }
    // A local that only ever points into another array (`pages = pvec + pinned`): the pages
    // are that array's entries.
    if (!single && array.kind === 'var' && this.derived.has(array.name)) {
      const d = this.derived.get(array.name)!;
      array = d.base;
      if (d.offset !== '0') offsetKey = offsetKey === undefined || offsetKey === '0' ? d.offset : `${d.offset} + ${offsetKey}`;
    }
    if (offsetKey === '0') offsetKey = undefined;
    const root = rootVar(array);
    if (root === undefined) return undefined;
    const requested = pos.countArg !== undefined ? c.args[pos.countArg] : undefined;
    const arrayKey = exprKey(array);
    // Where this array was stored before (or after) it was filled: `bo->pages = pages`.
    const stored = this.storedInto.get(arrayKey) ?? [];
    const acq: GupAcquisition = {
      id: this.acquisitions.length,
      call: c,
      api: c.callee,
      kind: this.decodeKind(c, r, pos.flagsArg),
      arrayKey,
      arrayText: renderExpr(array),
      root,
      single,
      requestedKey: requested ? exprKey(requested) : undefined,
      requestedText: requested ? renderExpr(requested) : undefined,
      resultKey: c.result ? exprKey(c.result) : undefined,
      resultText: c.result ? renderExpr(c.result) : undefined,
      countTracked,
      mayTakeNothing: !!r.mayTakeNothing,
      offsetKey,
      accumulates: offsetKey !== undefined || (array.kind === 'var' && this.advancing.has(array.name)),
      kindFromCaller: !!r.kindFromCaller && this.flagsFromParam(pos.flagsArg !== undefined ? c.args[pos.flagsArg] : undefined),
      ownerKeys: stored.map((x) => x.key),
      ownerRoots: stored.map((x) => x.root),
    };
    this.acquisitions.push(acq);
    this.acqBySite.set(c, acq);
    return acq;
  }

  /** The gup_flags expression mentions a parameter of this function (`gup_flags | FOLL_LONGTERM`). */
  private flagsFromParam(e: Expr | undefined): boolean {
    if (!e) return false;
    const vs = varsOf(e);
    return this.fn.params.some((p) => vs.has(p.name));
  }

  /**
   * The release comes after a test of FOLL_PIN (`if (gup_flags & FOLL_PIN) unpin...; else
   * put...`, or `if (WARN_ON(!(gup_flags & FOLL_PIN))) return -EINVAL;` before the pin): some
   * edge testing it leads to the release's block.
   */
  private pinTested(c: CallStmt): boolean {
    if (!this.stmtPos) {
      this.stmtPos = new Map();
      for (const b of this.fn.blocks) b.stmts.forEach((x, idx) => this.stmtPos!.set(x, { block: b.id, idx }));
    }
    const pos = this.stmtPos.get(c);
    if (!pos) return false;
    const test = (e: Expr): boolean => mentionsName(e, GUP_PIN_FLAG) || [...varsOf(e)].some((v) => callTestsPinFlag(this.fn, v));
    for (const b of this.fn.blocks) for (const e of b.succs) {
      if (!e.cond || !test(e.cond)) continue;
      const seen = new Set<number>([e.to]);
      const work = [e.to];
      while (work.length) {
        const x = work.pop()!;
        if (x === pos.block) return true;
        for (const n of this.fn.blocks[x]?.succs ?? []) if (!seen.has(n.to)) { seen.add(n.to); work.push(n.to); }
      }
    }
    return false;
  }

  private typeOf(e: Expr | undefined): string | undefined {
    if (!e || e.kind !== 'var') return undefined;
    return this.fn.locals[e.name] ?? this.fn.params.find((p) => p.name === e.name)?.type;
  }

  private acquire(st: PathState, c: CallStmt, r: AcquireEffect): void {
    const acq = this.acquisitionFor(c, r);
    if (!acq) return;
    // A new run of the call: what was derived from the previous result says nothing now.
    for (const z in st.zeros) if (st.zeros[z] === acq.id) delete st.zeros[z];
    // The call stores into a local through its address (`&page`, `&pages`): what that local
    // designated before (a copy of an earlier page, `page = compound_head(page)` in the round
    // before a `goto again`) is gone; from now on it names what this call took.
    const written = writtenLocal(c.args[(r.byArity?.[c.args.length] ?? r).pagesArg]);
    if (written !== undefined && !this.globals.has(written) && (st.aliases[written] !== undefined || st.handles[written] !== undefined)) this.forget(st, written);
    let outcomes: number;
    switch (r.returns) {
      case 'count-or-errno': outcomes = ALL; break;
      case 'count-nonneg': outcomes = ZERO | PART | FULL; break;
      case 'bytes-or-errno': outcomes = ALL; break;
      case 'bool': outcomes = ZERO | FULL; break;
      case 'void': outcomes = FULL; break;
    }
    if (!c.result && r.returns !== 'void') {
      // The result is ignored: we cannot tell how much was taken; assume some was.
      outcomes &= TAKEN;
    }
    // A request for exactly one page cannot come back short.
    const pos = r.byArity?.[c.args.length] ?? r;
    const req = pos.countArg !== undefined ? c.args[pos.countArg] : undefined;
    if (req && isIntValue(req, 1)) outcomes &= ~PART;
    // The result variable is kept even when it counts bytes: its sign still says whether
    // anything was taken (iov_iter_get_pages*: -errno only when none).
    // get_page(page) right after handing `page` to an owner (rx_buf->page = page,
    // __skb_fill_page_desc(skb, 0, page, ...)): the reference is the one that owner keeps.
    const fresh = newAcq(acq.id, acq.single && this.handedJustBefore(c, acq.arrayKey) ? 'handed' : 'held', outcomes, acq.resultKey ? [acq.resultKey] : []);
    // The call wrote through the array pointer: a later NULL test of that pointer (while
    // nothing assigned it) is true.
    if (!acq.single && acq.arrayKey !== undefined) {
      const nn = this.stableCond({ kind: 'var', name: acq.arrayKey });
      if (nn && !acq.arrayKey.includes('*')) st.conds[nn.key] = nn.truth;
    }
    // get_page(page) dereferenced the page it was given: a later `if (!page)` (while nothing
    // assigned it) is false on this path.
    const given = c.args[(r.byArity?.[c.args.length] ?? r).pagesArg];
    if (r.single && given?.kind === 'var') {
      const nn = this.stableCond(given);
      if (nn) st.conds[nn.key] = nn.truth;
    }
    // Another call filling the same slots (a loop that picks one of two calls each round):
    // the earlier acquisition's pages, settled on this path, are no longer in the array.
    const refilled = refilledIds(acq, st.acqs, this.acquisitions);
    if (refilled.length) this.dropAcqs(st, refilled);
    // A call that stores its page into a variable (`gup(..., 1, ..., &page)`) overwrites what
    // that variable named: another acquisition tracked through the same variable (a second
    // call tried when the first took nothing, or the other call's page from the previous run
    // of a `goto again` loop) no longer designates anything this path can release. Still held,
    // its reference is lost here; otherwise it is done with.
    if (acq.single && !r.single) this.overwriteSingle(st, acq, c);
    const i = st.acqs.findIndex((a) => a.id === acq.id);
    if (i >= 0) {
      // The same call runs again (a retry loop, `goto again`) while the pages it took last time
      // are still held: those references can no longer be released. An acquisition into
      // `pages + done` fills new slots and is not this case.
      const prev = st.acqs[i];
      // A detached previous page (held by a local copy) is reported too: the path takes the
      // reference again while it holds the previous one, and only one of them stays tracked.
      if (this.isHeld(prev)) {
        const jump = st.lastJump;
        const via = jump
          ? `\`${jump.label}\` at line ${line(jump.range)} runs ${acq.api}() again on the same ${acq.single ? 'variable' : 'array'}`
          : `${acq.api}() at line ${line(c.range)} runs again on the same ${acq.single ? 'variable' : 'array'}`;
        this.emit({ kind: 'retake', acq, at: jump?.range ?? c.range, via, branch: st.lastBranch, recorded: !!prev.recorded });
      }
      st.acqs[i] = fresh;
    } else st.acqs.push(fresh);
  }

  /** `acq` stores a new page into the variable other single acquisitions are tracked by. */
  private overwriteSingle(st: PathState, acq: GupAcquisition, c: CallStmt): void {
    const gone: number[] = [];
    for (const o of st.acqs) {
      if (o.id === acq.id) continue;
      const prev = this.acquisitions[o.id];
      if (!prev.single || prev.arrayKey !== acq.arrayKey) continue;
      if (this.isHeld(o)) {
        const via = `${acq.api}() at line ${line(c.range)} stores another page into \`${acq.arrayText}\``;
        this.emit({ kind: 'retake', acq: prev, at: c.range, via, branch: st.lastBranch, recorded: !!o.recorded });
      }
      gone.push(o.id);
    }
    if (!gone.length) return;
    st.acqs = st.acqs.filter((a) => !gone.includes(a.id));
    for (const name in st.aliases) if (gone.includes(st.aliases[name])) delete st.aliases[name];
    for (const name in st.handles) if (gone.includes(st.handles[name])) delete st.handles[name];
  }

  // ---- release --------------------------------------------------------------------------

  private release(st: PathState, c: CallStmt, r: ReleaseEffect): void {
    if (r.container) return;
    const rl = this.loopOfCall.get(c);
    if (rl) return; // applied once when the loop is entered
    const ref = this.refOf(c.args[r.pagesArg], st);
    if (!ref) return;
    const count = r.countArg !== undefined ? c.args[r.countArg] : undefined;
    // Two references on one page (GUP, then an extra get_page()): one put drops one of them,
    // the most recent one still held.
    let ids = ref.ids;
    if (ids.length > 1) {
      const held = ids.filter((id) => {
        const a = this.acqState(st, id);
        return a !== undefined && (a.status === 'held' || a.status === 'element');
      });
      // Sub-ranges of one array (`&map[0]` and `&map[n]` filled by two calls): a release of a
      // range designates the acquisition that filled it; a release of the whole array with a
      // count that is not one acquisition's own count releases all of them.
      const arg = c.args[r.pagesArg];
      const sub = arg ? subRange(arg) : undefined;
      const offset = sub ? (sub.offset === '0' ? undefined : sub.offset) : undefined;
      const sameOffset = held.filter((id) => this.acquisitions[id].offsetKey === offset);
      const countKey = count ? exprKey(count) : undefined;
      const byCount = countKey !== undefined ? held.filter((id) => this.acqState(st, id)!.countKeys.includes(countKey)) : [];
      const offsets = new Set(ids.map((id) => this.acquisitions[id].offsetKey ?? '0'));
      if (offsets.size > 1 && byCount.length === 1) ids = byCount;
      else if (offsets.size > 1 && offset !== undefined && sameOffset.length) ids = sameOffset.slice(-1);
      else if (offsets.size > 1 && offset === undefined && count !== undefined && held.length) ids = held;
      else ids = held.length ? [held[held.length - 1]] : ids.slice(-1);
    }
    for (const id of ids) {
      const whole = !ref.element || this.acquisitions[id].single || count !== undefined;
      this.releaseOne(st, id, c, c.callee, r.kind, whole, count, r.countArg !== undefined ? c.argRanges[r.countArg] : undefined, false);
    }
  }

  private releaseOne(
    st: PathState, id: number, c: CallStmt, api: string, kind: 'get' | 'pin' | 'either', whole: boolean,
    count: Expr | { key: string; text: string } | undefined, countRange: SourceRange | undefined, inLoop: boolean, helper?: string,
    nullChecked = false,
    loopRange?: SourceRange,
    /** A helper that releases on some paths only: check kind and count, then stop tracking. */
    maybe = false,
  ): void {
    const a = this.acqState(st, id);
    const acq = this.acquisitions[id];
    if (!a) return;
    // One of the releases drops the reference the overwritten slot held (AcqState.adoptedRef).
    if (a.adoptedRef && (a.status === 'held' || a.status === 'released') && !maybe) {
      a.adoptedRef = false;
      return;
    }
    // The kind and the count are properties of the acquisition, whoever holds the pages now:
    // the fact is recorded whatever the state; the rules judge it.
    let rc: ReleaseCount | undefined;
    if (count !== undefined) {
      const key = 'kind' in count ? exprKey(count) : count.key;
      const text = 'kind' in count ? renderExpr(count) : count.text;
      const isResult = a.countKeys.includes(key);
      const isRequested = acq.requestedKey !== undefined && key === acq.requestedKey && !isResult && !a.requestStale;
      rc = { key, text, range: 'kind' in count ? countRange : undefined, isResult, isRequested, unsigned: this.isUnsignedVar(key) };
    }
    this.emit({
      kind: 'release', acq, at: c.range, call: c, api, helper, releaseKind: kind,
      flagSelected: this.flagSelected.has(c) && this.mixedKinds(acq),
      pinTested: acq.kindFromCaller ? this.pinTested(c) : false,
      before: a.status, first: a.status === 'released' ? { at: a.releasedAt ?? acq.call.range, api: a.releasedApi ?? '' } : undefined,
      whole, maybe, outcomes: a.outcomes, count: whole && !acq.single ? rc : undefined, inLoop, nullChecked, loopRange,
    });
    // Released while a hand-off or a loan is undecided: the caller still owned them.
    if (a.status === 'pending') {
      a.status = 'held';
      a.pendingKey = undefined;
      a.pendingFailure = undefined;
    }
    // A release of the whole (rest of the) array while a loop walks it: the entries not yet
    // handed on are released here (`while (i < n) put_page(pages[i++]); return -EIO;`).
    if (a.status === 'walking') {
      if (whole && !maybe) {
        a.status = 'released';
        a.walkHeader = undefined;
        a.releasedAt = c.range;
        a.releasedApi = helper ?? api;
      }
      return;
    }
    if (a.status !== 'held' && a.status !== 'element') return;
    if (maybe) {
      a.status = 'escaped';
      return;
    }
    if (whole) {
      a.status = 'released';
      a.releasedAt = c.range;
      a.releasedApi = helper ?? api;
    } else if (a.status === 'held') {
      a.status = 'element';
    }
  }

  private applyTransferLoops(st: PathState, header: number): void {
    // Hand-offs to a known owner first: a loop that also passes entries to code we cannot see
    // still walks the array (the walk decides what its early exits leave behind).
    const tls = [...(this.transfersByHeader.get(header) ?? [])].sort((x, y) => Number(y.effect === 'handed') - Number(x.effect === 'handed'));
    for (const tl of tls) {
      for (const id of this.refOf(tl.array, st)?.ids ?? []) {
        const a = this.acqState(st, id);
        if (!a || (a.status !== 'held' && a.status !== 'element')) continue;
        // A loop handing entries to an owner walks the array: the entries it has not reached
        // yet are still the caller's if it leaves by a return or a goto (walkExit()).
        if (tl.effect === 'handed') {
          a.status = 'walking';
          a.walkHeader = header;
        } else a.status = tl.effect;
      }
    }
  }

  /** Leaving a walking loop: through its condition (or break) all entries went on; by a return or goto, the rest are still held. */
  private walkExit(st: PathState, from: number, to: number, early: boolean): void {
    for (const a of st.acqs) {
      if (a.status !== 'walking' || a.walkHeader === undefined) continue;
      const body = this.loopBody.get(a.walkHeader);
      if (!body || !body.has(from) || body.has(to)) continue;
      a.status = early ? 'held' : 'handed';
      a.walkHeader = undefined;
    }
  }

  private applyReleaseLoops(st: PathState, header: number): void {
    for (const rl of this.loopsByHeader.get(header) ?? []) {
      const r = lookupApi(rl.api)?.refs;
      if (!r || r.op !== 'release') continue;
      const ref = this.refOf(rl.array, st);
      if (!ref) continue;
      const bound = releaseLoopBound(this.fn, rl, (v) => st.vars[v]);
      for (const id of ref.ids) {
        this.releaseOne(st, id, rl.call, rl.api, r.kind, true, bound ?? undefined, undefined, true, undefined, rl.nullChecked, rl.loop.range);
      }
    }
  }

  private applyHelper(st: PathState, c: CallStmt): void {
    const sum = helperSummary(this.file, c.callee);
    // A same-file helper that releases a file global itself (a module's exit helper called on
    // the init error path): the reference this path keeps in that global is released there.
    if (sum) for (const [g, eff] of sum.globals) {
      for (const acq of this.acquisitions) {
        if (acq.root !== g && !acq.ownerRoots.includes(g)) continue;
        const a = this.acqState(st, acq.id);
        if (!a || a.status === 'escaped') continue;
        this.releaseOne(st, acq.id, c, eff.calls[0]?.callee ?? c.callee, eff.kind, true, undefined, undefined, false, `${c.callee}()`, false, undefined, !eff.always);
      }
    }
    c.args.forEach((arg, i) => {
      const ids = this.refOrOwner(arg, st);
      if (!ids.length) return;
      const eff = sum?.params[i];
      if (!eff) {
        for (const id of ids) {
          const a = this.acqState(st, id);
          if (a && a.status === 'held') a.status = 'escaped';
        }
        return;
      }
      for (const id of ids) {
        const a = this.acqState(st, id);
        if (!a) continue;
        if (eff.release) {
          const cf = eff.release.countField;
          const cfArg = cf ? c.args[cf.param] : undefined;
          const countArg = eff.release.countParam !== undefined ? c.args[eff.release.countParam]
            : cf && cfArg && cfArg.kind === 'var' ? { key: `${cfArg.name}${cf.suffix}`, text: `${cfArg.name}${cf.suffix}` } : undefined;
          const countRange = eff.release.countParam !== undefined ? c.argRanges[eff.release.countParam] : undefined;
          // Name the release the helper performs (its first release call) so messages read
          // "released with put_all(), which releases them with put_page()".
          const inner = eff.release.calls[0]?.callee ?? c.callee;
          this.releaseOne(st, id, c, inner, eff.release.kind, true, countArg, countRange, false, `${c.callee}()`, false, undefined, !eff.release.always);
        } else if (eff.handoff) {
          if (a.status === 'held' || a.status === 'element') a.status = 'handed';
        } else if (eff.escape) {
          if (a.status === 'held' || a.status === 'element') a.status = 'escaped';
        }
      }
    });
  }

  // ---- edges and conditions -------------------------------------------------------------

  /** `owned`: the caller will not use `st0` again, so it may be changed instead of copied. */
  private traverse(st0: PathState, from: number, e: Edge, owned = false): PathState | undefined {
    let st = owned ? st0 : cloneState(st0);
    if (e.cond) {
      const refined = this.refine(st, e.cond, e.to);
      if (!refined) return undefined;
      st = refined;
      if (e.range) st.lastBranch = this.branchOf(e, e.cond, e.range);
    }
    const facts = this.loopFacts.switchFacts(e);
    if (facts && !applyFacts(st.conds, facts)) return undefined;
    for (const k of this.loopFacts.counterExit(e) ?? []) delete st.conds[k];
    // Entering a release loop from outside: apply the loop's release once.
    const body = this.loopBody.get(e.to);
    if (body && !body.has(from)) {
      this.applyReleaseLoops(st, e.to);
      this.applyTransferLoops(st, e.to);
    }
    const isGoto = e.label !== undefined && isGotoLabel(e.label);
    this.walkExit(st, from, e.to, isGoto);
    if (this.backEdgeSources(e.to)?.has(from)) {
      st.lastJump = isGoto && e.range ? { range: e.range, label: e.label! } : undefined;
      const counters = this.loopFacts.counterFacts(e);
      if (counters) applyFacts(st.conds, counters);
    }
    for (const a of st.acqs) {
      if (a.reportAt || !this.isHeld(a)) continue;
      const acq = this.acquisitions[a.id];
      const doomed = a.doomPending || !(this.reachOfAcq[a.id] ??= this.canMention(acq)).has(e.to);
      if (!doomed) continue;
      if (isGoto && e.range) {
        a.reportAt = { range: e.range, via: `\`${e.label}\` is taken at line ${line(e.range)}` };
        a.branch = st.lastBranch;
      }
      else a.doomPending = true;
    }
    if (e.to === this.fn.exit) {
      for (const a of st.acqs) {
        if (a.reportAt || !this.isHeld(a)) continue;
        const end = this.fn.range;
        const r: SourceRange = { start: end.end - 1, end: end.end, startRow: end.endRow, startCol: Math.max(0, end.endCol - 1), endRow: end.endRow, endCol: end.endCol };
        a.reportAt = { range: e.range && e.label && /return/.test(e.label) ? e.range : r, via: `the function ends at line ${line(r)}` };
        a.branch = st.lastBranch;
      }
    }
    return st;
  }

  private atExit(st: PathState): void {
    for (const a of st.acqs) {
      if (!this.isHeld(a)) continue;
      const acq = this.acquisitions[a.id];
      const at = a.reportAt ?? { range: this.fn.range, via: 'the function ends' };
      this.emit({
        kind: 'held', acq, at: at.range, via: at.via, branch: a.branch, visible: this.isVisible(acq), retErr: !!st.retErr,
        freed: !!a.freed, recorded: !!a.recorded, releasedSomewhere: this.releasedAnywhere(acq),
      });
    }
  }

  /** Maps each outcome-relevant atom of a condition to the set of outcomes where it holds. */
  private refine(st: PathState, cond: Expr, to: number): PathState | undefined {
    if (this.constTruth(cond, st, 0) === false) return undefined;
    if (this.loopFacts.counterTruth(cond, st.conds) === false) return undefined;
    if (vfTruth(st.vf, cond) === false) return undefined;
    // The same test of values nothing changes gives the same answer on one path.
    const stable = this.stableCond(cond);
    if (stable && this.repeatedCond(stable.key)) {
      const prev = st.conds[stable.key];
      if (prev !== undefined && prev !== stable.truth) return undefined;
      st.conds[stable.key] = stable.truth;
    }
    this.noteErrorTest(st, cond);
    const nullTested = nullTestOf(cond);
    for (const a of st.acqs) {
      const acq = this.acquisitions[a.id];
      // `if (!page)`, `if (!keep)` on the page variable or a local copy of it (`keep = page`)
      // after get_page(page) or a GUP of one page into &page: NULL only where the acquisition
      // took nothing.
      if (nullTested?.isNull && acq.single && (st.aliases[nullTested.name] === a.id || (nullTested.name === acq.arrayKey && !a.detached))) {
        const next = a.outcomes & (NEG | ZERO);
        if (next === 0 && a.outcomes !== 0) return undefined;
        a.outcomes = next;
      }
      if (a.countKeys.length) {
        const m = this.mask(cond, st, a, acq, 0);
        if (m !== undefined) {
          const next = a.outcomes & m;
          if (next === 0 && a.outcomes !== 0) return undefined;
          a.outcomes = next;
        }
      }
      if (a.status === 'pending' && a.pendingKey) {
        const f = this.failureMask(cond, st, a.pendingKey, a.pendingFailure ?? 'returns-zero', 0);
        if (f === 1) a.status = 'held';
        // A loan that succeeded: taken, unless this branch still releases or stores them.
        else if (f === 2) a.status = a.pendingFailure === 'lent' && this.canMention(acq, true).has(to) ? 'held' : 'handed';
      }
    }
    return st;
  }

  /** `z == 0` / `!z` on a derived zero of acquisition `id`: true; `z != 0` / `z`: false; else undefined. */
  private zeroTest(e: Expr, st: PathState, id: number): boolean | undefined {
    let x = e;
    let zero = false;
    while (x.kind === 'unary' && x.op === '!') { x = x.arg; zero = !zero; }
    if (x.kind === 'binary' && (x.op === '==' || x.op === '!=') && isIntValue(x.right, 0)) {
      if (x.op === '==') zero = !zero;
      x = x.left;
    }
    if (x.kind !== 'var' || st.zeros[x.name] !== id) return undefined;
    return zero;
  }

  private stableVarsCache?: Set<string>;

  /**
   * Variables whose value only changes by a visible write (assignment, call result,
   * declaration): locals and parameters whose address is never taken. A recorded condition
   * over them is dropped when one of them is written (forget()).
   */
  private stableVars(): Set<string> {
    if (this.stableVarsCache) return this.stableVarsCache;
    const unstable = new Set<string>(this.globals);
    // `&x` and `&x.f` let a callee write x; `&p[i]` and `&p->f` write what p points to, not p.
    const taken = (e: Expr): void => {
      if (e.kind === 'var') unstable.add(e.name);
      else if (e.kind === 'field' && !e.arrow) taken(e.base);
    };
    const addrOf = (e: Expr): void => {
      if (e.kind === 'unary') {
        if (e.op === '&') taken(e.arg);
        addrOf(e.arg);
      } else if (e.kind === 'binary') { addrOf(e.left); addrOf(e.right); }
      else if (e.kind === 'field' || e.kind === 'index') addrOf(e.base);
    };
    // Variables written in many places (loop counters, accumulators) would only multiply the
    // paths kept apart; the tests worth remembering are on flags and pointers set once or twice.
    const writes = new Map<string, number>();
    const wrote = (e: Expr | undefined): void => {
      if (e && e.kind === 'var') writes.set(e.name, (writes.get(e.name) ?? 0) + 1);
    };
    for (const b of this.fn.blocks) for (const st of b.stmts) {
      if (st.kind === 'havoc') { for (const v of varsOfText(st.text)) unstable.add(v); }
      else if (st.kind === 'call') { st.args.forEach(addrOf); wrote(st.result); }
      else if (st.kind === 'assign') { addrOf(st.value); wrote(st.target); }
    }
    for (const b of this.fn.blocks) for (const st of b.stmts) if (st.kind === 'call' && st.result?.kind === 'var' && st.result.name.startsWith('$')) unstable.add(st.result.name);
    const out = new Set<string>();
    const many = new Set<string>();
    const put = (name: string): void => {
      if (unstable.has(name)) return;
      if ((writes.get(name) ?? 0) > 2) many.add(name);
      else out.add(name);
    };
    for (const p of this.fn.params) put(p.name);
    for (const l of Object.keys(this.fn.locals)) put(l);
    this.stableVarsCache = out;
    this.manyWriteVarsCache = many;
    // Fields (`fib->fmt0.sum`) this function writes or lets a callee write through their address.
    const touched = new Set<string>();
    const fieldAddr = (e: Expr): void => {
      if (e.kind === 'unary') {
        if (e.op === '&' && e.arg.kind === 'field') touched.add(exprKey(e.arg));
        fieldAddr(e.arg);
      } else if (e.kind === 'binary') { fieldAddr(e.left); fieldAddr(e.right); }
    };
    for (const b of this.fn.blocks) for (const st of b.stmts) {
      if (st.kind === 'assign') { touched.add(exprKey(st.target)); fieldAddr(st.value); }
      else if (st.kind === 'call') { if (st.result) touched.add(exprKey(st.result)); st.args.forEach(fieldAddr); }
    }
    this.touchedFieldsCache = touched;
    return out;
  }

  private touchedFieldsCache?: Set<string>;

  /**
   * A field read through a stable pointer that this function never writes nor lets a callee
   * write through its address (`if (fib->fmt0.sum == 1)` tested at the pin and again at the
   * unwinding): the function relies on it keeping its value, as its unwinding does.
   */
  private stableField(x: Expr): boolean {
    const stable = this.stableVars();
    let e: Expr = x;
    while (e.kind === 'field') e = e.base;
    if (e.kind !== 'var' || !stable.has(e.name)) return false;
    for (const t of this.touchedFieldsCache!) {
      const k = exprKey(x);
      if (t === k || t.startsWith(k + '.') || t.startsWith(k + '->') || k.startsWith(t + '.') || k.startsWith(t + '->')) return false;
    }
    return true;
  }

  private manyWriteVarsCache?: Set<string>;

  /**
   * Locals written in many places but otherwise stable (`rc` set to one error code after
   * another): only their equality with a constant (`rc == -EAGAIN`) is remembered, the test a
   * function repeats to pick its unwinding.
   */
  private manyWriteVars(): Set<string> {
    this.stableVars();
    return this.manyWriteVarsCache!;
  }

  private repeatedConds?: Set<string>;

  /**
   * The condition (by key) is tested in more than one place, or is the NULL test of a pointer:
   * only those are worth remembering per path (others would only keep paths apart).
   */
  private repeatedCond(key: string): boolean {
    if (!this.repeatedConds) {
      const seen = new Map<string, number>();
      for (const b of this.fn.blocks) {
        const keys = new Set<string>();
        for (const e of b.succs) {
          if (!e.cond) continue;
          const sc = this.stableCond(e.cond);
          if (sc) keys.add(sc.key);
        }
        for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      this.repeatedConds = new Set([...seen].filter(([, n]) => n > 1).map(([k]) => k));
    }
    return this.repeatedConds.has(key) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || this.loopFacts.testedInLoop(key);
  }

  /** A condition over stable variables and constants only, normalized to a key and a truth value. */
  private stableCond(cond: Expr): { key: string; truth: boolean } | undefined {
    let e = cond;
    let truth = true;
    while (e.kind === 'unary' && e.op === '!') { e = e.arg; truth = !truth; }
    const stable = this.stableVars();
    // `rc == -EAGAIN` on a variable written in many places: a constant compared for equality.
    const konst = (x: Expr): boolean => x.kind === 'int' || x.kind === 'const' || (x.kind === 'unary' && x.op === '-' && konst(x.arg));
    if (e.kind === 'binary' && (e.op === '==' || e.op === '!=') && e.left.kind === 'var' && this.manyWriteVars().has(e.left.name)
        && konst(e.right) && !isIntValue(e.right, 0) && !(e.right.kind === 'const' && e.right.name === 'NULL')) {
      return { key: exprKey({ ...e, op: '==' } as Expr), truth: e.op === '==' ? truth : !truth };
    }
    const ok = (x: Expr): boolean => {
      switch (x.kind) {
        case 'int': case 'const': return true;
        case 'var': return stable.has(x.name);
        case 'field': return this.stableField(x);
        case 'unary': return x.op !== '*' && x.op !== '&' && ok(x.arg);
        case 'binary': return ok(x.left) && ok(x.right);
        default: return false;
      }
    };
    if (!ok(e) || varsOf(e).size === 0) return undefined;
    // `p == NULL` / `p != 0` test the pointer's truth.
    if (e.kind === 'binary' && (e.op === '==' || e.op === '!=') && (isIntValue(e.right, 0) || (e.right.kind === 'const' && e.right.name === 'NULL'))) {
      if (e.op === '==') truth = !truth;
      e = e.left;
      if (!ok(e) || varsOf(e).size === 0) return undefined;
    }
    if (e.kind === 'binary') {
      const neg: Record<string, string> = { '!=': '==', '>=': '<', '>': '<=' };
      if (neg[e.op]) { e = { ...e, op: neg[e.op] } as Expr; truth = !truth; }
    }
    return { key: exprKey(e), truth };
  }

  /**
   * `if (err)`, `if (err < 0)`, `if (err != 0)` on a returned variable that holds the result of
   * some other call (not a GUP count): on the branch where it holds, the variable is an error
   * code (kernel convention: 0 on success, -errno on failure), so returning it reports failure.
   */
  private noteErrorTest(st: PathState, cond: Expr): void {
    let x: Expr | undefined;
    if (cond.kind === 'var') x = cond;
    else if (cond.kind === 'binary' && (cond.op === '<' || cond.op === '!=') && isIntValue(cond.right, 0)) x = cond.left;
    if (!x || x.kind !== 'var' || !this.returnedVars.has(x.name) || st.vars[x.name] !== undefined) return;
    const name = x.name;
    if (st.acqs.some((a) => a.countKeys.includes(name))) return;
    if (!this.callResults.has(name)) return;
    st.vars[name] = '-errno';
  }

  /**
   * Truth of a condition on a variable whose value this path knows (`ret = -EFAULT; if (ret)`),
   * so the other branch is not explored. Undefined when unknown.
   */
  private constTruth(e0: Expr, st: PathState, depth: number): boolean | undefined {
    if (depth > 8) return undefined;
    const e = this.subst(e0, st);
    if (e.kind === 'unary' && e.op === '!') {
      const t = this.constTruth(e.arg, st, depth + 1);
      return t === undefined ? undefined : !t;
    }
    if (e.kind === 'binary' && e.op === '&&') {
      const l = this.constTruth(e.left, st, depth + 1);
      const r = this.constTruth(e.right, st, depth + 1);
      return l === false || r === false ? false : l === true && r === true ? true : undefined;
    }
    if (e.kind === 'binary' && e.op === '||') {
      const l = this.constTruth(e.left, st, depth + 1);
      const r = this.constTruth(e.right, st, depth + 1);
      return l === true || r === true ? true : l === false && r === false ? false : undefined;
    }
    const valueOf = (x: Expr): number | 'negative' | undefined => {
      if (x.kind === 'int') return x.value;
      if (x.kind === 'unary' && x.op === '-' && (x.arg.kind === 'const' || x.arg.kind === 'int')) return 'negative';
      if (x.kind !== 'var') return undefined;
      const v = st.vars[x.name];
      if (v === undefined) return undefined;
      if (/^-?\d+$/.test(v)) return Number(v);
      return v.startsWith('-') ? 'negative' : undefined;
    };
    if (e.kind === 'var') {
      const v = valueOf(e);
      return v === undefined ? undefined : v === 'negative' ? true : v !== 0;
    }
    if (e.kind === 'binary' && ['<', '<=', '>', '>=', '==', '!='].includes(e.op)) {
      const l = valueOf(e.left);
      const r = valueOf(e.right);
      if (l === 'negative' && r === 0) return e.op === '<' || e.op === '<=' || e.op === '!=';
      if (l === 0 && r === 'negative') return e.op === '>' || e.op === '>=' || e.op === '!=';
      if (typeof l === 'number' && typeof r === 'number' && e.left.kind === 'var') {
        switch (e.op) {
          case '<': return l < r;
          case '<=': return l <= r;
          case '>': return l > r;
          case '>=': return l >= r;
          case '==': return l === r;
          case '!=': return l !== r;
        }
      }
    }
    return undefined;
  }

  private subst(e: Expr, st: PathState): Expr {
    if (e.kind === 'var' && st.tests[e.name]) return st.tests[e.name];
    return e;
  }

  private mask(e0: Expr, st: PathState, a: AcqState, acq: GupAcquisition, depth: number): number | undefined {
    if (depth > 8) return undefined;
    const e = this.subst(e0, st);
    // A derived zero (`npages == 0` after `npages = DIV_ROUND_UP(off + n, PAGE_SIZE)`): true
    // only when nothing was taken; its negation says nothing (an offset alone rounds up to 1).
    const zt = this.zeroTest(e, st, a.id);
    if (zt !== undefined) return zt ? NEG | ZERO : undefined;
    // `!page` after `gup(..., 1, ..., &page)`: the call stored a page when it took one.
    if (acq.single && !a.detached && ((e.kind === 'unary' && e.op === '!' && exprKey(e.arg) === acq.arrayKey) ||
      (e.kind === 'binary' && e.op === '==' && exprKey(e.left) === acq.arrayKey && (isIntValue(e.right, 0) || (e.right.kind === 'const' && e.right.name === 'NULL'))))) {
      return NEG | ZERO;
    }
    if (e.kind === 'unary' && e.op === '!') {
      const m = this.mask(e.arg, st, a, acq, depth + 1);
      return m === undefined ? undefined : ALL & ~m;
    }
    if (e.kind === 'binary' && (e.op === '&&' || e.op === '||')) {
      const l = this.mask(e.left, st, a, acq, depth + 1);
      const r = this.mask(e.right, st, a, acq, depth + 1);
      if (e.op === '&&') return l === undefined ? r : r === undefined ? l : l & r;
      return l === undefined || r === undefined ? undefined : l | r;
    }
    const isCount = (x: Expr): boolean => a.countKeys.includes(exprKey(x)) || (x.kind === 'var' && st.vars[x.name] !== undefined && a.countKeys.includes(st.vars[x.name]));
    if (isCount(e)) return NEG | PART | FULL; // truthy: non-zero
    if (e.kind !== 'binary') return undefined;
    let op = e.op;
    let x = e.left;
    let y = e.right;
    if (!isCount(x) && isCount(y)) {
      const flip: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '==': '==', '!=': '!=' };
      if (!flip[op]) return undefined;
      op = flip[op];
      [x, y] = [y, x];
    }
    if (!isCount(x)) return undefined;
    const yKey = exprKey(y);
    const yVal = y.kind === 'var' && st.vars[y.name] !== undefined ? st.vars[y.name] : yKey;
    const n = /^-?\d+$/.test(yVal) ? Number(yVal) : undefined;
    if (n === 0) {
      switch (op) {
        case '<': return NEG;
        case '<=': return NEG | ZERO;
        case '>': return TAKEN;
        case '>=': return ZERO | TAKEN;
        case '==': return ZERO;
        case '!=': return NEG | TAKEN;
      }
    }
    if (n === -1) {
      if (op === '>') return ZERO | TAKEN;
      if (op === '<=') return NEG;
    }
    // `err == -EFAULT`: an error code (a negated constant, a negative number) only, so nothing was
    // taken on that branch; `!=` says nothing.
    if (op === '==' && ((n !== undefined && n < 0) || (y.kind === 'unary' && y.op === '-' && y.arg.kind === 'const'))) return NEG;
    if (n === 1 && acq.requestedKey !== '1') {
      if (op === '<') return NEG | ZERO;
      if (op === '>=') return TAKEN;
    }
    const isRequested = acq.countTracked && acq.requestedKey !== undefined && (yKey === acq.requestedKey || yVal === acq.requestedKey);
    if (isRequested) {
      switch (op) {
        case '==': case '>=': return FULL;
        case '!=': case '<': return NEG | ZERO | PART;
        case '>': return 0;
        case '<=': return ALL;
      }
    }
    return undefined;
  }

  /** 1 = the sink did NOT take the page on this branch, 2 = it did, undefined = unknown. */
  private failureMask(e0: Expr, st: PathState, key: string, failure: string, depth: number): 1 | 2 | undefined {
    if (depth > 8) return undefined;
    const e = this.subst(e0, st);
    if (e.kind === 'unary' && e.op === '!') {
      const m = this.failureMask(e.arg, st, key, failure, depth + 1);
      return m === undefined ? undefined : m === 1 ? 2 : 1;
    }
    const isR = (x: Expr): boolean => exprKey(x) === key;
    // Truthy test of the result.
    if (isR(e)) return failure === 'returns-zero' ? 2 : 1;
    if (e.kind !== 'binary') return undefined;
    const l = isR(e.left);
    const r = isR(e.right);
    if (!l && !r) return undefined;
    const other = l ? e.right : e.left;
    const zero = isIntValue(other, 0);
    const op = l ? e.op : ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[e.op] ?? e.op;
    if (failure === 'returns-zero') {
      if (zero) return op === '==' || op === '<=' ? 1 : op === '!=' || op === '>' ? 2 : undefined;
      // `bio_add_page(...) != len` / `< len`: not (fully) added.
      return op === '!=' || op === '<' ? 1 : op === '==' || op === '>=' ? 2 : undefined;
    }
    if (failure === 'lent') {
      // 0 on success, -errno (or another non-zero code) on failure.
      if (isR(e)) return 1;
      if (!zero) return undefined;
      return op === '!=' || op === '<' ? 1 : op === '==' || op === '>=' ? 2 : undefined;
    }
    if (failure === 'returns-negative') return zero ? (op === '<' ? 1 : op === '>=' ? 2 : undefined) : undefined;
    if (failure === 'returns-nonzero') return zero ? (op === '!=' ? 1 : op === '==' ? 2 : undefined) : undefined;
    return undefined;
  }

  // ---- pre-passes -----------------------------------------------------------------------

  private stmtPos?: Map<Stmt, { block: number; idx: number }>;

  /** Some statement that releases, stores, hands off or returns the pages is reachable after `c`. */
  private usedAfter(c: CallStmt, acq: GupAcquisition): boolean {
    if (!this.stmtPos) {
      this.stmtPos = new Map();
      for (const b of this.fn.blocks) b.stmts.forEach((s, idx) => this.stmtPos!.set(s, { block: b.id, idx }));
    }
    const pos = this.stmtPos.get(c);
    if (!pos) return true;
    // One page named by a variable: a use after the variable names another page (the next
    // run of a loop whose body declares it) is not a use of this reference.
    if (acq.single && /^[A-Za-z_]\w*$/.test(acq.arrayKey)) {
      return usedBeforeRedefined(this.fn, pos, acq.arrayKey, (s) => s !== acq.call && this.ownershipUseIn(s, acq));
    }
    const reach = this.canMention(acq, true);
    const b = this.fn.blocks[pos.block];
    if (b.stmts.slice(pos.idx + 1).some((s) => s !== acq.call && this.ownershipUseIn(s, acq))) return true;
    return b.succs.some((e) => reach.has(e.to));
  }

  private ownershipUseIn(s: Stmt, acq: GupAcquisition): boolean {
    return this.mentionsStmt(s, this.relatedVars(acq), true);
  }

  private readonly relatedCache = new Map<string, Set<string>>();

  /** The acquisition's root, the roots that hold it, and the locals derived from them. */
  private relatedVars(acq: GupAcquisition): Set<string> {
    const root = acq.root;
    const key = `${root}:${acq.ownerRoots.join(',')}`;
    const hit = this.relatedCache.get(key);
    if (hit) return hit;
    const related = new Set([root, ...acq.ownerRoots]);
    for (const [name, d] of this.derived) if (rootVar(d.base) === root) related.add(name);
    for (let round = 0; round < 8; round++) {
      let changed = false;
      for (const b of this.fn.blocks) for (const s of b.stmts) {
        if (s.kind !== 'assign' || s.target.kind !== 'var' || related.has(s.target.name)) continue;
        // `idx = folio->index`: a number read out of the page is no handle on it.
        if (readsScalarOnly(this.fn.locals[s.target.name], s.value, related)) continue;
        if ([...varsOf(s.value)].some((v) => related.has(v))) {
          related.add(s.target.name);
          changed = true;
        }
      }
      if (!changed) break;
    }
    this.relatedCache.set(key, related);
    return related;
  }

  /**
   * A statement that could release or take over the pages: a kfree() of the array or a kmap()
   * of a page does not keep a leaking path "alive", nor does logging. With `ownershipOnly`, a
   * call we cannot see does not count either (it is no evidence that the caller still owns them).
   */
  private mentionsStmt(s: Stmt, related: Set<string>, ownershipOnly: boolean): boolean {
    const exprs: Expr[] = [];
    if (s.kind === 'call') {
      const api = lookupApi(s.callee);
      if (api && (!api.refs || api.refs.op === 'acquire')) return false;
      if (!api && isObserverCall(s.callee)) return false;
      if (ownershipOnly && !api && fileFunction(this.file, s.callee) === undefined) return false;
      exprs.push(...s.args);
    } else if (s.kind === 'assign') {
      if (s.target.kind === 'var' && !this.globals.has(s.target.name)) return false;
      exprs.push(s.value);
    } else if (s.kind === 'return' && s.value) exprs.push(s.value);
    else if (s.kind === 'havoc') return !ownershipOnly && [...related].some((v) => new RegExp(`\\b${escapeRe(v)}\\b`).test(s.text));
    return exprs.some((x) => [...varsOf(x)].some((v) => related.has(v)));
  }

  /** Blocks from which a statement that could release or take over the pages is reachable. */
  private canMention(acq: GupAcquisition, ownershipOnly = false): Set<number> {
    const cacheKey = `${ownershipOnly ? 'o' : 'm'}:${acq.root}:${acq.ownerRoots.join(',')}`;
    const hit = this.mentionReach.get(cacheKey);
    if (hit) return hit;
    const fn = this.fn;
    const related = this.relatedVars(acq);
    const mentions = (s: Stmt): boolean => this.mentionsStmt(s, related, ownershipOnly);
    const preds = new Map<number, number[]>();
    for (const b of fn.blocks) for (const e of b.succs) {
      const l = preds.get(e.to) ?? [];
      l.push(b.id);
      preds.set(e.to, l);
    }
    const out = new Set<number>();
    const work: number[] = [];
    for (const b of fn.blocks) if (b.stmts.some(mentions)) { out.add(b.id); work.push(b.id); }
    // Loop headers whose release loop walks this array count as mentions too.
    for (const rl of this.releaseLoops) if (rootVar(rl.array) !== undefined && related.has(rootVar(rl.array)!)) {
      if (!out.has(rl.loop.header)) { out.add(rl.loop.header); work.push(rl.loop.header); }
    }
    while (work.length) {
      const b = work.pop()!;
      for (const p of preds.get(b) ?? []) if (!out.has(p)) { out.add(p); work.push(p); }
    }
    this.mentionReach.set(cacheKey, out);
    return out;
  }

  /**
   * Whether this function also takes pages of the other kind into the same array (the
   * `if (use_pin) pin_user_pages...; else get_user_pages...` shape): only then can a release
   * chosen by a flag be right for both. A function that only pins and releases with put_page
   * on one branch has a mismatch on that branch.
   */
  private mixedKinds(acq: GupAcquisition): boolean {
    for (const b of this.fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call' || s === acq.call) continue;
      const r = lookupApi(s.callee)?.refs;
      if (!r || r.op !== 'acquire') continue;
      const pos = r.byArity?.[s.args.length] ?? r;
      const arg = s.args[pos.pagesArg];
      if (!arg || rootVar(arg) !== acq.root) continue;
      const k = this.decodeKind(s, r, pos.flagsArg);
      if (k !== acq.kind) return true;
    }
    return false;
  }

  /** A value computed from an acquisition's result (or from such a value) on this path: its interned index. */
  private derivedValue(st: PathState, value: Expr, target: string): number | undefined {
    const e = this.derivedValues.expand(value, st.dv);
    const counts = st.acqs.flatMap((a) => a.countKeys);
    if (!mentionsAny(e, counts)) return undefined;
    // A plain copy of the result is a count key already (assign() tracks it).
    if (e.kind === 'var') return undefined;
    // An accumulator (`done += ret` in a loop) or a value grown past a few terms: not followed
    // (it would grow with every run of the loop and the path states would never meet).
    if (mentionsAny(e, [target]) || exprSize(e) > MAX_DERIVED_SIZE) return undefined;
    return this.derivedValues.intern(e);
  }

  /** A return in a function implementing an acquiring entry: a value computed from a result that may say "nothing taken". */
  private handBack(st: PathState, value: Expr, at: SourceRange): void {
    const e = this.derivedValues.expand(value, st.dv);
    if (e.kind === 'var') return;
    for (const a of st.acqs) {
      if (!(a.outcomes & ZERO) || !a.countKeys.length || !mentionsAny(e, a.countKeys)) continue;
      const nothing = atNothing(e, a.countKeys);
      this.emit({
        kind: 'handback', acq: this.acquisitions[a.id], at, implements: this.implementsAcquire!, outcomes: a.outcomes,
        valueText: renderExpr(e, this.tempName), nothingText: renderExpr(nothing, this.tempName), negativeNonErrno: negativeNonErrno(nothing),
      });
    }
  }

  /** A local or parameter declared with an unsigned type: a negative value stored in it wraps. */
  private isUnsignedVar(key: string): boolean {
    const t = this.fn.locals[key] ?? this.fn.params.find((p) => p.name === key)?.type;
    return t !== undefined && /\bunsigned\b|\bsize_t\b|\bu(8|16|32|64)\b|\b__u(8|16|32|64)\b/.test(t);
  }

  /**
   * The pages live in memory the caller sees: the array or struct hangs off a parameter or a
   * global, or the array was stored into such memory before the call filled it.
   */
  private isVisible(acq: GupAcquisition): boolean {
    const vis = (r: string): boolean => this.fn.params.some((p) => p.name === r) || this.globals.has(r);
    return vis(acq.root) || acq.ownerRoots.some(vis);
  }

  private releasedAnywhere(acq: GupAcquisition): boolean {
    const related = this.relatedVars(acq);
    const mentioned = (x: Expr): boolean => [...varsOf(x)].some((v) => related.has(v));
    for (const b of this.fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call' || s === acq.call) continue;
      const r = lookupApi(s.callee)?.refs;
      if (r && (r.op === 'release' || r.op === 'handoff') && s.args.some(mentioned)) return true;
      if (!r && s.args.some(mentioned) && fileFunction(this.file, s.callee) !== undefined) return true;
    }
    return false;
  }


  /** Fills `derived` and `storedInto` (path-insensitive: one pass over the assignments). */
  private findArrayAliases(): void {
    const isParam = (n: string): boolean => this.fn.params.some((p) => p.name === n);
    const bases = new Map<string, { base: Expr; offset: string } | null>();
    for (const b of this.fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'assign') continue;
      const t = s.target;
      if (t.kind === 'var' && !this.globals.has(t.name)) {
        // `pages += n`: the pointer advances past what was filled; the next fill takes new slots.
        const adv = subRange(s.value);
        if (adv && adv.base.kind === 'var' && adv.base.name === t.name) this.advancing.add(t.name);
        if (isParam(t.name)) continue;
        const sub = subRange(s.value) ?? (s.value.kind === 'var' || s.value.kind === 'field' ? { base: s.value, offset: '0' } : undefined);
        const prev = bases.get(t.name);
        if (!sub || rootVar(sub.base) === t.name || prev === null) { bases.set(t.name, null); continue; }
        if (prev && exprKey(prev.base) !== exprKey(sub.base)) { bases.set(t.name, null); continue; }
        // Different offsets over the assignments: keep the base, the offset is unknown.
        bases.set(t.name, prev && prev.offset !== sub.offset ? { base: sub.base, offset: '?' } : sub);
      } else if (s.value.kind === 'var') {
        const root = rootVar(t);
        if (root === undefined) continue;
        const l = this.storedInto.get(s.value.name) ?? [];
        l.push({ key: exprKey(t), root });
        this.storedInto.set(s.value.name, l);
      }
    }
    for (const [name, d] of bases) {
      // Only pointer-to-pointer locals (`struct page **`): an index or a count is not an alias.
      if (d && /\*\s*\*/.test(this.fn.locals[name] ?? '')) {
        this.derived.set(name, d);
      }
    }
  }

  /**
   * Releases of opposite kinds on the same pages on paths that exclude each other: the code
   * picks the release by a flag it tracks (`if (pinned) unpin_user_page(p); else put_page(p);`,
   * the GUPed-pages thread's foo_bi_end_io_gup / _normal split). Neither is a mismatch.
   */
  private findFlagSelectedReleases(): void {
    const fn = this.fn;
    const sites: { c: CallStmt; block: number; idx: number; kind: string; root: string }[] = [];
    fn.blocks.forEach((b) => b.stmts.forEach((s, idx) => {
      if (s.kind !== 'call') return;
      const r = lookupApi(s.callee)?.refs;
      if (!r || r.op !== 'release' || r.kind === 'either') return;
      const root = rootVar(s.args[r.pagesArg] ?? { kind: 'unknown', text: '' });
      if (root !== undefined) sites.push({ c: s, block: b.id, idx, kind: r.kind, root });
    }));
    if (sites.length < 2) return;
    // Page variables loaded from the same array count as the same root (`p = pages[i]`).
    const rootOf = new Map<string, string>();
    for (const b of fn.blocks) for (const s of b.stmts) {
      if (s.kind === 'assign' && s.target.kind === 'var') {
        const r = rootVar(s.value);
        if (r !== undefined && r !== s.target.name) rootOf.set(s.target.name, r);
      }
    }
    const canon = (r: string): string => {
      let x = r;
      for (let i = 0; i < 4 && rootOf.has(x); i++) x = rootOf.get(x)!;
      return x;
    };
    const backEdge = (from: number, to: number): boolean => fn.loops.some((l) => l.header === to && l.body.includes(from));
    const reach = (from: number): Set<number> => {
      const seen = new Set<number>();
      const work = [from];
      while (work.length) {
        const b = work.pop()!;
        for (const e of fn.blocks[b]?.succs ?? []) {
          if (backEdge(b, e.to) || seen.has(e.to)) continue;
          seen.add(e.to);
          work.push(e.to);
        }
      }
      return seen;
    };
    const reachCache = new Map<number, Set<number>>();
    const blockReach = (b: number): Set<number> => {
      let r = reachCache.get(b);
      if (!r) reachCache.set(b, (r = reach(b)));
      return r;
    };
    // The two arms of one if/else meet again before the function ends; two releases on
    // unrelated error paths (a goto ladder) only meet at the exit.
    const rejoin = (a: number, b: number): boolean => {
      const ra = blockReach(a);
      for (const x of blockReach(b)) if (x !== fn.exit && ra.has(x)) return true;
      return false;
    };
    const reaches = (a: { block: number; idx: number }, b: { block: number; idx: number }): boolean => {
      if (a.block === b.block) return a.idx < b.idx;
      let r = reachCache.get(a.block);
      if (!r) reachCache.set(a.block, (r = reach(a.block)));
      return r.has(b.block);
    };
    for (let i = 0; i < sites.length; i++) for (let j = i + 1; j < sites.length; j++) {
      const x = sites[i];
      const y = sites[j];
      if (x.kind === y.kind || canon(x.root) !== canon(y.root)) continue;
      if (!reaches(x, y) && !reaches(y, x) && rejoin(x.block, y.block)) {
        this.flagSelected.add(x.c);
        this.flagSelected.add(y.c);
      }
    }
  }
}

/** `&x` with x a plain variable: the variable a call writes through this argument. */
function writtenLocal(e: Expr | undefined): string | undefined {
  return e && e.kind === 'unary' && e.op === '&' && e.arg.kind === 'var' ? e.arg.name : undefined;
}

/** Some local in `copies` other than `except` holds acquisition `id`. */
function copyHolds(copies: Record<string, number>, id: number, except?: string): boolean {
  for (const name in copies) if (copies[name] === id && name !== except) return true;
  return false;
}

/** `/^goto\b/` without a regex: the edge label starts with the word `goto`. */
function isGotoLabel(label: string): boolean {
  if (!label.startsWith('goto')) return false;
  if (label.length === 4) return true;
  const c = label.charCodeAt(4);
  // \b after `goto`: the next character is not a word character [A-Za-z0-9_].
  return !((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function constNames(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'const': out.push(e.name); break;
    case 'unary': constNames(e.arg, out); break;
    case 'binary': constNames(e.left, out); constNames(e.right, out); break;
    default: break;
  }
  return out;
}

/** `base + k`, `&base[k]`, `base`: the array and the offset key ('0' for the start). */
function subRange(e: Expr): { base: Expr; offset: string } | undefined {
  if (e.kind === 'binary' && e.op === '+') return { base: e.left, offset: exprKey(e.right) };
  if (e.kind === 'unary' && e.op === '&' && e.arg.kind === 'index') return { base: e.arg.base, offset: exprKey(e.arg.index) };
  return undefined;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}

/** `name` occurs in `text` as a whole identifier. */
function mentionsWord(text: string, name: string): boolean {
  // An empty name (a half-typed `k,++` lowers to an update of nothing) is in no text; and
  // indexOf('', i) never runs past the end, so the loop below would not stop (fuzz seed 41 #5033).
  if (!name) return false;
  let i = text.indexOf(name);
  while (i >= 0) {
    const before = i > 0 ? text.charCodeAt(i - 1) : 32;
    const after = i + name.length < text.length ? text.charCodeAt(i + name.length) : 32;
    if (!isWordChar(before) && !isWordChar(after)) return true;
    i = text.indexOf(name, i + 1);
  }
  return false;
}

/** Identifiers in a piece of C text. */
function varsOfText(text: string): string[] {
  return text.match(/[A-Za-z_$][A-Za-z0-9_$]*/g) ?? [];
}

/** A temporary (`$t = WARN_ON(!(flags & FOLL_PIN))`) holding a call that tests FOLL_PIN. */
function callTestsPinFlag(fn: FunctionIR, name: string): boolean {
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind === 'call' && s.result?.kind === 'var' && s.result.name === name && s.args.some((a) => mentionsName(a, GUP_PIN_FLAG))) return true;
  }
  return false;
}
