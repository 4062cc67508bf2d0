// Hover for fault-under-lock (issue 9): on a lock acquisition, what the page-fault path takes of
// that lock class (the table's `faultLock` facet, or "never"); on a call that can fault, the locks
// held there and, for each, why a fault can or cannot deadlock on it.

import type { FileIR, FunctionIR } from '../ir';
import { FaultSiteAnalysis } from '../analysis/fault-sites';
import { lockAnalysisFor, lockOf, realLocks } from '../analysis/locksets';
import { conflictOf, faultLockOf } from '../rules/fault-under-lock';
import { FAULT_LOCK_BY_CLASS } from '../kernel/api/locks';
import type { SourceRange } from '../ir';

function inside(r: SourceRange, row: number, col: number): boolean {
  if (row < r.startRow || row > r.endRow) return false;
  if (row === r.startRow && col < r.startCol) return false;
  if (row === r.endRow && col > r.endCol) return false;
  return true;
}

export function lockHover(file: FileIR, text: string, row: number, col: number): { markdown: string; range: SourceRange } | undefined {
  const fn: FunctionIR | undefined = file.functions.find((f) => inside(f.range, row, col));
  if (!fn) return undefined;
  const byName = new Map(file.functions.map((f) => [f.name, f] as const));
  const cancelled = (): boolean => false;
  for (const b of fn.blocks) {
    for (const st of b.stmts) {
      if (st.kind !== 'call' || !inside(st.calleeRange, row, col)) continue;
      const l = lockOf(st);
      if (l && (l.op === 'acquire' || l.op === 'trylock')) {
        const facet = FAULT_LOCK_BY_CLASS[l.cls];
        const md = facet
          ? `**Page-fault path and \`${l.cls}\`:** ${facet.faultTakes}. ${facet.when === 'file-fault-handler' ? 'Only a conflict in files whose own fault handler takes it.' : facet.conflicts === 'write' ? 'A conflict only when held for write.' : 'A copy, fault-in or GUP that can fault while it is held can deadlock (fault-under-lock).'}`
          : `**Page-fault path and \`${l.cls}\`:** the fault path does not take this lock class; a fault while holding it cannot deadlock on it (it may still sleep in atomic context if it is a spinlock).`;
        return { markdown: md, range: st.calleeRange };
      }
      const site = new FaultSiteAnalysis(byName, cancelled).sites(fn).find((s) => s.call === st);
      if (!site) continue;
      const held = realLocks(lockAnalysisFor(byName, cancelled).facts(fn).before.get(st));
      if (!held.length) return { markdown: `**Fault under lock:** \`${st.callee}()\` can fault here, with no lock held: no deadlock on a lock.`, range: st.calleeRange };
      const lines = held.map((h) => {
        const c = conflictOf(site, h, { text, functionsByName: byName, cancelled });
        if (c) return `- \`${h.cls}\` (${h.site.callee}(), line ${h.site.range.startRow + 1}): **can deadlock** — ${c.facet.faultTakes}.`;
        if (h.demotable) return `- \`${h.cls}\`: held but demotable (the fault can take it): no deadlock.`;
        if (h.cls === 'mmap_lock' && site.mmapLock === 'caller-holds') return `- \`mmap_lock\`: \`${st.callee}()\` expects the caller to hold it: no deadlock.`;
        const f = faultLockOf(h);
        return `- \`${h.cls}\`: ${f ? `the fault path takes it only ${f.when === 'file-fault-handler' ? 'when this file\'s fault handler does (it does not)' : 'shared (held here for read)'}` : 'the fault path never takes it'}: no deadlock.`;
      });
      return { markdown: [`**Fault under lock:** \`${st.callee}()\` can take a page fault here with page faults enabled; locks held:`, ...lines].join('\n'), range: st.calleeRange };
    }
  }
  return undefined;
}
