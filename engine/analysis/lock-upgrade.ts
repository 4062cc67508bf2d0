// The mechanical "take it for write" fix (issue 9; vma-modify-read-lock, wrprotect-under-read-lock):
// a lock held for read where the code needs it for write becomes a write acquisition, and each
// of its releases a write release, by renaming the calls to the API table's `writeVariant`
// (mmap_read_lock -> mmap_write_lock, up_read -> up_write). Offered only where the rename is all
// there is to it: the acquisition and every release of that lock instance on the paths leaving it
// are direct table calls in this function, every release is reached only from acquisitions that
// are renamed too, and no path returns (or hands the lock to a helper) while it is held. A lock
// a helper takes or drops, or one the caller holds on some path, is left to the developer.

import type { QuickFix, TextEdit } from '../findings';
import type { CallStmt, Expr, FunctionIR, Stmt } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { MAINLINE, versionBefore } from '../kernel/versions';
import { exprKey } from './expr';
import { lockAnalysisFor, lockOf, pendingOf, resolve, type HeldLock } from './locksets';

/** Statement positions visited per walk, over the function's size: a bound, never a hang. */
const VISITS_PER_STMT = 4;

interface Pos { block: number; index: number }

/** The lock instance as written (`mm`, `mm->mmap_sem`), so `mmap_read_unlock(other_mm)` is not ours. */
function instanceOf(call: CallStmt): string | undefined {
  const l = lookupApi(call.callee)?.lock;
  const arg = l?.arg !== undefined ? call.args[l.arg] : undefined;
  if (!arg) return undefined;
  const e: Expr = arg.kind === 'unary' && arg.op === '&' ? arg.arg : arg;
  return exprKey(e);
}

/** The table's write variant `v` of a read lock call, when it exists at the selected kernel version. */
function writeVariantAt(v: string | undefined, kernel: string): string | undefined {
  const e = v ? lookupApi(v) : undefined;
  if (!v || !e) return undefined;
  if (e.since && versionBefore(kernel, e.since) === true) return undefined;
  if (e.removed && versionBefore(kernel, e.removed) === false) return undefined;
  return v;
}

type Touch = 'acquire' | 'release' | 'other' | 'foreign' | undefined;

class LockUpgrade {
  private readonly preds = new Map<number, number[]>();
  private readonly budget: number;

  constructor(private readonly fn: FunctionIR, private readonly byName: Map<string, FunctionIR>, private readonly cls: string, private readonly inst: string) {
    for (const b of fn.blocks) for (const e of b.succs) this.preds.set(e.to, [...(this.preds.get(e.to) ?? []), b.id]);
    this.budget = VISITS_PER_STMT * (fn.blocks.reduce((n, b) => n + b.stmts.length, 0) + fn.blocks.length) + 16;
  }

  /**
   * What a statement does to our lock: takes it, drops it, some other operation of the same
   * instance (downgrade), or 'foreign': the same class on another instance, or a same-file helper
   * that takes or drops a lock of the class (not a rename in this function).
   */
  private touch(st: Stmt): Touch {
    if (st.kind !== 'call') return undefined;
    const l = lockOf(st);
    if (l) {
      if (l.cls !== this.cls) return undefined;
      if (instanceOf(st) !== this.inst) return 'foreign';
      return l.op === 'acquire' || l.op === 'trylock' ? 'acquire' : l.op === 'release' ? 'release' : 'other';
    }
    if (lookupApi(st.callee)) return undefined;
    const h = this.byName.get(st.callee);
    if (!h || h === this.fn) return undefined;
    const facts = lockAnalysisFor(this.byName, () => false).facts(h);
    return facts.releasesUnheld.some((r) => r.cls === this.cls) || facts.exitHeld.some((x) => x.cls === this.cls) ? 'foreign' : undefined;
  }

  private stmtAt(p: Pos): Stmt | undefined {
    return this.fn.blocks[p.block]?.stmts[p.index];
  }

  private where(call: CallStmt): Pos | undefined {
    for (const b of this.fn.blocks) {
      const i = b.stmts.indexOf(call);
      if (i >= 0) return { block: b.id, index: i };
    }
    return undefined;
  }

  /** The releases every path from `acq` reaches while holding the lock; undefined when one returns holding it or meets something not ours. */
  releasesFrom(acq: CallStmt): CallStmt[] | undefined {
    const at = this.where(acq);
    if (!at) return undefined;
    const out = new Set<CallStmt>();
    const start = pendingOf(acq);
    type State = Pos & { pending: HeldLock['pending'] };
    const work: State[] = [{ block: at.block, index: at.index + 1, pending: start }];
    const seen = new Set<string>();
    let steps = this.budget;
    while (work.length) {
      const s = work.pop()!;
      const key = `${s.block}:${s.index}:${s.pending ? 'p' : 'h'}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (--steps < 0) return undefined;
      const st = this.stmtAt(s);
      if (st) {
        const t = this.touch(st);
        if (t === 'release') { out.add(st as CallStmt); continue; }
        if (t) return undefined;
        // Returning while held, or maybe held (a trylock whose result the caller gets), hands the lock on.
        if (st.kind === 'return') return undefined;
        work.push({ ...s, index: s.index + 1 });
        continue;
      }
      // Off the end of the block: along each edge, a pending lock (trylock, killable) may turn out not taken.
      if (s.block === this.fn.exit) return undefined;
      for (const e of this.fn.blocks[s.block]?.succs ?? []) {
        let pending = s.pending;
        if (pending) {
          const r = resolve(pending, e.cond);
          if (r === 'drop') continue;
          if (r === 'take') pending = undefined;
        }
        work.push({ block: e.to, index: 0, pending });
      }
    }
    return [...out];
  }

  /** The acquisitions every path into `rel` comes from; undefined when a path enters the function holding the lock or meets something not ours. */
  acquisitionsBefore(rel: CallStmt): CallStmt[] | undefined {
    const at = this.where(rel);
    if (!at) return undefined;
    const out = new Set<CallStmt>();
    const work: Pos[] = [{ block: at.block, index: at.index - 1 }];
    const seen = new Set<string>();
    let steps = this.budget;
    while (work.length) {
      const p = work.pop()!;
      const key = `${p.block}:${p.index}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (--steps < 0) return undefined;
      if (p.index >= 0) {
        const st = this.stmtAt(p);
        const t = st ? this.touch(st) : undefined;
        if (t === 'acquire') { out.add(st as CallStmt); continue; }
        if (t) return undefined;
        work.push({ block: p.block, index: p.index - 1 });
        continue;
      }
      if (p.block === this.fn.entry) return undefined;
      for (const b of this.preds.get(p.block) ?? []) work.push({ block: b, index: (this.fn.blocks[b]?.stmts.length ?? 0) - 1 });
    }
    return [...out];
  }
}

/**
 * The fix that takes `held` (a read lock held at a finding) for write, or undefined when that is
 * not a rename of calls in this function. `kernel`: the selected version (a variant must exist there).
 */
export function writeLockFix(fn: FunctionIR, byName: Map<string, FunctionIR>, held: HeldLock, kernel: string = MAINLINE): QuickFix | undefined {
  if (held.chain.length || held.mode === 'write' || held.mode === 'exclusive') return undefined;
  const first = held.call;
  const inst = instanceOf(first);
  if (!inst || lockOf(first)?.cls !== held.cls) return undefined;
  const u = new LockUpgrade(fn, byName, held.cls, inst);
  const acqs = new Set<CallStmt>([first]);
  const rels = new Set<CallStmt>();
  // Closure: the releases of each acquisition, the acquisitions reaching each release (an
  // `if (...) lock(); else lock();` shares its unlock), until nothing new turns up.
  const todo: CallStmt[] = [first];
  const done = new Set<CallStmt>();
  while (todo.length) {
    const c = todo.pop()!;
    if (done.has(c)) continue;
    done.add(c);
    const isAcq = acqs.has(c);
    const next = isAcq ? u.releasesFrom(c) : u.acquisitionsBefore(c);
    if (!next || (isAcq && !next.length)) return undefined;
    for (const n of next) {
      (isAcq ? rels : acqs).add(n);
      todo.push(n);
    }
  }
  const edits: TextEdit[] = [];
  for (const c of [...acqs, ...rels]) {
    const l = lookupApi(c.callee)?.lock;
    // A call already in write mode has nothing to rename, and next to read ones it is not ours to pair.
    if (!l || (l.mode !== 'read' && l.mode !== 'shared')) return undefined;
    const v = writeVariantAt(l.writeVariant, kernel);
    if (!v) return undefined;
    edits.push({ range: c.calleeRange, newText: v });
  }
  edits.sort((a, b) => a.range.start - b.range.start);
  const names = [...new Set(edits.map((e) => `${e.newText}()`))];
  return { title: `Take ${held.cls} for write: ${names.join(' / ')}`, edits };
}
