// gup-vaddr-no-notifier (thread "vhost: access vq metadata through kernel virtual
// address", Jason Wang, 2019 — reverted for v5.3 after Andrea Arcangeli's and Jason Gunthorpe's
// review): pages taken by GUP mapped into the kernel (vmap, kmap, page_address) with the address
// kept past the function (stored in a field or global, or returned) while nothing tears the
// mapping down when the user mapping changes: no mmu notifier in the file. Silent for short-lived
// kmap_local_page()/kmap_atomic(), a mapping dropped in the same function, a file that registers
// an mmu (interval) notifier, and FOLL_LONGTERM pins (the documented long-term access).

import type { Finding } from '../findings';
import type { Expr, FunctionIR } from '../ir';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { gupPagesOf, isGupArray, isGupPage } from '../analysis/gup-pages';
import { gupFieldsFor } from './gup-dirty-unlocked';
import { hasNotifierOps } from '../analysis/notifiers';
import { exprKey } from '../analysis/expr';
import { acquiresPageRefs } from './facets';

const meta: RuleMeta = {
  id: 'gup-vaddr-no-notifier',
  severity: 'warning',
  title: 'Kernel mapping of GUP\'d pages kept without an mmu notifier',
  docs: 'docs/rules/gup-vaddr-no-notifier.md',
  description:
    'Pages taken by get_user_pages() are mapped into the kernel (vmap, kmap, page_address) and the address is kept past the function, but nothing tears the mapping down when the user mapping changes (munmap, COW after fork, migration, truncate): the kernel keeps reading and writing pages the process no longer sees. Register an mmu_interval_notifier that drops the mapping on invalidate, use a FOLL_LONGTERM pin, or map with kmap_local_page() only for the access.',
};

function isKept(fn: FunctionIR, result: Expr | undefined): { kept: boolean; where?: string } {
  if (!result) return { kept: false };
  if (result.kind === 'field' || (result.kind === 'var' && !fn.locals[result.name] && !fn.params.some((p) => p.name === result.name) && !result.name.startsWith('$'))) return { kept: true, where: exprKey(result) };
  if (result.kind !== 'var') return { kept: false };
  let kept: string | undefined;
  let unmapped = false;
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind === 'assign' && s.value.kind === 'var' && s.value.name === result.name && (s.target.kind === 'field' || s.target.kind === 'index')) kept = exprKey(s.target);
      if (s.kind === 'return' && s.value?.kind === 'var' && s.value.name === result.name) kept ??= 'the return value';
      if (s.kind === 'call') {
        const u = lookupApi(s.callee)?.kunmap;
        const a = u ? s.args[u.arg] : undefined;
        if (a && a.kind === 'var' && a.name === result.name) unmapped = true;
      }
    }
  }
  return kept && !unmapped ? { kept: true, where: kept } : { kept: false };
}

export const gupVaddrNoNotifier: Rule = {
  meta,
  // A mapping is reported only when its page or array comes from a GUP acquisition of the file
  // (gupPagesOf: an acquiring call in the function itself, or a field such a function fills), in
  // the function that calls the mapping API itself, and nothing is read from helpers: neither
  // callers nor callees are needed.
  relevance: {
    trigger: (e) => !!e.kmapping || acquiresPageRefs(e),
    needs: [{ why: 'a page-reference acquisition', api: acquiresPageRefs }],
    callers: false,
    callees: false,
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const maps = fn.blocks.flatMap((b) => b.stmts).filter((s) => s.kind === 'call' && !!lookupApi(s.callee)?.kmapping);
    if (!maps.length || hasNotifierOps(ctx.text)) return [];
    const fields = gupFieldsFor(ctx.functionsByName);
    const g = gupPagesOf(fn, fields);
    if (g.acquisitions.length && g.acquisitions.every((a) => a.longterm)) return [];
    const out: Finding[] = [];
    for (const c of maps) {
      if (c.kind !== 'call') continue;
      const k = lookupApi(c.callee)!.kmapping!;
      if (k.kind === 'kmap-local') continue;
      const arg = c.args[k.pageArg];
      if (!arg) continue;
      const gup = k.kind === 'vmap' ? isGupArray(arg, g, fields) : isGupPage(arg, g, fields);
      if (!gup) continue;
      const kept = isKept(fn, c.result);
      if (!kept.kept) continue;
      const acq = g.acquisitions[0];
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
        message: `${c.callee}() maps pages taken by GUP${acq ? ` (${acq.call.callee}() on line ${acq.call.range.startRow + 1})` : ''} and the address is kept in ${kept.where}, but nothing drops the mapping when the user mapping changes (no mmu notifier in this file): after munmap, fork+COW or migration the kernel keeps accessing pages the process no longer maps. Register an mmu_interval_notifier that tears the mapping down on invalidate, or map with kmap_local_page() only around each access.`,
        related: acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}())` }] : [],
      });
    }
    return out;
  },
};
