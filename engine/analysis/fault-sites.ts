// Calls that can take a page fault with page faults enabled (fault-under-lock): a uaccess that
// services faults, a fault_in_*(), GUP, and the I/O entry points the API table marks `faults`
// (iomap_dio_rw, filemap_read...). Silent where faults are off: inside pagefault_disable() (the
// depth analysis of engine/analysis/faultin/pagefault.ts), a `*_nofault` / `_inatomic` copy, an
// iterator marked `iter->nofault = true` (engine/analysis/locksets.ts tracks it). Same-file
// helpers contribute their own unprotected sites, reported at the call in the caller.

import type { CallStmt, FunctionIR, SourceRange } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { ATOMIC_LOCK_CLASSES } from '../kernel/api/locks';
import { MAINLINE, versionBefore } from '../kernel/versions';
import { PagefaultAnalysis } from './faultin/pagefault';
import { lockAnalysisFor, nofaultIters, releasedClasses, type HeldLock } from './locksets';
import { exprKey } from './expr';

export interface FaultSite {
  /** The call in the analysed function: the faulting API call, or the helper that reaches it. */
  call: CallStmt;
  /** The faulting API call itself (in a helper when `chain` is not empty). */
  fault: { fn: string; callee: string; range: SourceRange };
  chain: string[];
  how: 'uaccess' | 'fault-in' | 'gup' | 'io';
  direction: 'to-user' | 'from-user';
  /** Whether the call needs the caller to hold mmap_lock (get_user_pages) or takes it (copy_to_user). */
  mmapLock: 'caller-holds' | 'takes';
  /** The locks held before the call, in the analysed function. */
  held: HeldLock[];
  /** Lock classes a helper on the way released (its caller's) before the fault: not held there. */
  releasedBefore: Set<string>;
  /**
   * A direct-I/O entry point whose ops table (API table `ioHold`) leaves the file range held
   * across its own fault-in: the ops and the lock class. Not set when the iterator is a parameter
   * of a function other files call (they decide whether it is nofault).
   */
  opsHold?: { ops: string; cls: string; holds: string };
}

const MAX_HELPER_DEPTH = 4;

function strip(e: import('../ir').Expr): import('../ir').Expr {
  return e.kind === 'unary' && e.op === '&' ? e.arg : e;
}

/**
 * The ops table an ops argument names: the table itself (`&gfs2_iomap_ops`), or a local every
 * assignment of which names the same table (`const struct iomap_ops *ops = &gfs2_iomap_ops;`
 * then `ops` passed). Anything else (a parameter, a field, locals given different tables) names
 * no table we can tell.
 */
function opsTable(fn: FunctionIR, e: import('../ir').Expr): { kind: 'var'; name: string } | undefined {
  if (e.kind !== 'var') return undefined;
  if (fn.locals[e.name] === undefined || lookupApi(e.name)) return e;
  let table: string | undefined;
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind !== 'assign' || s.target.kind !== 'var' || s.target.name !== e.name) continue;
      const v = strip(s.value);
      if (v.kind !== 'var' || (table !== undefined && table !== v.name)) return undefined;
      table = v.name;
    }
  }
  return table !== undefined ? { kind: 'var', name: table } : undefined;
}

export class FaultSiteAnalysis {
  private memo = new Map<FunctionIR, FaultSite[]>();
  private inProgress = new Set<FunctionIR>();
  private pf: PagefaultAnalysis;

  /** `kernel`: the selected version (an ops table's hold may end at a version, API table `ioHold.until`). */
  constructor(private readonly byName: Map<string, FunctionIR>, private readonly cancelled: () => boolean, private readonly kernel: string = MAINLINE) {
    this.pf = new PagefaultAnalysis(byName, cancelled);
  }

  sites(fn: FunctionIR, level = 0): FaultSite[] {
    const hit = this.memo.get(fn);
    if (hit) return hit;
    this.inProgress.add(fn);
    const out = this.compute(fn, level);
    this.inProgress.delete(fn);
    this.memo.set(fn, out);
    return out;
  }

  /** What the ops table argument of a direct-I/O call leaves held across the call's own fault-in. */
  private opsHold(fn: FunctionIR, st: CallStmt, opsArg: number | undefined, iterArg: number | undefined, ioKind?: 'direct' | 'buffered-write'): FaultSite['opsHold'] {
    const a = opsArg !== undefined ? st.args[opsArg] : undefined;
    const ops = a ? opsTable(fn, strip(a)) : undefined;
    if (!ops) return undefined;
    const hold = lookupApi(ops.name)?.ioHold;
    if (!hold) return undefined;
    // Held for one kind of I/O only, or only before a version.
    if (hold.on && ioKind && hold.on !== ioKind) return undefined;
    if (hold.until && versionBefore(this.kernel, hold.until) === false) return undefined;
    // The iterator comes from the caller of a function other files can call: they may have set
    // iter->nofault around it (btrfs_dio_read() in v6.1 is called so from fs/btrfs/file.c).
    const it = iterArg !== undefined ? st.args[iterArg] : undefined;
    const itRoot = it ? strip(it) : undefined;
    if (itRoot && itRoot.kind === 'var' && fn.params.some((p) => p.name === itRoot.name) && !fn.storage.includes('static')) return undefined;
    return { ops: ops.name, cls: hold.lock, holds: hold.holds };
  }

  private compute(fn: FunctionIR, level: number): FaultSite[] {
    const locks = lockAnalysisFor(this.byName, this.cancelled).facts(fn);
    const pf = this.pf.facts(fn);
    const out: FaultSite[] = [];
    for (const b of fn.blocks) {
      b.stmts.forEach((st, idx) => {
        if (st.kind !== 'call') return;
        const depths = pf.beforeCall.get(`${b.id}:${idx}`);
        if (depths && depths.length && depths.every((d) => d > 0)) return;
        const held = locks.before.get(st) ?? [];
        // Under a spinlock the task is atomic: the fault handler does not run (no lock it takes).
        if (held.some((h) => !h.pending && ATOMIC_LOCK_CLASSES.includes(h.cls))) return;
        const nofault = nofaultIters(held);
        const iterOff = (arg: number | undefined): boolean => arg !== undefined && !!st.args[arg] && nofault.has(exprKey(strip(st.args[arg])));
        const api = lookupApi(st.callee);
        const self = { fn: fn.name, callee: st.callee, range: st.range };
        const releasedBefore = releasedClasses(held);
        if (api?.uaccess && !api.uaccess.nofault) {
          if (api.uaccess.iter && iterOff(api.uaccess.userArg)) return;
          out.push({ call: st, fault: self, chain: [], how: 'uaccess', direction: api.uaccess.direction, mmapLock: 'takes', held, releasedBefore });
          return;
        }
        if (api?.faultIn && !api.faultIn.subpageOnly) {
          out.push({ call: st, fault: self, chain: [], how: 'fault-in', direction: api.faultIn.access === 'read' ? 'from-user' : 'to-user', mmapLock: 'takes', held, releasedBefore });
          return;
        }
        if (api?.faults) {
          if (iterOff(api.faults.iterArg)) return;
          const how = api.faults.how === 'uaccess' ? 'uaccess' : api.faults.how;
          const opsHold = this.opsHold(fn, st, api.faults.opsArg, api.faults.iterArg, api.faults.ioKind);
          out.push({ call: st, fault: self, chain: [], how, direction: 'to-user', mmapLock: api.faults.mmapLock, held, releasedBefore, ...(opsHold ? { opsHold } : {}) });
          return;
        }
        if (api || level >= MAX_HELPER_DEPTH) return;
        const h = this.byName.get(st.callee);
        if (!h || h === fn || this.inProgress.has(h)) return;
        for (const s of this.sites(h, level + 1)) {
          // What the helper (or its helpers) released of the caller's locks before the fault.
          out.push({ ...s, call: st, chain: [h.name, ...s.chain], held, releasedBefore: new Set([...s.releasedBefore, ...releasedBefore]) });
        }
      });
    }
    return out;
  }
}
