// gup-vaddr-no-notifier (thread "vhost: access vq metadata through kernel virtual
// address", Jason Wang, 2019 — reverted for v5.3 after Andrea Arcangeli's and Jason Gunthorpe's
// review): pages taken by GUP mapped into the kernel (vmap, kmap, page_address) with the address
// kept past the function (stored in a field or global, or returned) while nothing tears the
// mapping down when the user mapping changes: no mmu notifier in the file, or none whose
// invalidate callback (through its same-file helpers) unmaps the mapping, clears the slot that
// holds it, or releases its pages (analysis/notifier-teardown.ts); or the page references are
// dropped before the address is stored, which no notifier can make safe. Silent for short-lived
// kmap_local_page()/kmap_atomic(), a mapping dropped in the same function, a notifier that tears
// the mapping down, and FOLL_LONGTERM pins (the documented long-term access).

import type { Finding } from '../findings';
import type { CallStmt, Expr, FunctionIR, Stmt } from '../ir';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { gupPagesOf, isGupArray, isGupPage, type GupPages } from '../analysis/gup-pages';
import { gupFieldsFor } from './gup-dirty-unlocked';
import { isGlobal, notifierOps, slotsOf, type NotifierCallback, type NotifierOps } from '../analysis/notifier-teardown';
import { exprKey } from '../analysis/expr';
import { acquiresPageRefs } from './facets';
import { NOTIFIER_OPS_TYPES } from '../kernel/api/vma';

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
  /** The slot the address is stored in (a field, an array element, a global); absent for a return. */
  target?: Expr;
  /**
   * The statement that stores the address past the function: the assignment, or the mapping call
   * itself when its result is the field or global (`m->addr = page_address(pg[0])`); absent for a
   * return.
   */
  at?: Stmt;
}

/**
 * Whether the address a mapping call returns outlives the function: its result is a field or a
 * global, or the address (through local copies, `vaddr = v = page_address(...)`, and offsets,
 * `map->addr = vaddr + off`) is stored in a field or array element or returned — unless the
 * function unmaps it.
 */
function isKept(fn: FunctionIR, c: CallStmt): Kept {
  const result = c.result;
  if (!result) return { kept: false };
  if (result.kind === 'field' || (result.kind === 'var' && isGlobal(fn, result.name))) return { kept: true, where: exprKey(result), target: result, at: c };
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
    if (s.kind === 'assign' && (s.target.kind === 'field' || s.target.kind === 'index') && stored(s.value)) kept ??= { kept: true, where: exprKey(s.target), target: s.target, at: s };
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

/** The variable an lvalue hangs off (`m` of `m->addr`, `tab` of `tab[i]`). */
function rootVar(e: Expr): string | undefined {
  for (let x = e, i = 0; i < 16; i++) {
    if (x.kind === 'var') return x.name;
    if (x.kind === 'field' || x.kind === 'index') x = x.base;
    else if (x.kind === 'unary' && (x.op === '&' || x.op === '*')) x = x.arg;
    else return undefined;
  }
  return undefined;
}

/** Slots of the fields and array elements `v` itself is stored in (`q->map = m` -> map). */
function storesOf(fn: FunctionIR, v: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!v) return out;
  for (const b of fn.blocks) for (const s of b.stmts) if (s.kind === 'assign' && s.target.kind !== 'var' && s.value.kind === 'var' && s.value.name === v) for (const x of slotsOf(s.target)) out.add(x);
  return out;
}

/**
 * Whether one of the file's notifier invalidate callbacks tears this mapping down: it unmaps the
 * address or the page held in a slot of the mapping (`vunmap(rd->ring)`, `kunmap(d->pg)`), clears
 * a slot holding the address or the object that holds it (`q->map = NULL` where the function did
 * `m->addr = ...; q->map = m`), or releases the pages (`put_page(m->pages[i])` where `m->pages =
 * pg`). Slots are matched by name (notifier-teardown.ts). Undefined when some callback does, or
 * cannot be seen (not defined in the file); else the callback that does not (or, with no
 * invalidate callback at all, the first ops table).
 */
function notTornDown(fn: FunctionIR, page: Expr, kept: Kept, g: GupPages, ops: NotifierOps): { cb?: NotifierCallback; table: string } | undefined {
  const holders = new Set<string>();
  if (kept.target) {
    for (const x of slotsOf(kept.target)) holders.add(x);
    const root = rootVar(kept.target);
    if (root && root !== exprKey(kept.target)) for (const x of storesOf(fn, root)) holders.add(x);
  }
  const pages = slotsOf(page);
  for (const x of storesOf(fn, rootVar(page))) pages.add(x);
  for (const a of g.acquisitions) if (a.field) pages.add(a.field);
  const meets = (a: Set<string>, b: Set<string>): boolean => [...a].some((x) => b.has(x));
  let first: NotifierCallback | undefined;
  for (const cb of ops.callbacks) {
    if (!cb.does) return undefined;
    const d = cb.does;
    if (meets(d.cleared, holders) || meets(d.unmapped, holders) || meets(d.unmapped, pages) || meets(d.released, pages)) return undefined;
    first ??= cb;
  }
  return first ? { cb: first, table: first.table } : { table: ops.tables[0] };
}

export const gupVaddrNoNotifier: Rule = {
  meta,
  // A mapping is reported only when its page or array comes from a GUP acquisition of the file
  // (gupPagesOf: an acquiring call in the function itself, or a field such a function fills), in
  // the function that calls the mapping API itself, and nothing is read from its helpers: neither
  // callers nor callees are needed. The notifier callbacks are read, through the ops tables.
  relevance: {
    trigger: (e) => !!e.kmapping || acquiresPageRefs(e),
    needs: [{ why: 'a page-reference acquisition', api: acquiresPageRefs }],
    callers: false,
    callees: false,
    // What the file's notifier invalidate callbacks (and their helpers) do decides a mapping kept
    // in a file with a notifier: the ops tables keep them (notifier-teardown.ts reads them).
    tables: () => NOTIFIER_OPS_TYPES,
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const maps = fn.blocks.flatMap((b) => b.stmts).filter((s) => s.kind === 'call' && !!lookupApi(s.callee)?.kmapping);
    if (!maps.length) return [];
    const ops = notifierOps(ctx.functionsByName, ctx.text);
    const notifier = ops.tables.length > 0;
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
      const kept = isKept(fn, c);
      if (!kept.kept) continue;
      // Where the address is stored, when that is not the mapping call itself.
      const keptHere = kept.at && kept.at !== c ? [{ range: kept.at.range, message: `the address is kept here (${kept.where})` }] : [];
      const dropped = kept.at ? droppedBefore(fn, g, fields, kept.at) : undefined;
      if (dropped) {
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
          message: `${c.callee}() maps pages taken by GUP${taken} and the address is kept in ${kept.where}, but ${dropped.callee}() on line ${dropped.range.startRow + 1} drops the page references first: nothing holds the pages while the kernel mapping lives${notifier ? ', and the mmu notifier of this file does not help (the pages can be freed and reused before it runs, and dirtying them in the callback touches pages nobody holds)' : ''}. Keep the references until the mapping is torn down (release them in the notifier's invalidate and in teardown), or copy with copy_to_user()/copy_from_user() instead of a kernel mapping.`,
          related: [
            ...(acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}())` }] : []),
            { range: dropped.range, message: `references dropped here (${dropped.callee}())` },
            ...keptHere,
          ],
        });
        continue;
      }
      const related = [
        ...(acq ? [{ range: acq.call.range, message: `pages taken here (${acq.call.callee}())` }] : []),
        ...keptHere,
      ];
      if (notifier) {
        const miss = notTornDown(fn, arg, kept, g, ops);
        if (!miss) continue;
        const cb = miss.cb;
        const why = cb
          ? `the mmu notifier's invalidate callback ${cb.fn}() (${miss.table}.${cb.field}${cb.at ? `, line ${cb.at.startRow + 1}` : ''}) does not tear the mapping down: it neither unmaps it nor clears ${kept.where} (or what holds it), nor releases the pages`
          : `the file's mmu notifier ops ${miss.table} have no invalidate callback, so nothing drops the mapping before the user mapping changes`;
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
          message: `${c.callee}() maps pages taken by GUP${taken} and the address is kept in ${kept.where}, but ${why}: after munmap, fork+COW or migration the kernel keeps accessing pages the process no longer maps. Drop the mapping in the invalidate callback (${k.unmap ? `${k.unmap}() it, ` : ''}clear the field and release the pages), or map with kmap_local_page() only around each access.`,
          related: [...related, ...(cb?.at ? [{ range: cb.at, message: `invalidate callback ${cb.fn}() leaves the mapping in place` }] : [])],
        });
        continue;
      }
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range: c.range,
        message: `${c.callee}() maps pages taken by GUP${taken} and the address is kept in ${kept.where}, but nothing drops the mapping when the user mapping changes (no mmu notifier in this file): after munmap, fork+COW or migration the kernel keeps accessing pages the process no longer maps. Register an mmu_interval_notifier that tears the mapping down on invalidate, or map with kmap_local_page() only around each access.`,
        related,
      });
    }
    return out;
  },
};
