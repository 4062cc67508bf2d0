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
import { allApis, lookupApi } from '../kernel/api-table';
import { FAULT_LOCK_BY_CLASS, RWSEM_CLASS_BY_FIELD } from '../kernel/api/locks';
import { MAINLINE } from '../kernel/versions';
import { lockWritten } from '../analysis/lock-names';
import { oneLineText } from '../analysis/expr';
import type { FaultLockFacet } from '../kernel/api/seed-schema';
import { FaultSiteAnalysis, type FaultSite } from '../analysis/fault-sites';
import { lockAnalysisFor, realLocks, type HeldLock } from '../analysis/locksets';
import { faultHandlerLocks } from '../analysis/fault-handlers';
import { simulateLockFault, type LockFaultModel } from '../sim/from-c/lock-scenario';
import type { SimResult } from '../sim/scenario';
import { registerFunctionModels, registerModelSimulation, simulateModels } from '../sim/broker';
import { profileCoverage } from '../sim/coverage';
import { mayFault, mmapLockOp } from './facets';

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
  /** The lock is held by the call's own ops table (a direct-I/O ->iomap_begin), not by the caller. */
  opsHold?: NonNullable<FaultSite['opsHold']>;
}

/** The lock a direct-I/O call's ops table holds across its own fault-in, as a held lock at the call. */
function opsHeld(s: FaultSite): HeldLock | undefined {
  // Reached through a helper: the helper's own finding already names the call.
  if (!s.opsHold || s.chain.length) return undefined;
  return { cls: s.opsHold.cls, key: s.opsHold.ops, call: s.call, site: { fn: s.fault.fn, callee: s.opsHold.ops, range: s.fault.range }, chain: [] };
}

/**
 * The fault-lock facet of `h` when a fault anywhere could wait on it, whatever the faulting call:
 * a settled lock (not a pending trylock, not inside a window that may drop it) whose class the
 * fault path takes, in a mode that path conflicts with.
 */
function waitableFacet(h: HeldLock): FaultLockFacet | undefined {
  if (h.pending || h.demotable) return undefined;
  const facet = faultLockOf(h);
  if (!facet || (facet.conflicts === 'write' && h.mode !== 'write' && h.mode !== 'exclusive')) return undefined;
  return facet;
}

/** Whether a fault at `site` can wait on `h` (no when the call needs the caller to hold mmap_lock, or the class never conflicts). */
export function conflictOf(site: FaultSite, h: HeldLock, ctx: Pick<RuleContext, 'text' | 'functionsByName' | 'cancelled'>): Conflict | undefined {
  const facet = waitableFacet(h);
  if (!facet) return undefined;
  if (site.chain.length && site.releasedBefore.has(h.cls)) return undefined;
  if (h.cls === 'mmap_lock' && site.mmapLock === 'caller-holds') return undefined;
  if (facet.when === 'file-fault-handler') {
    const handler = faultHandlerLocks(ctx.text, ctx.functionsByName, ctx.cancelled).get(h.cls);
    if (!handler) return undefined;
    return { site, lock: h, facet, handler };
  }
  return { site, lock: h, facet };
}

/**
 * Whether a conflict is possible in `fn` at all. Every site's held locks are the function's own
 * before one of its calls (a helper's sites take the locks held at the call to the helper), and
 * conflictOf() takes only those with a waitableFacet(); the only other lock is the one a
 * direct-I/O call's ops table holds (opsHeld: a call of the function itself). With
 * neither, every site the analysis could find would be dropped: it is not run (its helpers and
 * page-fault regions). Linux 6.1: most checked functions hold no such lock.
 */
function mayConflict(fn: FunctionIR, ctx: Pick<RuleContext, 'functionsByName' | 'cancelled'>): boolean {
  const before = lockAnalysisFor(ctx.functionsByName, ctx.cancelled).facts(fn).before;
  for (const b of fn.blocks) {
    for (const st of b.stmts) {
      if (st.kind !== 'call') continue;
      if (lookupApi(st.callee)?.faults?.opsArg !== undefined) return true;
      if (realLocks(before.get(st)).some((h) => waitableFacet(h))) return true;
    }
  }
  return false;
}

/** Every (faulting call, held lock) conflict of a function. */
export function conflictsIn(fn: FunctionIR, ctx: Pick<RuleContext, 'text' | 'functionsByName' | 'cancelled' | 'kernel'>): Conflict[] {
  if (!mayConflict(fn, ctx)) return [];
  const sites = new FaultSiteAnalysis(ctx.functionsByName, ctx.cancelled, ctx.kernel ?? MAINLINE).sites(fn);
  const out: Conflict[] = [];
  const seen = new Set<string>();
  for (const s of sites) {
    const own = opsHeld(s);
    for (const h of [...realLocks(s.held), ...(own ? [own] : [])]) {
      const c = conflictOf(s, h, ctx);
      if (!c) continue;
      if (h === own) c.opsHold = s.opsHold!;
      const k = `${s.call.range.start}:${s.call.range.startRow}|${h.cls}|${h.key}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(c);
    }
  }
  return out;
}

function lockWords(h: HeldLock): string {
  const mode = h.mode === 'write' ? ' for write' : h.mode === 'exclusive' ? ' exclusive' : h.mode === 'read' || h.mode === 'shared' ? ' shared' : '';
  const inst = h.key !== h.cls ? ` (${h.key})` : '';
  return `${h.cls}${inst} held${mode} since ${h.site.callee}() on line ${h.site.range.startRow + 1}${h.chain.length ? ` (taken in ${h.chain.join('() -> ')}())` : ''}`;
}

function faultWords(s: FaultSite): string {
  const dir = s.direction === 'to-user' ? 'writes' : 'reads';
  const what = s.how === 'fault-in' ? 'faults the user buffer in' : s.how === 'gup' ? 'pins the user pages, faulting them in' : s.how === 'io' ? `${dir} the user iterator's memory` : `${dir} user memory`;
  return `${s.fault.callee}()${s.chain.length ? ` (in ${s.chain.join('() -> ')}())` : ''} ${what} with page faults enabled`;
}

/**
 * The simulation model of a conflict (plain data: it may run in the server's worker pool), with
 * the C text of the lock, the faulting call and the helper call, which the trace shows. A
 * direct-I/O conflict is modelled with the lock its ops table's ->iomap_begin takes; undefined when
 * the API table names no acquire for that lock class.
 */
function lockFaultModel(fn: FunctionIR, c: Conflict, ctx: Pick<RuleContext, 'text' | 'kernel'>): LockFaultModel | undefined {
  const { site } = c;
  const faultText = oneLineText(ctx.text, site.fault.range);
  const viaText = site.chain.length ? oneLineText(ctx.text, site.call.range) : undefined;
  const fault: LockFaultModel['fault'] = {
    callee: site.fault.callee, range: site.fault.range, direction: site.direction, fn: site.fault.fn, ...(faultText ? { text: faultText } : {}),
    ...(viaText ? { via: { fn: site.chain[0], text: viaText, range: site.call.range } } : {}),
  };
  const kernel = ctx.kernel ? { kernel: ctx.kernel } : {};
  const kind = site.direction === 'to-user' ? 'write' : 'read';
  const handler: LockFaultModel['handler'] | undefined = c.handler
    ? { name: `${c.handler.fn}()`, range: c.handler.range, own: true }
    : c.facet.takenBy ? { name: c.facet.takenBy[kind] } : undefined;
  if (c.opsHold) {
    const ops = c.opsHold;
    // ->iomap_begin takes it exclusive: model it with an acquisition that can say so (a fixed
    // exclusive mode, or one taken from an argument), so the trace does not call it shared.
    const acquires = allApis().filter((e) => e.lock?.op === 'acquire' && e.lock.lock === ops.cls && !e.removed);
    const acquire = (acquires.find((e) => e.lock!.mode === 'exclusive' || e.lock!.mode === 'write' || e.lock!.exclusiveWhen) ?? acquires[0])?.name;
    if (!acquire) return undefined;
    return {
      fn: fn.name, lock: { callee: acquire, cls: ops.cls, mode: 'exclusive', range: site.fault.range, text: `${ops.ops}->iomap_begin() inside ${site.fault.callee}()`, name: `the ${ops.cls} ${ops.ops}->iomap_begin() took` },
      fault, ...(handler ? { handler } : {}), ...kernel,
    };
  }
  const h = c.lock;
  const lockText = oneLineText(ctx.text, h.site.range);
  const helperText = h.chain.length ? oneLineText(ctx.text, h.call.range) : undefined;
  return {
    fn: fn.name,
    lock: {
      callee: h.site.callee, cls: h.cls, ...(h.mode ? { mode: h.mode } : {}), range: h.site.range, ...(lockText ? { text: lockText } : {}),
      name: lockWritten(h, c.facet, lockText), fn: h.site.fn, ...(helperText ? { via: { fn: h.chain[0], text: helperText, range: h.call.range } } : {}),
    },
    fault, ...(handler ? { handler } : {}), ...kernel,
  };
}

registerModelSimulation<LockFaultModel>(meta.id, (models, o) => models.map((m) => simulateLockFault({ ...m, cancelled: o.cancelled })));

registerFunctionModels(meta.id, (fn, ctx) => {
  const out: { models: LockFaultModel[]; labels: string[] } = { models: [], labels: [] };
  for (const c of conflictsIn(fn, ctx)) {
    const m = lockFaultModel(fn, c, ctx);
    if (!m) continue;
    out.models.push(m);
    out.labels.push(`${c.site.fault.callee}() on line ${c.site.fault.range.startRow + 1} under ${m.lock.name ?? c.lock.cls}`);
  }
  return out;
});

const FIX = 'Do the copy with page faults disabled (pagefault_disable(), a *_nofault copy, or iter->nofault = true), and on a short copy drop the lock, fault the buffer in, retake the lock and retry (the gfs2 fix, v5.16).';
const FIX_MMAP = 'Copy through a kernel buffer and touch user memory only after mmap_lock is dropped, or copy with page faults disabled and on a short copy drop mmap_lock, fault the buffer in and retry.';

/** A direct-I/O call whose own ->iomap_begin holds the file range while it faults the user pages in. */
function opsFinding(fn: FunctionIR, c: Conflict, sim: SimResult | undefined): Finding {
  const { site, opsHold } = c;
  const ops = opsHold!;
  const proven = sim?.verdict === 'deadlock';
  const via = site.chain.length ? ` (in ${site.chain.join('() -> ')}())` : '';
  const buffered = site.how === 'io';
  const what = buffered ? 'faults the user buffer in (fault_in_iov_iter_readable) with page faults enabled' : 'pins the user pages, faulting them in with page faults enabled';
  const fix = buffered
    ? 'Take the lock in the caller instead, copy with page faults disabled (pagefault_disable() around the call), and on a short copy drop the lock, fault the source in and retry (the gfs2 fix, v5.16: gfs2_file_buffered_write()).'
    : 'Set iter->nofault = true around the call, and on -EFAULT or a short result fault the rest in (fault_in_iov_iter_readable / _writeable) and call again, falling back to buffered I/O when no progress is made (the btrfs fix, v5.16).';
  const message = `${site.fault.callee}()${via} ${what}, after its own ->iomap_begin (${ops.ops}) took ${buffered ? 'the lock' : 'the file range'}: ${ops.holds}, so a user buffer that is an mmap of the same file${buffered ? '' : ' range'} deadlocks${proven ? ' (simulated: deadlock)' : ''}. ${fix}`;
  const related: RelatedLocation[] = [{ range: site.fault.range, message: `${ops.ops} passed here: its ->iomap_begin holds ${ops.cls}${buffered ? '' : ' for the range'}` }];
  if (site.chain.length) related.push({ range: site.fault.range, message: `the call that faults: ${site.fault.callee}() in ${site.fault.fn}()` });
  return { rule: meta.id, severity: meta.severity, message, range: site.call.range, function: fn.name, related, ...(proven && sim ? { trace: sim.steps, traceThreads: sim.threads } : {}), ...(sim ? { simulation: [profileCoverage(sim.arch, sim)] } : {}) };
}

export const faultUnderLock: Rule = {
  meta,
  // A conflict needs a lock the fault path can take (the trigger: its acquisition, a fault-lock
  // window, or a direct-I/O call whose ops table holds the range) and a call that can fault
  // (FaultSiteAnalysis: uaccess, fault-in, GUP, `faults` I/O entries), both named in the file.
  relevance: {
    trigger: (e) => !!(e.faultLock || e.faultLockWindow || e.ioHold) || e.faults?.opsArg !== undefined || mmapLockOp(e),
    // A plain rw-semaphore is a lock the fault path takes only on a field the table maps to such
    // a class (lockOf: RWSEM_CLASS_BY_FIELD); any other rwsem has no fault-lock facet.
    guardedTrigger: [{ api: (e) => e.lock?.lock === 'rwsem', words: () => Object.keys(RWSEM_CLASS_BY_FIELD).filter((f) => FAULT_LOCK_BY_CLASS[RWSEM_CLASS_BY_FIELD[f]]) }],
    needs: [{ why: 'a call that can fault', api: mayFault }],
    // Callers stay: a helper returns holding a lock, or faults, for them. Callees are needed only
    // if they reach an entry this rule's analyses read. They read a same-file helper only through
    // the lockset summaries (locksets.ts: the locks it returns holding and the caller's locks it
    // releases, from `lock` and `faultLockWindow` calls), the fault sites it contains
    // (fault-sites.ts: `uaccess`, `faultIn`, `faults` calls, minus those under a page-fault region
    // (pagefault.ts: `pagefault` toggles) or an atomic lock), and the locks the file's fault
    // handlers take (fault-handlers.ts: `lock` acquisitions). A helper that reaches none of these
    // has an empty summary, no site and no lock in each, at any nesting depth (pagefault.ts
    // summaryOf answers 'balanced' for it), which is what a call to a function outside the text
    // reads as; its `iter->nofault` marks never reach its caller. ioHold is read on the call's own
    // argument, not through helpers; it is in the set anyway.
    reads: { api: (e) => !!(e.lock || e.faultLockWindow || e.pagefault || e.uaccess || e.faultIn || e.faults || e.ioHold) },
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const out: Finding[] = [];
    const conflicts = conflictsIn(fn, ctx);
    // In the server the simulations run in the pool: no finding for the function until they finish.
    const models = conflicts.map((c) => lockFaultModel(fn, c, ctx));
    const given = models.filter((m): m is LockFaultModel => m !== undefined);
    const results = simulateModels(meta.id, { text: ctx.text, fn: fn.name, ...(ctx.kernel ? { kernel: ctx.kernel } : {}) }, given, ctx.cancelled);
    if (!results) return [];
    let next = 0;
    const sims = models.map((m) => (m ? results[next++] : undefined));
    for (const [i, c] of conflicts.entries()) {
      if (ctx.cancelled()) break;
      const { site, lock: h, facet } = c;
      if (c.opsHold) { out.push(opsFinding(fn, c, sims[i])); continue; }
      const why = h.cls === 'mmap_lock'
        ? (h.mode === 'write' ? 'the fault handler needs mmap_lock for read, which this thread holds for write: self-deadlock'
          : 'the fault handler takes mmap_lock for read again; a writer queued in between (mmap_write_lock in mprotect, munmap...) blocks it, and the writer waits for this thread: deadlock')
        : c.handler ? `this file's fault handler ${c.handler.fn}() takes ${h.cls} too, so a user buffer that is an mmap of this file deadlocks`
          : `${facet.faultTakes}, so a user buffer that is an mmap of the same file deadlocks`;
      const sim = sims[i];
      if (!sim) continue;
      const proven = sim.verdict === 'deadlock';
      const message = `${faultWords(site)} while ${lockWords(h)}: ${why}${proven ? ' (simulated: deadlock)' : ''}. ${h.cls === 'mmap_lock' ? FIX_MMAP : FIX}`;
      const related: RelatedLocation[] = [{ range: h.site.range, message: `${h.cls} taken here (${h.site.callee}())` }];
      if (site.chain.length) related.push({ range: site.fault.range, message: `the call that faults: ${site.fault.callee}() in ${site.fault.fn}()` });
      if (c.handler) related.push({ range: c.handler.range, message: `${c.handler.fn}() handles page faults of this file and takes ${h.cls}` });
      out.push({
        rule: meta.id, severity: meta.severity, message, range: site.call.range, function: fn.name, related,
        ...(proven ? { trace: sim.steps, traceThreads: sim.threads } : {}),
        simulation: [profileCoverage(sim.arch, sim)],
      });
    }
    return out;
  },
};
