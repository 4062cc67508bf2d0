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
import { gupFieldSourcesOfFile, gupFieldsOfFile, gupPagesOf, holderType, isGupArray, isGupPage } from '../analysis/gup-pages';
import { heldOfClass, lockAnalysisFor } from '../analysis/locksets';
import { notifierCallbacks } from '../analysis/notifiers';
import { acquiresPageRefs, takesOrDropsPageRefs } from './facets';
import { WRITE_GUP_FLAGS } from '../kernel/api/vma';
import { fileFact } from '../analysis/file-facts';

const meta: RuleMeta = {
  id: 'gup-dirty-unlocked',
  severity: 'warning',
  title: 'GUP\'d page dirtied without the page lock',
  docs: 'docs/rules/gup-dirty-unlocked.md',
  description:
    'set_page_dirty() on a page taken by get_user_pages()/pin_user_pages(), outside the page lock and outside an mmu-notifier invalidate callback. If the user mapping is a shared file, writeback may already have cleaned the page and try_to_free_buffers() stripped its buffers: dirtying it unlocked races that and the data may never be written back. Use set_page_dirty_lock() or unpin_user_pages_dirty_lock().',
};

const fileFields = new WeakMap<Map<string, FunctionIR>, Set<string>>();

/** Fields of the file's structs that some function fills with GUP'd pages (a file-wide fact). */
export const gupFieldsFor = fileFact('gupFields', (byName: Map<string, FunctionIR>): Set<string> => {
  let f = fileFields.get(byName);
  if (!f) { f = gupFieldsOfFile([...byName.values()]); fileFields.set(byName, f); }
  return f;
});

/** The file takes pages with GUP somewhere (so a page it releases with a GUP release is likely one). */
const fileGups = fileFact('fileGups', (byName: Map<string, FunctionIR>): boolean => {
  for (const f of byName.values()) if (gupPagesOf(f).acquisitions.length) return true;
  return false;
});

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

/** A call that marks a page dirty (set_page_dirty*, SetPageDirty, a release that dirties). */
function dirtyingArg(s: Stmt): Expr | undefined {
  if (s.kind !== 'call') return undefined;
  const api = lookupApi(s.callee);
  if (!api) return undefined;
  if (api.mem?.op === 'set-page-dirty' || api.mem?.op === 'set-page-dirty-lock' || api.rawDirty) return s.args[api.mem?.pageArg ?? 0];
  if (api.refs?.op === 'release' && api.refs.dirties) return s.args[api.refs.pagesArg];
  return undefined;
}

interface WriteField {
  field: string;
  /** The struct type that holds the field, when the storing code declares it. */
  holder?: string;
  /** The write acquisition that fills it. */
  acq: { fn: string; call: import('../ir').CallStmt };
}

const writeFieldsMemo = new WeakMap<Map<string, FunctionIR>, WriteField[]>();

/**
 * Fields of the file's structs that hold pages GUP took for write and that no function of the file
 * ever marks dirty (no set_page_dirty*, no dirtying release of those pages). Only where the code
 * selects FOLL_WRITE per transfer (a direction test): then the pages taken writable are the ones
 * written into. A FOLL_WRITE that is always there may only break COW for a buffer the device
 * reads (registered memory), which needs no dirtying.
 */
const neverDirtiedWriteFields = fileFact('neverDirtiedWriteFields', (byName: Map<string, FunctionIR>): WriteField[] => {
  const hit = writeFieldsMemo.get(byName);
  if (hit) return hit;
  const fns = [...byName.values()];
  const out: WriteField[] = [];
  for (const [field, sources] of gupFieldSourcesOfFile(fns)) {
    const w = sources.find((x) => x.writeSelected);
    if (!w) continue;
    const only = new Set([field]);
    // Another struct's field of the same name (`map->pages` beside `batch->pages`) is not these pages.
    const other = (f: FunctionIR, x: Expr): boolean => { const t = holderType(f, x); return !!t && !!w.holder && t !== w.holder; };
    const dirtied = fns.some((f) => {
      const g = gupPagesOf(f, only);
      const ours = (x: Expr): boolean => (isGupPage(x, g, only) || isGupArray(x, g, only)) && !other(f, x);
      return f.blocks.some((b) => b.stmts.some((st) => {
        const a = dirtyingArg(st);
        if (a) return ours(a);
        if (st.kind !== 'call') return false;
        // The pages are handed over (a table hand-off: bio_add_page, sg_set_page...), or the array
        // goes to a function out of sight (neither in the table nor in this file): either may
        // dirty them. One page passed to an unknown function is usually read (its pfn, its address).
        const api = lookupApi(st.callee);
        if (api?.refs?.op === 'handoff') return st.args.some(ours);
        return !api && !byName.has(st.callee) && st.args.some((x) => isGupArray(x, g, only) && !other(f, x));
      }));
    });
    if (!dirtied) out.push({ field, ...(w.holder ? { holder: w.holder } : {}), acq: { fn: w.fn, call: w.call } });
  }
  writeFieldsMemo.set(byName, out);
  return out;
});

/** Every call of `callee` in the file is in function `caller` (and there is at least one). */
const onlyCalledFrom = fileFact('onlyCalledFrom', (callee: string, caller: string, byName: Map<string, FunctionIR>): boolean => {
  let n = 0;
  for (const f of byName.values()) {
    for (const b of f.blocks) {
      for (const st of b.stmts) {
        if (st.kind !== 'call' || st.callee !== callee) continue;
        if (f.name !== caller) return false;
        n++;
      }
    }
  }
  return n > 0;
});

/** Releases in `fn` (without dirtying) of pages kept in a field filled for write and never dirtied. */
function undirtiedReleases(fn: FunctionIR, byName: Map<string, FunctionIR>): Finding[] {
  const fields = neverDirtiedWriteFields(byName);
  if (!fields.length) return [];
  const out: Finding[] = [];
  for (const wf of fields) {
    // Releases in the function that takes the pages, or in a helper only it calls, are its unwind
    // paths: nothing was written yet.
    if (wf.acq.fn === fn.name || onlyCalledFrom(fn.name, wf.acq.fn, byName)) continue;
    const only = new Set([wf.field]);
    const g = gupPagesOf(fn, only);
    for (const b of fn.blocks) {
      for (const st of b.stmts) {
        if (st.kind !== 'call') continue;
        const r = lookupApi(st.callee)?.refs;
        if (!r || r.op !== 'release' || r.dirties || r.container) continue;
        const a = st.args[r.pagesArg];
        if (!a || !(r.single ? isGupPage(a, g, only) : isGupArray(a, g, only))) continue;
        const t = holderType(fn, a);
        if (t && wf.holder && t !== wf.holder) continue;
        const acq = wf.acq.call;
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: st.range,
          message: `${st.callee}() releases pages taken for write (${acq.callee}() with FOLL_WRITE chosen per transfer in ${wf.acq.fn}(), line ${acq.range.startRow + 1}, kept in ->${wf.field}) and no function of this file ever marks them dirty: what was written into them (by the device or the kernel) is lost when reclaim finds the page clean, and a shared file page is never written back. Dirty them under the page lock before the release: set_page_dirty_lock(), or unpin_user_pages_dirty_lock(pages, n, make_dirty) for pinned pages.`,
          related: [{ range: acq.range, message: `pages taken for write here (${acq.callee}())` }],
        });
      }
    }
  }
  return out;
}

export const gupDirtyUnlocked: Rule = {
  meta,
  // Both findings are about pages a GUP acquisition of this file took (gupPagesOf, the file's
  // GUP'd fields, fileGups): without an acquiring call in the file there is nothing to report.
  relevance: {
    trigger: (e) => takesOrDropsPageRefs(e) || e.mem?.op === 'set-page-dirty',
    needs: [
      { why: 'a page-reference acquisition', api: acquiresPageRefs },
      // undirtiedReleases: fields filled by an acquisition whose FOLL_WRITE is chosen per transfer;
      // the other finding: a dirtying call (set_page_dirty(), SetPageDirty()) on a GUP'd page.
      { why: 'a per-transfer write flag or a dirtying call', api: (e) => e.mem?.op === 'set-page-dirty' || !!e.rawDirty, words: () => WRITE_GUP_FLAGS },
    ],
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const undirtied = undirtiedReleases(fn, ctx.functionsByName);
    if (undirtied.length) return undirtied;
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
      if (heldOfClass(locks.before.get(c), 'page_lock').length) continue;
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
