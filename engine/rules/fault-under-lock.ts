// fault-under-lock (thread "gfs2: Fix mmap + page fault deadlocks", Andreas
// Gruenbacher, 2021): a copy to or from user memory, a fault_in_*(), GUP or an I/O entry point
// that can take a page fault with faults enabled while a lock is held that the fault path can
// need for the same memory. The lockset (engine/analysis/locksets.ts) says what is held at the
// call; the API table's `faultLock` facet says whether the fault path takes that lock class; the
// finding's trace comes from the seed scenario instantiated with the C's names
// (engine/sim/from-c/lock-scenario.ts).

import type { Finding, RelatedLocation } from '../findings';
import type { FunctionIR } from '../ir';
import type { Rule, RuleContext, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { FAULT_LOCK_BY_CLASS } from '../kernel/api/locks';
import type { FaultLockFacet } from '../kernel/api/seed-schema';
import { FaultSiteAnalysis, type FaultSite } from '../analysis/fault-sites';
import { realLocks, type HeldLock } from '../analysis/locksets';
import { faultHandlerLocks } from '../analysis/fault-handlers';
import { simulateLockFault, type LockFaultModel } from '../sim/from-c/lock-scenario';
import { registerModelSimulation, simulateModels } from '../sim/broker';

const meta: RuleMeta = {
  id: 'fault-under-lock',
  severity: 'error',
  title: 'Page fault while holding a lock the fault path needs',
  docs: 'docs/rules/fault-under-lock.md',
  description:
    'A uaccess, fault-in, GUP or I/O copy can take a page fault with page faults enabled while a lock is held that the page-fault path can take for the same memory: a gfs2 glock, a btrfs path or extent lock, an inode lock that the file\'s own ->fault / ->page_mkwrite takes, mapping->invalidate_lock held for write, or mmap_lock. If the user buffer is an mmap of the same file (or a writer queues on mmap_lock), the fault waits for a lock its own thread holds. Proven by simulation, with the trace.',
};

/** The fault-lock facet of a held lock: the acquiring entry's, else its class's. */
export function faultLockOf(h: HeldLock): FaultLockFacet | undefined {
  return lookupApi(h.site.callee)?.faultLock ?? FAULT_LOCK_BY_CLASS[h.cls];
}

export interface Conflict {
  site: FaultSite;
  lock: HeldLock;
  facet: FaultLockFacet;
  /** The file's fault handler that takes the lock, for 'file-fault-handler' classes. */
  handler?: { fn: string; range: import('../ir').SourceRange };
}

/** Whether a fault at `site` can wait on `h` (no when the call needs the caller to hold mmap_lock, or the class never conflicts). */
export function conflictOf(site: FaultSite, h: HeldLock, ctx: Pick<RuleContext, 'text' | 'functionsByName' | 'cancelled'>): Conflict | undefined {
  if (h.pending || h.demotable) return undefined;
  if (site.chain.length && site.releasedBefore.has(h.cls)) return undefined;
  const facet = faultLockOf(h);
  if (!facet) return undefined;
  if (h.cls === 'mmap_lock' && site.mmapLock === 'caller-holds') return undefined;
  if (facet.conflicts === 'write' && h.mode !== 'write' && h.mode !== 'exclusive') return undefined;
  if (facet.when === 'file-fault-handler') {
    const handler = faultHandlerLocks(ctx.text, ctx.functionsByName, ctx.cancelled).get(h.cls);
    if (!handler) return undefined;
    return { site, lock: h, facet, handler };
  }
  return { site, lock: h, facet };
}

/** Every (faulting call, held lock) conflict of a function. */
export function conflictsIn(fn: FunctionIR, ctx: Pick<RuleContext, 'text' | 'functionsByName' | 'cancelled'>): Conflict[] {
  const sites = new FaultSiteAnalysis(ctx.functionsByName, ctx.cancelled).sites(fn);
  const out: Conflict[] = [];
  const seen = new Set<string>();
  for (const s of sites) {
    for (const h of realLocks(s.held)) {
      const c = conflictOf(s, h, ctx);
      if (!c) continue;
      const k = `${s.call.range.start}:${s.call.range.startRow}|${h.cls}|${h.key}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(c);
    }
  }
  return out;
}

function lockWords(h: HeldLock): string {
  const mode = h.mode === 'write' || h.mode === 'exclusive' ? ' for write' : h.mode === 'read' || h.mode === 'shared' ? ' shared' : '';
  const inst = h.key !== h.cls ? ` (${h.key})` : '';
  return `${h.cls}${inst} held${mode} since ${h.site.callee}() on line ${h.site.range.startRow + 1}${h.chain.length ? ` (taken in ${h.chain.join('() -> ')}())` : ''}`;
}

function faultWords(s: FaultSite): string {
  const what = s.how === 'fault-in' ? 'faults the user buffer in' : s.how === 'gup' ? 'pins the user pages, faulting them in' : s.how === 'io' ? 'copies to or from the user iterator' : 'copies to or from user memory';
  return `${s.fault.callee}()${s.chain.length ? ` (in ${s.chain.join('() -> ')}())` : ''} ${what} with page faults enabled`;
}

/** The simulation model of a conflict (plain data: it may run in the server's worker pool). */
function lockFaultModel(fn: FunctionIR, c: Conflict, kernel: string | undefined): LockFaultModel {
  const h = c.lock;
  return {
    fn: fn.name, lock: { callee: h.site.callee, cls: h.cls, ...(h.mode ? { mode: h.mode } : {}), range: h.site.range },
    fault: { callee: c.site.fault.callee, range: c.site.fault.range, direction: c.site.direction },
    ...(kernel ? { kernel } : {}),
  };
}

registerModelSimulation<LockFaultModel>(meta.id, (models, o) => models.map((m) => simulateLockFault({ ...m, cancelled: o.cancelled })));

const FIX = 'Do the copy with page faults disabled (pagefault_disable(), a *_nofault copy, or iter->nofault = true), and on a short copy drop the lock, fault the buffer in, retake the lock and retry (the gfs2 fix, v5.16).';

export const faultUnderLock: Rule = {
  meta,
  check(fn: FunctionIR, ctx): Finding[] {
    const out: Finding[] = [];
    const conflicts = conflictsIn(fn, ctx);
    // In the server the simulations run in the pool: no finding for the function until they finish.
    const sims = simulateModels(meta.id, { text: ctx.text, fn: fn.name, ...(ctx.kernel ? { kernel: ctx.kernel } : {}) }, conflicts.map((c) => lockFaultModel(fn, c, ctx.kernel)), ctx.cancelled);
    if (!sims) return [];
    for (const [i, c] of conflicts.entries()) {
      if (ctx.cancelled()) break;
      const { site, lock: h, facet } = c;
      const why = h.cls === 'mmap_lock'
        ? (h.mode === 'write' ? 'the fault handler needs mmap_lock for read, which this thread holds for write: self-deadlock'
          : 'the fault handler takes mmap_lock for read again; a writer queued in between (mmap_write_lock in mprotect, munmap...) blocks it, and the writer waits for this thread: deadlock')
        : c.handler ? `this file's fault handler ${c.handler.fn}() takes ${h.cls} too: a user buffer that is an mmap of the same file deadlocks`
          : `${facet.faultTakes}: a user buffer that is an mmap of the same file deadlocks`;
      const sim = sims[i];
      const proven = sim.verdict === 'deadlock';
      const message = `${faultWords(site)} while ${lockWords(h)}: ${why}${proven ? ' (simulated: deadlock)' : ''}. ${FIX}`;
      const related: RelatedLocation[] = [{ range: h.site.range, message: `${h.cls} taken here (${h.site.callee}())` }];
      if (site.chain.length) related.push({ range: site.fault.range, message: `the call that faults: ${site.fault.callee}() in ${site.fault.fn}()` });
      if (c.handler) related.push({ range: c.handler.range, message: `${c.handler.fn}() handles page faults of this file and takes ${h.cls}` });
      out.push({
        rule: meta.id, severity: meta.severity, message, range: site.call.range, function: fn.name, related,
        ...(proven ? { trace: sim.steps } : {}),
      });
    }
    return out;
  },
};
