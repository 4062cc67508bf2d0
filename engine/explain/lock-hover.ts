// Hover for fault-under-lock (issue 9): on a lock acquisition, what the page-fault path takes of
// that lock class (the table's `faultLock` facet, or "never"); on a call that can fault, the locks
// held there and, for each, why a fault can or cannot deadlock on it.

import type { FileIR, FunctionIR } from '../ir';
import { FaultSiteAnalysis } from '../analysis/fault-sites';
import { lockAnalysisFor, lockOf, realLocks } from '../analysis/locksets';
import { conflictOf, faultLockOf } from '../rules/fault-under-lock';
import { faultHandlerLocks } from '../analysis/fault-handlers';
import { lookupApi } from '../kernel/api-table';
import { ATOMIC_LOCK_CLASSES, FAULT_LOCK_BY_CLASS } from '../kernel/api/locks';
import type { SourceRange } from '../ir';
import { MAINLINE } from '../kernel/versions';

function inside(r: SourceRange, row: number, col: number): boolean {
  if (row < r.startRow || row > r.endRow) return false;
  if (row === r.startRow && col < r.startCol) return false;
  if (row === r.endRow && col > r.endCol) return false;
  return true;
}

export interface LockHoverOptions {
  /**
   * The kernel version the document is judged with (`faultline.kernel`, --kernel, the tree's
   * Makefile): what a call's ops table holds can end at a version (API table `ioHold.until`), and
   * the hover must say what the diagnostic says.
   */
  kernel?: string;
}

export function lockHover(file: FileIR, text: string, row: number, col: number, opts: LockHoverOptions = {}): { markdown: string; range: SourceRange } | undefined {
  const fn: FunctionIR | undefined = file.functions.find((f) => inside(f.range, row, col));
  if (!fn) return undefined;
  const byName = new Map(file.functions.map((f) => [f.name, f] as const));
  const cancelled = (): boolean => false;
  for (const b of fn.blocks) {
    for (const st of b.stmts) {
      if (st.kind !== 'call' || !inside(st.calleeRange, row, col)) continue;
      const l = lockOf(st);
      if (l && (l.op === 'acquire' || l.op === 'trylock')) {
        const facet = lookupApi(st.callee)?.faultLock ?? FAULT_LOCK_BY_CLASS[l.cls];
        let when = '';
        if (facet?.when === 'file-fault-handler') {
          // Say whether this file's own fault handler takes it, not just that it might.
          const handler = faultHandlerLocks(text, byName, cancelled).get(l.cls);
          when = handler
            ? `This file's fault handler \`${handler.fn}()\` takes it: a copy, fault-in or GUP that can fault while it is held can deadlock (fault-under-lock).`
            : 'No fault handler of this file takes it: a fault while it is held does not wait on it.';
        }
        const md = facet
          ? `**Page-fault path and \`${l.cls}\`:** ${facet.faultTakes}. ${when || (facet.conflicts === 'write' ? 'A conflict only when held for write.' : 'A copy, fault-in or GUP that can fault while it is held can deadlock (fault-under-lock).')}`
          : ATOMIC_LOCK_CLASSES.includes(l.cls)
            ? `**Page-fault path and \`${l.cls}\`:** the fault path does not take it, and while it is held the task is atomic: a user access fails instead of running the fault handler (no deadlock; a faulting copy needs a nofault variant and a retry).`
            : `**Page-fault path and \`${l.cls}\`:** the fault path does not take this lock class; a fault while holding it cannot deadlock on it.`;
        return { markdown: md, range: st.calleeRange };
      }
      const site = new FaultSiteAnalysis(byName, cancelled, opts.kernel ?? MAINLINE).sites(fn).find((s) => s.call === st);
      const api = lookupApi(st.callee);
      if (!site) {
        // A call that could fault, but not here: faults are off (pagefault_disable(), a nofault
        // iterator, a spinlock held) or the call is a nofault variant.
        const heldHere = api && (api.uaccess || api.faults || (api.faultIn && !api.faultIn.subpageOnly))
          ? realLocks(lockAnalysisFor(byName, cancelled).facts(fn).before.get(st)).filter((h) => !h.pending) : [];
        if (heldHere.length) {
          const names = [...new Set(heldHere.map((h) => `\`${h.cls}\``))].join(', ');
          return { markdown: `**Fault under lock:** \`${st.callee}()\` runs under ${names} but cannot take a page fault here (page faults are disabled: \`pagefault_disable()\`, an iterator marked \`nofault\`, a nofault copy, or a spinlock held): a fault makes the copy fail short instead of waiting on a lock, so no deadlock.`, range: st.calleeRange };
        }
        continue;
      }
      const held = realLocks(lockAnalysisFor(byName, cancelled).facts(fn).before.get(st));
      const own = site.opsHold && !site.chain.length
        ? `- \`${site.opsHold.cls}\` held by the call itself: its ops table \`${site.opsHold.ops}\`'s ->iomap_begin runs first — ${site.opsHold.holds}: **can deadlock** on a user buffer that maps the same file range.`
        : undefined;
      if (!held.length && !own) return { markdown: `**Fault under lock:** \`${st.callee}()\` can fault here, with no lock held: no deadlock on a lock.`, range: st.calleeRange };
      const lines = held.map((h) => {
        const c = conflictOf(site, h, { text, functionsByName: byName, cancelled });
        if (c) return `- \`${h.cls}\` (${h.site.callee}(), line ${h.site.range.startRow + 1}): **can deadlock** — ${c.facet.faultTakes}.`;
        if (h.demotable) return `- \`${h.cls}\`: held but demotable (the fault can take it): no deadlock.`;
        if (h.cls === 'mmap_lock' && site.mmapLock === 'caller-holds') return `- \`mmap_lock\`: \`${st.callee}()\` expects the caller to hold it: no deadlock.`;
        const f = faultLockOf(h);
        return `- \`${h.cls}\`: ${f ? `the fault path takes it only ${f.when === 'file-fault-handler' ? 'when this file\'s fault handler does (it does not)' : 'shared (held here for read)'}` : 'the fault path never takes it'}: no deadlock.`;
      });
      return { markdown: [`**Fault under lock:** \`${st.callee}()\` can take a page fault here with page faults enabled; locks held:`, ...lines, ...(own ? [own] : [])].join('\n'), range: st.calleeRange };
    }
  }
  return undefined;
}
