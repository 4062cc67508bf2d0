// Locksets: which locks are held before each statement of a function (ARCHITECTURE.md
// "analysis/: locksets"). A forward must-analysis over the CFG: an acquisition adds the lock, a
// release removes it, blocks join by intersection (held on every path that reaches them); `goto out` unlock paths fall out of the CFG. A
// trylock (or a lock call returning 0 / -errno, like mmap_read_lock_killable or gfs2_glock_nq) is
// held only on the branch where its result says it was taken. Same-file helpers are summarised by
// the locks they return holding and the locks they release without taking (their caller's), so
// `lock_helper(); copy(); unlock_helper();` reads like the inline code. What a call does to a
// lock comes from the API table (`lock`, `faultLockWindow`); nothing here names a kernel API.
//
// Also tracked the same way: iterators marked `iter->nofault = true` (v5.16), as pseudo-locks of
// class NOFAULT keyed by the iterator.

import type { CallStmt, Expr, FunctionIR, SourceRange, Stmt } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { RWSEM_CLASS_BY_FIELD } from '../kernel/api/locks';
import { exprKey } from './expr';
import { lockCallMode } from './lock-mode';

export const NOFAULT = '$nofault';
/** Pseudo-lock: the function released its caller's lock `key` (`cls|key`) on every path so far. */
export const RELEASED = '$released';

export interface LockSite {
  fn: string;
  callee: string;
  range: SourceRange;
}

export interface HeldLock {
  cls: string;
  mode?: string;
  /** Instance, in this function's terms (`&ip->i_gl` -> `ip->i_gl`); the class when unnamed. */
  key: string;
  /** The call in this function that acquired it (the API call, or the helper that returns holding it). */
  call: CallStmt;
  /** Where the lock call really is (inside a helper when `chain` is not empty). */
  site: LockSite;
  chain: string[];
  /** Held only if this result variable says so ('taken-if-true': trylock; 'taken-if-zero': 0 / -errno). */
  pending?: { v: string; how: 'taken-if-true' | 'taken-if-zero' };
  /** Inside a window where the holder may be demoted (gfs2_holder_allow_demote): a fault can take it. */
  demotable?: boolean;
}

export interface LockFacts {
  /** Locks possibly held just before each statement. */
  before: Map<Stmt, HeldLock[]>;
  /** Locks possibly held when the function returns (pending ones: held if the returned result says so). */
  exitHeld: HeldLock[];
  /** Releases of locks the function did not take (its caller's): class and key. */
  releasesUnheld: { cls: string; key: string }[];
  partial: boolean;
}

/** Helper nesting followed for summaries. */
const MAX_HELPER_DEPTH = 4;

function strip(e: Expr): Expr {
  return e.kind === 'unary' && e.op === '&' ? e.arg : e;
}

/** Class, mode and instance key of a lock call (acquire/release/trylock/downgrade), or undefined. */
export function lockOf(call: CallStmt): { op: string; cls: string; mode?: string; key: string } | undefined {
  const l = lookupApi(call.callee)?.lock;
  if (!l) return undefined;
  const arg = l.arg !== undefined ? call.args[l.arg] : undefined;
  let cls = l.lock;
  const inst = arg ? strip(arg) : undefined;
  if (inst && inst.kind === 'field' && RWSEM_CLASS_BY_FIELD[inst.name]) cls = RWSEM_CLASS_BY_FIELD[inst.name];
  const key = cls === 'mmap_lock' || !inst ? cls : exprKey(inst);
  const mode = lockCallMode(l, call.args);
  return { op: l.op, cls, ...(mode ? { mode } : {}), key };
}

/** Identity of a lock in a lockset: class and instance. */
function idOf(h: HeldLock): string {
  return `${h.cls}|${h.key}`;
}

/** Of two states of the same lock at a join, the one that claims less (pending, demotable, read). */
function weakest(a: HeldLock, b: HeldLock): HeldLock {
  if (a.pending && !b.pending) return a;
  if (b.pending && !a.pending) return b;
  if (a.demotable !== b.demotable) return a.demotable ? a : b;
  if (a.mode !== b.mode && (b.mode === 'read' || b.mode === 'shared')) return b;
  return a;
}

/** What an edge condition says about variable v: true (nonzero), false (zero), 'neg' (< 0), or nothing. */
function condOn(c: Expr, v: string): 'true' | 'false' | 'neg' | 'nonneg' | undefined {
  if (c.kind === 'var' && c.name === v) return 'true';
  if (c.kind === 'unary' && c.op === '!') {
    const inner = condOn(c.arg, v);
    return inner === 'true' ? 'false' : inner === 'false' ? 'true' : inner === 'neg' ? 'nonneg' : inner === 'nonneg' ? 'neg' : undefined;
  }
  if (c.kind === 'binary' && c.left.kind === 'var' && c.left.name === v && c.right.kind === 'int' && c.right.value === 0) {
    switch (c.op) {
      case '==': return 'false';
      case '!=': return 'true';
      case '<': return 'neg';
      case '>=': return 'nonneg';
      default: return undefined;
    }
  }
  return undefined;
}

/** Result of following an edge for a pending lock: keep (still pending), take, or drop. */
export function resolve(p: NonNullable<HeldLock['pending']>, c: Expr | undefined): 'keep' | 'take' | 'drop' {
  if (!c) return 'keep';
  const what = condOn(c, p.v);
  if (!what) return 'keep';
  if (p.how === 'taken-if-true') return what === 'true' ? 'take' : what === 'false' ? 'drop' : 'keep';
  return what === 'false' || what === 'nonneg' ? 'take' : what === 'neg' || what === 'true' ? 'drop' : 'keep';
}

/** How a lock call's result says whether it took the lock (a trylock; a 0 / -errno lock call), if it does. */
export function pendingOf(st: CallStmt): HeldLock['pending'] {
  const api = lookupApi(st.callee);
  const l = api?.lock;
  const res = st.result && st.result.kind === 'var' ? st.result.name : undefined;
  if (!l || !res) return undefined;
  if (l.op === 'trylock') return { v: res, how: 'taken-if-true' };
  return /^0 or|<0 error/.test(api?.returns ?? '') ? { v: res, how: 'taken-if-zero' } : undefined;
}

export class LockAnalysis {
  private memo = new Map<FunctionIR, LockFacts>();
  private inProgress = new Set<FunctionIR>();

  constructor(private readonly byName: Map<string, FunctionIR>, private readonly cancelled: () => boolean = () => false) {}

  facts(fn: FunctionIR, level = 0): LockFacts {
    const hit = this.memo.get(fn);
    if (hit) return hit;
    this.inProgress.add(fn);
    const r = this.compute(fn, level);
    this.inProgress.delete(fn);
    this.memo.set(fn, r);
    return r;
  }

  /** The same-file helper a call enters (not an API-table entry, not recursive, within depth). */
  helper(call: CallStmt, level: number): FunctionIR | undefined {
    if (lookupApi(call.callee)) return undefined;
    const h = this.byName.get(call.callee);
    if (!h || this.inProgress.has(h) || level >= MAX_HELPER_DEPTH) return undefined;
    return h;
  }

  private compute(fn: FunctionIR, level: number): LockFacts {
    const before = new Map<Stmt, HeldLock[]>();
    const blockIn = new Map<number, Map<string, HeldLock>>();
    const releasesUnheld = new Map<string, { cls: string; key: string }>();
    blockIn.set(fn.entry, new Map());
    const work = [fn.entry];
    const queued = new Set(work);
    let budget = fn.blocks.length * 40 + 200;
    let partial = false;
    while (work.length) {
      if (--budget < 0 || ((budget & 127) === 0 && this.cancelled())) { partial = true; break; }
      const id = work.shift()!;
      queued.delete(id);
      const block = fn.blocks[id];
      if (!block) continue;
      const cur = new Map(blockIn.get(id) ?? []);
      for (const st of block.stmts) {
        before.set(st, [...cur.values()]);
        this.transfer(fn, st, cur, releasesUnheld, level);
      }
      for (const e of block.succs) {
        const out = new Map<string, HeldLock>();
        for (const [k, h] of cur) {
          if (!h.pending) { out.set(k, h); continue; }
          const r = resolve(h.pending, e.cond);
          if (r === 'drop') continue;
          if (r === 'take') { const q = { ...h }; delete q.pending; out.set(k, q); } else out.set(k, h);
        }
        const prev = blockIn.get(e.to);
        let changed = false;
        if (!prev) {
          blockIn.set(e.to, out);
          changed = true;
        } else {
          // Must-analysis: a lock is held at a join only if every incoming path holds it (so a
          // lock taken under `if (needs_lock)` and a conditional unlock do not leak into code
          // that runs without it). The weaker state wins when both hold it.
          for (const [k, h] of [...prev]) {
            const o = out.get(k);
            if (!o) { prev.delete(k); changed = true; continue; }
            const weaker = weakest(h, o);
            if (weaker !== h) { prev.set(k, weaker); changed = true; }
          }
        }
        if (changed && !queued.has(e.to)) { work.push(e.to); queued.add(e.to); }
      }
    }
    const returned = new Set<string>();
    for (const b of fn.blocks) for (const st of b.stmts) if (st.kind === 'return' && st.value?.kind === 'var') returned.add(st.value.name);
    // A pending lock survives the return only when the function returns the result that decides it.
    const exitHeld = [...(blockIn.get(fn.exit)?.values() ?? [])].filter((h) => !h.pending || returned.has(h.pending.v));
    return { before, exitHeld, releasesUnheld: [...releasesUnheld.values()], partial };
  }

  private transfer(fn: FunctionIR, st: Stmt, cur: Map<string, HeldLock>, releasesUnheld: Map<string, { cls: string; key: string }>, level: number): void {
    if (st.kind === 'assign' && st.target.kind === 'field' && st.target.name === 'nofault') {
      const key = exprKey(st.target.base);
      const on = st.value.kind === 'int' ? st.value.value !== 0 : true;
      for (const [k, h] of cur) if (h.cls === NOFAULT && h.key === key) cur.delete(k);
      if (on) {
        const h: HeldLock = { cls: NOFAULT, key, call: st as unknown as CallStmt, site: { fn: fn.name, callee: 'nofault', range: st.range }, chain: [] };
        cur.set(idOf(h), h);
      }
      return;
    }
    if (st.kind !== 'call') return;
    const release = (cls: string, key: string): void => {
      const exact = [...cur].filter(([, h]) => h.cls === cls && h.key === key);
      const victims = exact.length ? exact : [...cur].filter(([, h]) => h.cls === cls);
      if (!victims.length) {
        releasesUnheld.set(`${cls}|${key}`, { cls, key });
        const r: HeldLock = { cls: RELEASED, key: `${cls}|${key}`, call: st, site: { fn: fn.name, callee: st.callee, range: st.range }, chain: [] };
        cur.set(idOf(r), r);
      }
      for (const [k] of victims) cur.delete(k);
    };
    const api = lookupApi(st.callee);
    const win = api?.faultLockWindow;
    if (win) {
      for (const [k, h] of [...cur]) {
        if (h.cls !== win.lock) continue;
        cur.delete(k);
        const q: HeldLock = { ...h };
        if (win.op === 'open') q.demotable = true; else delete q.demotable;
        cur.set(idOf(q), q);
      }
      return;
    }
    const l = lockOf(st);
    if (l) {
      if (l.op === 'release') { release(l.cls, l.key); return; }
      if (l.op === 'downgrade') {
        for (const [k, h] of [...cur]) {
          if (h.cls !== l.cls) continue;
          cur.delete(k);
          const q = { ...h, mode: 'read' };
          cur.set(idOf(q), q);
        }
        return;
      }
      const pending = pendingOf(st);
      for (const [k, r] of [...cur]) if (r.cls === RELEASED && r.key.startsWith(`${l.cls}|`)) cur.delete(k);
      const h: HeldLock = { cls: l.cls, ...(l.mode ? { mode: l.mode } : {}), key: l.key, call: st, site: { fn: fn.name, callee: st.callee, range: st.range }, chain: [], ...(pending ? { pending } : {}) };
      cur.set(idOf(h), h);
      return;
    }
    const helper = this.helper(st, level);
    if (!helper) return;
    const sub = this.facts(helper, level + 1);
    const params = helper.params.map((p) => p.name);
    const mapKey = (key: string): string => {
      const i = params.findIndex((p) => key === p || key.startsWith(`${p}->`) || key.startsWith(`${p}.`));
      if (i < 0 || !st.args[i]) return key;
      return exprKey(strip(st.args[i])) + key.slice(params[i].length);
    };
    for (const r of sub.releasesUnheld) release(r.cls, mapKey(r.key));
    for (const h of sub.exitHeld) {
      if (h.cls === NOFAULT || h.cls === RELEASED) continue;
      const q: HeldLock = { ...h, key: mapKey(h.key), call: st, chain: [helper.name, ...h.chain] };
      delete q.pending;
      if (h.pending) {
        // `return lock_call(...)`: the caller's result of the helper decides, the same way.
        const res = st.result && st.result.kind === 'var' ? st.result.name : undefined;
        if (res) q.pending = { v: res, how: h.pending.how };
      }
      cur.set(idOf(q), q);
    }
  }
}

/** Locks held before a statement, pending ones (a trylock not yet tested) included, pseudo-locks excluded. */
export function realLocks(held: HeldLock[] | undefined): HeldLock[] {
  return (held ?? []).filter((h) => h.cls !== NOFAULT && h.cls !== RELEASED);
}

/** Locks of one class surely held before a statement (a pending trylock not counted). */
export function heldOfClass(held: HeldLock[] | undefined, cls: string): HeldLock[] {
  return realLocks(held).filter((h) => h.cls === cls && !h.pending);
}

/** Lock classes the function released on behalf of its caller before this point (on every path). */
export function releasedClasses(held: HeldLock[] | undefined): Set<string> {
  return new Set((held ?? []).filter((h) => h.cls === RELEASED).map((h) => h.key.split('|')[0]));
}

/** Iterators marked nofault before a statement. */
export function nofaultIters(held: HeldLock[] | undefined): Set<string> {
  return new Set((held ?? []).filter((h) => h.cls === NOFAULT).map((h) => h.key));
}

/** One analysis per rule run and file: shared by the rules through the context's helper map. */
const perFile = new WeakMap<Map<string, FunctionIR>, LockAnalysis>();

export function lockAnalysisFor(byName: Map<string, FunctionIR>, cancelled: () => boolean): LockAnalysis {
  let a = perFile.get(byName);
  if (!a) { a = new LockAnalysis(byName, cancelled); perFile.set(byName, a); }
  return a;
}

/** Where a held lock was taken, in words: `gfs2_glock_nq(gh)` in foo() (through bar()). */
export function lockWhere(h: HeldLock): string {
  return `${h.site.callee}() ${h.chain.length ? `in ${h.site.fn}() (called through ${h.chain.join('() -> ')}())` : ''}`.trim();
}
