// wrprotect-under-read-lock (thread "fs/task_mmu: acquire mmap_lock for write on soft-dirty
// cleanup"; commit "mm: fix clear_refs_write locking", January 2021,
// 29a951dfb3c3, and the thread on COW of pinned pages that led to it): PTEs write-protected
// (soft-dirty clearing, uffd-wp, ptep_set_wrprotect / pte_wrprotect in a page-walk callback of the
// file) while mmap_lock is held only for read and the TLB flush is deferred. A write fault racing
// the walk sees a read-only PTE while other CPUs still write through stale TLB entries; since
// v5.9 do_wp_page() decides reuse by page_count, so a GUP-pinned page is copied and the pin and
// the mapping diverge. Before v5.9 (reuse by mapcount) the same code is fine.

import type { Finding, RelatedLocation } from '../findings';
import type { CallStmt, FunctionIR } from '../ir';
import type { Rule, RuleContext, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { MAINLINE, kernelSwitches } from '../kernel/versions';
import { heldOfClass, lockAnalysisFor, lockOf, type HeldLock } from '../analysis/locksets';
import { WrprotectSiteAnalysis } from '../analysis/wrprotect-sites';
import { simulateWrprotect, type WrprotectModel } from '../sim/from-c/wrprotect-scenario';
import { FAULT_LOCK_BY_CLASS } from '../kernel/api/locks';
import { lockWritten } from '../analysis/lock-names';
import { oneLineText } from '../analysis/expr';
import { registerFunctionModels, registerModelSimulation, simulateModels } from '../sim/broker';
import { profileCoverage } from '../sim/coverage';
import { mmapOrRwsemLock } from './facets';
import { writeLockFix } from '../analysis/lock-upgrade';

const meta: RuleMeta = {
  id: 'wrprotect-under-read-lock',
  severity: 'error',
  title: 'PTEs write-protected under mmap_read_lock with a deferred TLB flush',
  docs: 'docs/rules/wrprotect-under-read-lock.md',
  description:
    'PTEs are write-protected (soft-dirty clearing, uffd-wp, ptep_set_wrprotect / pte_wrprotect in a page-walk callback) while mmap_lock is held only for read and the TLB flush is deferred to the end of the walk. A concurrent write fault sees the read-only PTE while another CPU still writes through its stale TLB entry, and since v5.9 do_wp_page() copies a page whose count is raised by a GUP pin: the pinned page and the mapped page diverge. Take mmap_write_lock, or pair inc_tlb_flush_pending() with a fault path that flushes when mm_tlb_flush_pending(). Proven by simulation, with the trace.',
};

registerModelSimulation<WrprotectModel>(meta.id, (models, o) => models.map((m) => simulateWrprotect({ ...m, cancelled: o.cancelled })));

/** The table's TLB flush operations (engine/kernel/api/mm.ts). */
const TLB_FLUSH_OPS = new Set(['flush-tlb-mm', 'flush-tlb-range', 'flush-tlb-page']);

type Picked = { s: ReturnType<WrprotectSiteAnalysis['sites']>[number]; read: HeldLock };

/**
 * The write-protects of a function that run under mmap_read_lock (kernel versions where the race
 * exists), each with the simulation model of its trace. Plain data: the server's pool and
 * "Simulate this function" run the models as they are.
 */
function wrprotectModels(fn: FunctionIR, ctx: Pick<RuleContext, 'text' | 'functionsByName' | 'kernel' | 'cancelled'>): { picked: Picked[]; models: WrprotectModel[] } {
  const none = { picked: [], models: [] };
  const sw = kernelSwitches(ctx.kernel ?? MAINLINE);
  if (sw.wpReuse === 'mapcount') return none;
  const sites = new WrprotectSiteAnalysis(ctx.functionsByName, ctx.text, ctx.cancelled).sites(fn);
  if (!sites.length) return none;
  const locks = lockAnalysisFor(ctx.functionsByName, ctx.cancelled).facts(fn);
  const pendingFlush = fn.blocks.some((b) => b.stmts.some((s) => s.kind === 'call' && lookupApi(s.callee)?.mem?.op === 'inc-tlb-flush-pending'));
  const seen = new Set<string>();
  const picked: Picked[] = [];
  for (const s of sites) {
    const held = heldOfClass(locks.before.get(s.call), 'mmap_lock');
    const read = held.find((h) => h.mode === 'read' || h.mode === 'shared');
    if (!read || held.some((h) => h.mode === 'write')) continue;
    // uffd-wp: since ~v5.12 do_wp_page flushes a pending flush on uffd-wp VMAs before deciding.
    if (s.wp.kind === 'uffd-wp' && pendingFlush && sw.wpFlushesPendingUffd) continue;
    const k = `${s.call.range.start}:${s.call.range.startRow}`;
    if (seen.has(k)) continue;
    seen.add(k);
    picked.push({ s, read });
  }
  // The C text of the lock, the write-protect and the function's calls: the trace shows them.
  const calls = fn.blocks.flatMap((b) => b.stmts).flatMap((c) => {
    if (c.kind !== 'call') return [];
    const t = oneLineText(ctx.text, c.range);
    return t ? [{ callee: c.callee, text: t, range: c.range }] : [];
  });
  const models = picked.map(({ s, read }): WrprotectModel => {
    const lockText = oneLineText(ctx.text, read.site.range);
    // Whether the C drops mmap_lock before its TLB flush (the first of each after the site, in
    // source order): the model follows, so the trace shows the C's lines in the C's order.
    const after = fn.blocks.flatMap((b) => b.stmts).filter((c): c is CallStmt => c.kind === 'call' && c.range.start > s.call.range.start).sort((a, b) => a.range.start - b.range.start);
    const unlock = after.find((c) => { const l = lockOf(c); return l?.cls === 'mmap_lock' && l.op === 'release'; });
    const flush = after.find((c) => TLB_FLUSH_OPS.has(lookupApi(c.callee)?.mem?.op ?? ''));
    const flushAfterUnlock = !!unlock && !!flush && unlock.range.start < flush.range.start;
    const wpText = oneLineText(ctx.text, s.wp.range);
    return {
      fn: fn.name,
      lock: { callee: read.site.callee, range: read.site.range, ...(lockText ? { text: lockText } : {}) },
      wp: { range: s.wp.range, ...(wpText ? { text: wpText } : {}), ...(s.chain.length ? { where: s.chain.length === 1 && s.chain[0] === s.wp.fn ? `in ${s.wp.fn}()` : `in ${s.wp.fn}(), through ${s.chain.join(' -> ')}` } : {}) },
      lockName: lockWritten(read, FAULT_LOCK_BY_CLASS[read.cls], lockText),
      calls,
      site: s.call.range,
      ...(flushAfterUnlock ? { flushAfterUnlock } : {}),
      ...(ctx.kernel ? { kernel: ctx.kernel } : {}),
    };
  });
  return { picked, models };
}

registerFunctionModels(meta.id, (fn, ctx) => {
  const { picked, models } = wrprotectModels(fn, ctx);
  return { models, labels: picked.map(({ s, read }) => `${s.wp.callee}() on line ${s.wp.range.startRow + 1} under ${read.site.callee}() on line ${read.site.range.startRow + 1}`) };
});

export const wrprotectUnderReadLock: Rule = {
  meta,
  // A site is a `wrprotect` call, direct or reached through a page walk's callbacks or a helper
  // (WrprotectSiteAnalysis); it is reported only under mmap_lock (a table lock call).
  relevance: {
    trigger: (e) => !!(e.wrprotect || e.pageWalk) || mmapOrRwsemLock(e),
    needs: [{ why: 'a write-protect call', api: (e) => !!e.wrprotect }, { why: 'an mmap_lock operation', api: mmapOrRwsemLock }],
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const { picked, models } = wrprotectModels(fn, ctx);
    if (!models.length) return [];
    const out: Finding[] = [];
    // In the server the simulations run in the pool: no finding for the function until they finish.
    const sims = simulateModels(meta.id, { text: ctx.text, fn: fn.name, ...(ctx.kernel ? { kernel: ctx.kernel } : {}) }, models, ctx.cancelled);
    if (!sims) return [];
    for (const [i, { s, read }] of picked.entries()) {
      const what = s.wp.kind === 'soft-dirty' ? 'clears soft-dirty and write-protects PTEs' : s.wp.kind === 'uffd-wp' ? 'marks PTEs uffd-wp (read-only)' : 'write-protects PTEs';
      const via = s.chain.length ? ` through ${s.chain.join(' -> ')}` : '';
      const sim = sims[i];
      const proven = sim.verdict === 'data-loss' || sim.verdict === 'stale-tlb';
      const message = `${s.call.callee}() ${what}${via} (${s.wp.callee}()) while mmap_lock is held only for read (${read.site.callee}() on line ${read.site.range.startRow + 1}) and the TLB flush comes later: `
        + `a concurrent write fault can COW a page that a GUP pin still references (do_wp_page() reuses by page_count since v5.9) while another CPU writes through its stale TLB entry`
        + `${proven ? ` (simulated on ${sim.kernel}: ${sim.verdict})` : ''}. Take mmap_write_lock() for the write-protect (29a951dfb3c3), or flush before dropping the PTE lock.`;
      const related: RelatedLocation[] = [
        { range: read.site.range, message: `mmap_lock taken for read (${read.site.callee}())` },
        { range: s.wp.range, message: `${s.wp.callee}() in ${s.wp.fn}(): the PTE becomes read-only, the TLB is not flushed here` },
      ];
      // 29a951dfb3c3's fix, when it is a rename of the read lock and its unlocks in this function.
      const fix = writeLockFix(fn, ctx.functionsByName, read, ctx.kernel);
      out.push({ rule: meta.id, severity: meta.severity, message, range: s.call.range, function: fn.name, related, ...(proven ? { trace: sim.steps, traceThreads: sim.threads } : {}), simulation: [profileCoverage(sim.arch, sim)], ...(fix ? { fixes: [fix] } : {}) });
    }
    return out;
  },
};
