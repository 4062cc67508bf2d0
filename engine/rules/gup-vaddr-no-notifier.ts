// gup-vaddr-no-notifier (thread "vhost: access vq metadata through kernel virtual
// address", Jason Wang, 2019 — reverted for v5.3 after Andrea Arcangeli's and Jason Gunthorpe's
// review): pages taken by GUP mapped into the kernel (vmap, kmap, page_address) with the address
// kept past the function (stored in a field or global, or returned) while nothing tears the
// mapping down when the user mapping changes: no mmu notifier in the file. Silent for short-lived
// kmap_local_page()/kmap_atomic(), a mapping dropped in the same function, a file that registers
// an mmu (interval) notifier, and FOLL_LONGTERM pins (the documented long-term access).

import type { Finding } from '../findings';
import type { CallStmt, Expr, FunctionIR, Stmt } from '../ir';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { gupPagesOf, isGupArray, isGupPage, type GupPages } from '../analysis/gup-pages';
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

/** `e` is the address held in one of `names`, or that address plus an offset (`vaddr + off`). */
function addressIn(e: Expr, names: Set<string>): boolean {
  if (e.kind === 'var') return names.has(e.name);
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) return addressIn(e.left, names);
  return false;
}

interface Kept {
  kept: boolean;
  where?: string;
  /** The statement that stores the address past the function (absent for a field result or a return). */
  at?: Stmt;
}

/**
 * Whether the address a mapping call returns outlives the function: its result is a field or a
 * global, or the address (through local copies, `vaddr = v = page_address(...)`, and offsets,
 * `map->addr = vaddr + off`) is stored in a field or array element or returned — unless the
 * function unmaps it.
 */
function isKept(fn: FunctionIR, result: Expr | undefined): Kept {
  if (!result) return { kept: false };
  if (result.kind === 'field' || (result.kind === 'var' && !fn.locals[result.name] && !fn.params.some((p) => p.name === result.name) && !result.name.startsWith('$'))) return { kept: true, where: exprKey(result) };
  if (result.kind !== 'var') return { kept: false };
  const names = new Set([result.name]);
  const stmts = fn.blocks.flatMap((b) => b.stmts);
  // Through local copies and offsets (`vaddr = v = vmap(...)`, `map->addr = vaddr + off`).
  for (let pass = 0; pass < 2; pass++) {
    for (const s of stmts) if (s.kind === 'assign' && s.target.kind === 'var' && addressIn(s.value, names)) names.add(s.target.name);
  }
  const stored = (v: Expr): boolean => addressIn(v, names);
  let kept: Kept | undefined;
  let unmapped = false;
  for (const s of stmts) {
    if (s.kind === 'assign' && (s.target.kind === 'field' || s.target.kind === 'index') && stored(s.value)) kept ??= { kept: true, where: exprKey(s.target), at: s };
    // A return hands the address (and, with it, the references) to the caller: only the address
    // itself counts, as before (`return page_address(p) + off` gives the reference back too).
    if (s.kind === 'return' && s.value?.kind === 'var' && s.value.name === result.name) kept ??= { kept: true, where: 'the return value' };
    if (s.kind === 'call') {
      const u = lookupApi(s.callee)?.kunmap;
      const a = u ? s.args[u.arg] : undefined;
      if (a && a.kind === 'var' && names.has(a.name)) unmapped = true;
    }
  }
  return kept && !unmapped ? kept : { kept: false };
}

/** Where a statement is: its block and index. */
function positionOf(fn: FunctionIR, st: Stmt): { block: number; index: number } | undefined {
  for (const b of fn.blocks) {
    const i = b.stmts.indexOf(st);
    if (i >= 0) return { block: b.id, index: i };
  }
  return undefined;
}

/** Some path runs `from` and later `to` (same block in order, or `to`'s block reachable from `from`'s). */
function runsBefore(fn: FunctionIR, from: Stmt, to: Stmt): boolean {
  const a = positionOf(fn, from);
  const b = positionOf(fn, to);
  if (!a || !b) return false;
  if (a.block === b.block && a.index < b.index) return true;
  const byId = new Map(fn.blocks.map((x) => [x.id, x] as const));
  const seen = new Set<number>();
  const work = [...(byId.get(a.block)?.succs ?? []).map((e) => e.to)];
  while (work.length) {
    const id = work.pop()!;
    if (id === b.block) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of byId.get(id)?.succs ?? []) work.push(e.to);
  }
  return false;
}

/**
 * A release (API table `refs.op == 'release'`) of the GUP'd pages that runs before the address is
 * stored on some path: the kernel mapping then outlives the references that kept the pages (the
 * vhost v5.3-rc1 shape: GUP, release_pages() at once, page_address() kept, "the notifier will
 * tell us"). A notifier does not help: nothing holds the pages between the release and the
 * invalidate, and dirtying them there touches pages the kernel may already have reused.
 */
function droppedBefore(fn: FunctionIR, g: GupPages, fields: Set<string>, at: Stmt): CallStmt | undefined {
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const r = lookupApi(s.callee)?.refs;
      if (!r || r.op !== 'release') continue;
      const arg = s.args[r.pagesArg];
      if (!arg) continue;
      const ours = r.single ? isGupPage(arg, g, fields) : isGupArray(arg, g, fields);
      if (ours && runsBefore(fn, s, at)) return s;
    }
  }
  return undefined;
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
    if (!maps.length) return [];
    const notifier = hasNotifierOps(ctx.text);
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
      const acq = g.acquisitions[0];
      const taken = acq ? ` (${acq.call.callee}() on line ${acq.call.range.startRow + 1})` : '';
      const kept = isKept(fn, c.result);
      if (!kept.kept) continue;
      const dropped = kept.at ? droppedBefore(fn, g, fields, kept.at) : undefined;
      if (dropped) {
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
          message: `${c.callee}() maps pages taken by GUP${taken} and the address is kept in ${kept.where}, but ${dropped.callee}() on line ${dropped.range.startRow + 1} drops the page references first: nothing holds the pages while the kernel mapping lives${notifier ? ', and the mmu notifier of this file does not help (the pages can be freed and reused before it runs, and dirtying them in the callback touches pages nobody holds)' : ''}. Keep the references until the mapping is torn down (release them in the notifier's invalidate and in teardown), or copy with copy_to_user()/copy_from_user() instead of a kernel mapping.`,
          related: [
            ...(acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}())` }] : []),
            { range: dropped.range, message: `references dropped here (${dropped.callee}())` },
            ...(kept.at ? [{ range: kept.at.range, message: `the address is kept here (${kept.where})` }] : []),
          ],
        });
        continue;
      }
      if (notifier) continue;
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
        message: `${c.callee}() maps pages taken by GUP${taken} and the address is kept in ${kept.where}, but nothing drops the mapping when the user mapping changes (no mmu notifier in this file): after munmap, fork+COW or migration the kernel keeps accessing pages the process no longer maps. Register an mmu_interval_notifier that tears the mapping down on invalidate, or map with kmap_local_page() only around each access.`,
        related: [
          ...(acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}())` }] : []),
          ...(kept.at ? [{ range: kept.at.range, message: `the address is kept here (${kept.where})` }] : []),
        ],
      });
    }
    return out;
  },
};
