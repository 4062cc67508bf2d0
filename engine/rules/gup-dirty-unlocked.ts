// gup-dirty-unlocked (thread "vhost: access vq metadata through kernel virtual address" and Jan
// Kara's 2018 report on GUP'd file pages dirtied after writeback, "get_user_pages() and
// filesystems"): set_page_dirty() (not _lock) on pages taken by GUP, outside the page lock and
// outside an mmu-notifier invalidate callback. A shared file page may have had its buffers stripped
// by try_to_free_buffers() after writeback; dirtying it without the page lock races that (ext4
// warns, data is lost). Silent for set_page_dirty_lock(), unpin_user_pages_dirty_lock() (they have
// no `set-page-dirty` op), under lock_page()/trylock_page(), and in a function registered as an mmu
// notifier's invalidate callback in this file.

import type { Finding } from '../findings';
import type { Expr, FunctionIR, Stmt } from '../ir';
import { exprKey } from '../analysis/expr';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { gupFieldsOfFile, gupPagesOf, isGupPage } from '../analysis/gup-pages';
import { lockAnalysisFor, realLocks } from '../analysis/locksets';
import { notifierCallbacks } from '../analysis/notifiers';

const meta: RuleMeta = {
  id: 'gup-dirty-unlocked',
  severity: 'warning',
  title: 'GUP\'d page dirtied without the page lock',
  docs: 'docs/rules/gup-dirty-unlocked.md',
  description:
    'set_page_dirty() on a page taken by get_user_pages()/pin_user_pages(), outside the page lock and outside an mmu-notifier invalidate callback. If the user mapping is a shared file, writeback may already have cleaned the page and try_to_free_buffers() stripped its buffers: dirtying it unlocked races that and the data may never be written back. Use set_page_dirty_lock() or unpin_user_pages_dirty_lock().',
};

const fileFields = new WeakMap<Map<string, FunctionIR>, Set<string>>();

export function gupFieldsFor(byName: Map<string, FunctionIR>): Set<string> {
  let f = fileFields.get(byName);
  if (!f) { f = gupFieldsOfFile([...byName.values()]); fileFields.set(byName, f); }
  return f;
}

/** The file takes pages with GUP somewhere (so a page it releases with a GUP release is likely one). */
function fileGups(byName: Map<string, FunctionIR>): boolean {
  for (const f of byName.values()) if (gupPagesOf(f).acquisitions.length) return true;
  return false;
}

/**
 * The dirtying runs in a container-iteration macro loop (for_each_sg_page and kin): the pages come
 * from a scatterlist or array the file filled, not from a page-table lookup (which mm's own code
 * does under the PTE or folio lock).
 */
function inMacroLoop(fn: FunctionIR, c: Stmt): boolean {
  const block = fn.blocks.find((b) => b.stmts.includes(c));
  return !!block && fn.loops.some((l) => !!l.macro && l.body.includes(block.id));
}

/** The function drops a reference on this same page with a release of the table (put_page, unpin_user_page). */
function releasedHere(fn: FunctionIR, page: Expr): boolean {
  const key = exprKey(page);
  return fn.blocks.some((b) => b.stmts.some((s) => {
    if (s.kind !== 'call') return false;
    const r = lookupApi(s.callee)?.refs;
    return !!r && r.op === 'release' && !!r.single && !!s.args[r.pagesArg] && exprKey(s.args[r.pagesArg]) === key;
  }));
}

export const gupDirtyUnlocked: Rule = {
  meta,
  check(fn: FunctionIR, ctx): Finding[] {
    const calls = fn.blocks.flatMap((b) => b.stmts).filter((s) => s.kind === 'call' && (lookupApi(s.callee)?.mem?.op === 'set-page-dirty' || !!lookupApi(s.callee)?.rawDirty));
    if (!calls.length) return [];
    if (notifierCallbacks(ctx.text).has(fn.name)) return [];
    const fields = gupFieldsFor(ctx.functionsByName);
    const g = gupPagesOf(fn, fields);
    const locks = lockAnalysisFor(ctx.functionsByName, ctx.cancelled).facts(fn);
    const out: Finding[] = [];
    for (const c of calls) {
      if (c.kind !== 'call') continue;
      const api = lookupApi(c.callee)!;
      const arg = c.args[api.mem?.pageArg ?? 0];
      if (!arg || !(isGupPage(arg, g, fields) || (fileGups(ctx.functionsByName) && inMacroLoop(fn, c) && releasedHere(fn, arg)))) continue;
      if (realLocks(locks.before.get(c)).some((h) => h.cls === 'page_lock' && !h.pending)) continue;
      const acq = g.acquisitions[0];
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
        message: `${c.callee}() ${api.rawDirty ? '(PG_dirty set directly, no ->dirty_folio, no lock) ' : ''}on a page taken by GUP${acq ? ` (${acq.call.callee}() on line ${acq.call.range.startRow + 1})` : ''} without the page lock: if the user mapping is a shared file, writeback may have cleaned the page and try_to_free_buffers() stripped its buffers, and this unlocked dirtying races it. Use set_page_dirty_lock() (or unpin_user_pages_dirty_lock() for pinned pages).`,
        related: acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}())` }] : [],
        // The table names the drop-in variant that takes the page lock (set_page_dirty_lock()).
        fixes: api.mem?.lockedVariant && lookupApi(api.mem.lockedVariant) ? [{ title: `Use ${api.mem.lockedVariant}()`, edits: [{ range: c.calleeRange, newText: api.mem.lockedVariant }] }] : [],
      });
    }
    return out;
  },
};
