// gup-dirty-unlocked (thread "vhost: access vq metadata through kernel virtual address" and Jan
// Kara's 2018 report on GUP'd file pages dirtied after writeback, "get_user_pages() and
// filesystems"): set_page_dirty() (not _lock) on pages taken by GUP, outside the page lock and
// outside an mmu-notifier callback that checks the pages are writable. A shared file page may have
// had its buffers stripped by try_to_free_buffers() after writeback; dirtying it without the page
// lock races that (ext4 warns, data is lost). Silent for set_page_dirty_lock(),
// unpin_user_pages_dirty_lock() (they have no `set-page-dirty` op), under lock_page()/trylock_page(),
// and in an mmu notifier's callback registered in this file (or a helper only such callbacks call,
// analysis/notifier-context.ts) when the dirtying is reached only through the write check
// (analysis/gup-write-guard.ts). Any dirtying, locked or not,
// of a page whose references were already dropped (analysis/gup-dropped.ts) fires on its own: "it
// is ok to call set_page_dirty from the mmu notifier (but not after)".

import type { Finding } from '../findings';
import type { ApiEntry } from '../kernel/api-schema';
import type { CallStmt, Expr, FunctionIR, Stmt } from '../ir';
import { exprKey } from '../analysis/expr';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { gupFieldSourcesOfFile, gupFieldsOfFile, gupPagesOf, holderType, isGupArray, isGupPage, NO_FIELDS, strip, type GupFieldSource, type GupPages } from '../analysis/gup-pages';
import { droppedFacts, releasedAt } from '../analysis/gup-dropped';
import { fileWriteSelectors, writableGuarded } from '../analysis/gup-write-guard';
import { heldOfClass, lockAnalysisFor } from '../analysis/locksets';
import { notifierContext } from '../analysis/notifier-context';
import { acquiresPageRefs, takesOrDropsPageRefs } from './facets';
import { WRITE_GUP_FLAGS } from '../kernel/api/vma';
import { fileFact } from '../analysis/file-facts';

const meta: RuleMeta = {
  id: 'gup-dirty-unlocked',
  severity: 'warning',
  title: 'GUP\'d page dirtied without the page lock',
  docs: 'docs/rules/gup-dirty-unlocked.md',
  description:
    'set_page_dirty() on a page taken by get_user_pages()/pin_user_pages(), outside the page lock and outside an mmu-notifier callback that checks the pages are writable, or any dirtying of such a page after its references were dropped. If the user mapping is a shared file, writeback may already have cleaned the page and try_to_free_buffers() stripped its buffers: dirtying it unlocked races that and the data may never be written back. Use set_page_dirty_lock() or unpin_user_pages_dirty_lock().',
};

const fileFields = new WeakMap<Map<string, FunctionIR>, Set<string>>();

/** Fields of the file's structs that some function fills with GUP'd pages (a file-wide fact). */
export const gupFieldsFor = fileFact('gupFields', (byName: Map<string, FunctionIR>): Set<string> => {
  let f = fileFields.get(byName);
  if (!f) { f = gupFieldsOfFile([...byName.values()]); fileFields.set(byName, f); }
  return f;
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

/** Fields of the file that hold GUP'd pages, with the acquisitions that fill them (a file-wide fact). */
const fieldSourcesFor = fileFact('gupFieldSources', (byName: Map<string, FunctionIR>): Map<string, GupFieldSource[]> => gupFieldSourcesOfFile([...byName.values()]));

/** `e` reads a field of another struct type than every store of GUP'd pages into that field declares. */
function otherHolder(fn: FunctionIR, e: Expr, sources: readonly GupFieldSource[]): boolean {
  const t = holderType(fn, e);
  return !!t && sources.length > 0 && sources.every((x) => !!x.holder && x.holder !== t);
}

/** The field a page expression reads the page from: `obj->pg` (a one-page field) or `obj->pages[i]`. */
function pageFieldOf(e: Expr): { field: string; page: boolean } | undefined {
  const s = strip(e);
  if (s.kind === 'field') return { field: s.name, page: true };
  if (s.kind === 'index' && s.base.kind === 'field') return { field: s.base.name, page: false };
  return undefined;
}

/** `e` is a one-page field (`d->pg`) some function of the file fills with a GUP'd page. */
function isGupPageField(fn: FunctionIR, e: Expr, byName: Map<string, FunctionIR>): boolean {
  const f = pageFieldOf(e);
  if (!f?.page) return false;
  const sources = (fieldSourcesFor(byName).get(f.field) ?? []).filter((x) => x.page);
  return sources.length > 0 && !otherHolder(fn, e, sources);
}

interface Acquisition { fn: string; call: CallStmt }

/** Every GUP acquisition of the file, those whose pages a table hand-off takes (into a scatterlist, a bio) first. */
const fileAcquisitions = fileFact('gupFileAcquisitions', (byName: Map<string, FunctionIR>): Acquisition[] => {
  const handed: Acquisition[] = [];
  const rest: Acquisition[] = [];
  for (const f of byName.values()) {
    const g = gupPagesOf(f);
    for (const a of g.acquisitions) {
      const handedOff = f.blocks.some((b) => b.stmts.some((st) => {
        if (st.kind !== 'call' || lookupApi(st.callee)?.refs?.op !== 'handoff') return false;
        return st.args.some((x) => isGupArray(x, g, NO_FIELDS) && exprKey(strip(x)) === a.array.replace(/^&/, ''));
      }));
      (handedOff ? handed : rest).push({ fn: f.name, call: a.call });
    }
  }
  return [...handed, ...rest];
});

/**
 * Where the page being dirtied was taken: an acquisition of this function (the one filling the
 * array the page comes from, if several), else one filling the struct field it is read from, else
 * (a page walked out of a scatterlist or bio) the file's acquisition whose pages were handed over.
 */
function acquisitionOf(fn: FunctionIR, arg: Expr, g: GupPages, byName: Map<string, FunctionIR>): Acquisition | undefined {
  if (g.acquisitions.length) {
    const s = strip(arg);
    const base = s.kind === 'index' ? exprKey(s.base) : undefined;
    const a = g.acquisitions.find((x) => x.array === base) ?? g.acquisitions[0]!;
    return { fn: fn.name, call: a.call };
  }
  const f = pageFieldOf(arg);
  if (f) {
    const sources = fieldSourcesFor(byName).get(f.field) ?? [];
    const s = sources.find((x) => !otherHolder(fn, arg, [x])) ?? sources[0];
    if (s) return { fn: s.fn, call: s.call };
  }
  return fileAcquisitions(byName)[0];
}

/** "get_user_pages_fast() on line 14" in this function, "... in capbuf_map(), line 14" elsewhere. */
function where(fn: FunctionIR, a: Acquisition): string {
  return a.fn === fn.name ? `${a.call.callee}() on line ${a.call.range.startRow + 1}` : `${a.call.callee}() in ${a.fn}(), line ${a.call.range.startRow + 1}`;
}

interface DroppedField { fn: string; release: CallStmt; store: Stmt }

/**
 * Fields whose GUP'd pages were released before being stored (`release_pages(pg, n); ... m->pages =
 * pg;`, the vhost v5.3-rc1 shape) by every function of the file that stores GUP'd pages there: a
 * page read from them later, in any function, is one nobody holds.
 */
const droppedFieldsFor = fileFact('gupDroppedFields', (byName: Map<string, FunctionIR>): Map<string, DroppedField> => {
  const stores = new Map<string, Map<string, DroppedField>>();
  for (const f of byName.values()) {
    for (const st of droppedFacts(f).stores) {
      const m = stores.get(st.field) ?? new Map<string, DroppedField>();
      if (!m.has(f.name)) m.set(f.name, { fn: f.name, release: st.release, store: st.store });
      stores.set(st.field, m);
    }
  }
  const out = new Map<string, DroppedField>();
  const sources = fieldSourcesFor(byName);
  for (const [field, byFn] of stores) {
    const src = sources.get(field) ?? [];
    if (src.length && src.every((x) => byFn.has(x.fn))) out.set(field, byFn.get(src[0]!.fn)!);
  }
  return out;
});

/**
 * Every same-file call of `name`, a helper that runs only inside a notifier callback, is reached
 * only through the write check (in its caller, or in the caller's callers).
 */
const callersGuarded = fileFact('gupCallersGuarded', (name: string, byName: Map<string, FunctionIR>, text: string): boolean => {
  const nc = notifierContext(byName, text);
  const selectors = fileWriteSelectors(byName);
  const guarded = (n: string, seen: Set<string>): boolean => {
    if (seen.has(n) || nc.runsUnder.get(n) === n) return false;
    const sites = nc.callSites.get(n) ?? [];
    const next = new Set([...seen, n]);
    return sites.length > 0 && sites.every((x) => {
      const caller = byName.get(x.caller);
      return !!caller && (writableGuarded(caller, x.call, selectors) || guarded(x.caller, next));
    });
  };
  return guarded(name, new Set());
});

/** The release that dropped `arg`'s page before statement `c`: in this function, or before its field was filled. */
function droppedRelease(fn: FunctionIR, c: Stmt, arg: Expr, byName: Map<string, FunctionIR>): { fn: string; release: CallStmt } | undefined {
  const here = droppedFacts(fn).before.get(c);
  const r = here ? releasedAt(here, arg) : undefined;
  if (r) return { fn: fn.name, release: r };
  const f = pageFieldOf(arg);
  const d = f ? droppedFieldsFor(byName).get(f.field) : undefined;
  return d ? { fn: d.fn, release: d.release } : undefined;
}

export const gupDirtyUnlocked: Rule = {
  meta,
  // Both findings are about pages a GUP acquisition of this file took (gupPagesOf, the file's
  // GUP'd fields, fileAcquisitions): without an acquiring call in the file there is nothing to report.
  relevance: {
    trigger: (e) => takesOrDropsPageRefs(e) || dirtiesPage(e),
    needs: [
      { why: 'a page-reference acquisition', api: acquiresPageRefs },
      // undirtiedReleases: fields filled by an acquisition whose FOLL_WRITE is chosen per transfer;
      // the other findings: a dirtying call (set_page_dirty*(), SetPageDirty()) on a GUP'd page.
      { why: 'a per-transfer write flag or a dirtying call', api: (e) => dirtiesPage(e) || !!e.rawDirty, words: () => WRITE_GUP_FLAGS },
    ],
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const undirtied = undirtiedReleases(fn, ctx.functionsByName);
    if (undirtied.length) return undirtied;
    const calls = fn.blocks.flatMap((b) => b.stmts).filter((s): s is CallStmt => s.kind === 'call' && (dirtiesPage(lookupApi(s.callee)) || !!lookupApi(s.callee)?.rawDirty));
    if (!calls.length) return [];
    const byName = ctx.functionsByName;
    const fields = gupFieldsFor(byName);
    const g = gupPagesOf(fn, fields);
    const callback = notifierContext(byName, ctx.text).runsUnder.get(fn.name);
    // Only for functions with an unlocked dirtying, as before the _lock calls were looked at (the
    // lockset memo is order-sensitive); the page lock makes a callback's dirtying safe too.
    const unlocked = calls.some((c) => lookupApi(c.callee)?.mem?.op !== 'set-page-dirty-lock');
    const locks = unlocked ? lockAnalysisFor(byName, ctx.cancelled).facts(fn) : undefined;
    const out: Finding[] = [];
    for (const c of calls) {
      const api = lookupApi(c.callee)!;
      const arg = c.args[api.mem?.pageArg ?? 0];
      if (!arg) continue;
      const sourced = isGupPage(arg, g, fields) || isGupPageField(fn, arg, byName);
      const walked = !sourced && fileAcquisitions(byName).length > 0 && inMacroLoop(fn, c) && releasedHere(fn, arg);
      const dropped = sourced ? droppedRelease(fn, c, arg, byName) : undefined;
      if (!sourced && !walked) continue;
      const acq = acquisitionOf(fn, arg, g, byName);
      const taken = acq ? ` (${where(fn, acq)})` : '';
      const takenAt = acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}()${acq.fn === fn.name ? '' : ` in ${acq.fn}()`})` }] : [];
      if (dropped) {
        // Dirtying a page nobody holds is wrong with or without the page lock: no rename fixes it.
        const rel = dropped.release;
        const relAt = dropped.fn === fn.name ? `on line ${rel.range.startRow + 1}` : `in ${dropped.fn}(), line ${rel.range.startRow + 1}`;
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
          message: `${c.callee}() on a page taken by GUP${taken} whose references were already dropped: ${rel.callee}() ${relAt} released it before this point, so nothing holds the page and it may already be freed and reused; dirtying it, with or without the page lock (even from an mmu notifier's callback), touches a page nobody owns. Dirty before the release: set_page_dirty_lock() then put_page(), or unpin_user_pages_dirty_lock() for pinned pages, and keep the references for as long as the pages are used.`,
          related: [{ range: rel.range, message: `references dropped here (${rel.callee}()${dropped.fn === fn.name ? '' : ` in ${dropped.fn}()`})` }, ...takenAt],
        });
        continue;
      }
      if (api.mem?.op === 'set-page-dirty-lock') continue;
      if (locks && heldOfClass(locks.before.get(c), 'page_lock').length) continue;
      if (callback) {
        if (writableGuarded(fn, c, fileWriteSelectors(byName)) || callersGuarded(fn.name, byName, ctx.text)) continue;
        // No lock rename here: the callback may run with the page lock held (try_to_unmap()).
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
          message: `${c.callee}() on a page taken by GUP${taken} in ${callback === fn.name ? `the mmu-notifier callback ${fn.name}()` : `${fn.name}(), which runs only from the mmu-notifier callback ${callback}(),`} without checking that the pages are writable: dirtying from the callback without the page lock is safe only for a page whose user pte had write permission (then lock_page(), page_mkwrite() and the writable pte came first, and the callback runs before that pte loses its write bit); a page taken read-only may be a shared file page that writeback cleaned and stripped of its buffers. Dirty only under the write check the pages were taken with (the GUP write flag kept with them, vma->vm_flags & VM_WRITE, or pte_write() of the entry).`,
          related: takenAt,
        });
        continue;
      }
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
        message: `${c.callee}() ${api.rawDirty ? '(PG_dirty set directly, no ->dirty_folio, no lock) ' : ''}on a page taken by GUP${taken} without the page lock: if the user mapping is a shared file, writeback may have cleaned the page and try_to_free_buffers() stripped its buffers, and this unlocked dirtying races it. Use set_page_dirty_lock() (or unpin_user_pages_dirty_lock() for pinned pages).`,
        related: takenAt,
        // The table names the drop-in variant that takes the page lock (set_page_dirty_lock()).
        fixes: api.mem?.lockedVariant && lookupApi(api.mem.lockedVariant) ? [{ title: `Use ${api.mem.lockedVariant}()`, edits: [{ range: c.calleeRange, newText: api.mem.lockedVariant }] }] : [],
      });
    }
    return out;
  },
};

/** set_page_dirty*() and kin: the table's dirtying ops, with or without the page lock. */
function dirtiesPage(e: ApiEntry | undefined): boolean {
  return e?.mem?.op === 'set-page-dirty' || e?.mem?.op === 'set-page-dirty-lock';
}
