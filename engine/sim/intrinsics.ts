// Actions that are not kernel API calls: what user space (or the hardware) does on another CPU —
// a store through the TLB, munmap — written in scenarios as `sim_*` calls. Kernel functions never
// appear here; they live in the API table.

import { hex, pageHandle, type Frame, type Val } from '../kernel/state';
import {
  Violation, acquire, cowCopy, cowInstall, findVma, flushTlb, handleFault, holds, mmOf, mmapLockName, release, reuseInPlace,
  thread, touch, unmapPage, vpnOf, wpReuse, writePage, type OpCtx,
} from '../kernel/ops';

export interface IntrinsicResult {
  done: boolean;
  value?: Val;
  trace?: { delta?: string; note?: string };
}

type Intrinsic = (args: Val[], ctx: OpCtx, frame: Frame) => IntrinsicResult;

const num = (v: Val): number => (typeof v === 'number' ? v : 0);

/**
 * A user-space store by this CPU: through its TLB if it caches a writable entry (no page-table
 * walk, so a write-protect without a completed flush is not seen — D.2), else via the page
 * table, taking a write fault when the PTE is read-only. The COW copy runs in two steps (copy,
 * then install + flush) so a store through a stale TLB entry can land between them (Nadav Amit's
 * scenario, D.2).
 */
function userWrite(args: Val[], ctx: OpCtx, frame: Frame): IntrinsicResult {
  const addr = num(args[0]);
  const t = thread(ctx);
  const mm = mmOf(ctx);
  const vpn = vpnOf(ctx, addr);
  const key = String(vpn);
  touch(ctx, `tlb:${t.id}`, 'w');
  touch(ctx, `pte:${mm.id}:${vpn}`, 'r');
  if (frame.phase === 1) {
    const [copyId, oldId, snapshot] = frame.scratch as [number, number, string];
    const old = ctx.s.pages[oldId];
    const copy = ctx.s.pages[copyId];
    touch(ctx, `page:${oldId}`, 'w');
    if (!mm.ptes[key] || mm.ptes[key].page !== oldId) {
      // pte_same() failed: somebody else resolved the fault first; drop the copy and retry.
      release(ctx, mmapLockName(mm.id));
      frame.phase = 0;
      frame.scratch = null;
      return { done: false, trace: { note: `wp_page_copy: pte changed under us (now page #${mm.ptes[key]?.page ?? '-'}), copy #${copyId} dropped, fault retried` } };
    }
    if (old.content !== snapshot) {
      throw new Violation('data-loss', `do_wp_page copied page #${oldId} to #${copyId}, then "${old.content}" went into #${oldId} through a stale writable TLB entry; installing the copy loses that write (the pinned page and the mapped page diverge)`);
    }
    cowInstall(ctx, mm, vpn, old, copy);
    release(ctx, mmapLockName(mm.id));
    t.tlb[key] = { page: copy.id, write: true };
    writePage(ctx, copy, ctx.label);
    return { done: true, trace: { delta: `pte ${hex(vpn * ctx.profile.pageSize)} -> copy #${copy.id}, TLB flushed on all CPUs; store lands in #${copy.id}`, note: 'wp_page_copy: install the copy' } };
  }
  const cached = t.tlb[key];
  if (cached && cached.write) {
    const pte = mm.ptes[key];
    const page = ctx.s.pages[cached.page];
    touch(ctx, `page:${page.id}`, 'w');
    if (!pte || !pte.present || pte.page !== cached.page) {
      throw new Violation('data-loss', `CPU${t.id} stores to ${hex(addr)} through a stale TLB entry for page #${cached.page}, but the mapping now points at ${pte ? `#${pte.page}` : 'nothing'}: the write is lost`);
    }
    const wp = mm.unflushed[key];
    if (!pte.write && mm.tlbFlushPending === 0 && wp !== undefined && (ctx.s.threads[wp].done || !holds(ctx.s, wp, mmapLockName(mm.id)))) {
      throw new Violation('stale-tlb', `CPU${t.id} stores to ${hex(addr)} through a writable TLB entry although CPU${wp} write-protected the PTE and finished without flushing the TLB (no flush pending): the store bypasses write-protection (soft-dirty/uffd-wp never see it)`);
    }
    writePage(ctx, page, ctx.label);
    return { done: true, trace: { delta: `store lands in page #${page.id}`, note: `TLB hit (writable entry cached by CPU${t.id})${!pte.write ? '; the PTE is write-protected but this CPU\'s TLB was not flushed yet' : ''}` } };
  }
  let pte = mm.ptes[key];
  if (!pte || !pte.present || (pte.write === false && findVma(mm, addr)?.kind !== 'anon' && findVma(mm, addr)?.kind !== 'private-file')) {
    const r = handleFault(ctx, addr, true, { what: `CPU${t.id} store to ${hex(addr)}` });
    if (!r.ok) {
      t.segv = true;
      return { done: true, value: -14, trace: { note: `SIGSEGV: ${r.reason}` } };
    }
    pte = mm.ptes[key];
    t.tlb[key] = { page: pte.page, write: true };
    writePage(ctx, ctx.s.pages[pte.page], ctx.label);
    return { done: true, trace: { delta: ctx.deltas.splice(0).join('; ') || `store lands in page #${pte.page}`, note: 'page fault handled' } };
  }
  if (pte.write) {
    t.tlb[key] = { page: pte.page, write: true };
    writePage(ctx, ctx.s.pages[pte.page], ctx.label);
    return { done: true, trace: { delta: `TLB filled; store lands in page #${pte.page}` } };
  }
  // Write fault on a write-protected anon PTE: do_wp_page under mmap_lock (read).
  const lock = mmapLockName(mm.id);
  acquire(ctx, lock, 'mmap_lock', true, { recursiveRead: true, what: `write fault at ${hex(addr)}` });
  const vma = findVma(mm, addr);
  const notes: string[] = [];
  if (vma?.uffdWp && ctx.sw.wpFlushesPendingUffd && mm.tlbFlushPending > 0) {
    flushTlb(ctx, mm.id, [vpn]);
    notes.push('mm_tlb_flush_pending(): flushed before deciding (uffd-wp fix)');
  }
  const page = ctx.s.pages[pte.page];
  const d = wpReuse(ctx, page);
  notes.push(d.why);
  if (d.reuse) {
    const other = page.gupFrom && page.gupFrom.mm !== mm.id && (page.gupGets > 0 || page.gupPins > 0);
    if (other) {
      throw new Violation('data-loss', `${d.why}; but mm${page.gupFrom!.mm} still holds a GUP reference on page #${page.id} (vmsplice): reusing it lets that reference read this later write — the COW that should separate them never happens (CVE-2020-29374 class)`);
    }
    reuseInPlace(ctx, mm, vpn, page);
    release(ctx, lock);
    t.tlb[key] = { page: page.id, write: true };
    writePage(ctx, page, ctx.label);
    return { done: true, trace: { delta: `store lands in page #${page.id}`, note: notes.join('; ') } };
  }
  const copy = cowCopy(ctx, page);
  frame.phase = 1;
  frame.scratch = [copy.id, page.id, page.content];
  return { done: false, trace: { delta: `page #${page.id} copied to #${copy.id} (content "${page.content}"); pte not switched yet`, note: `${notes.join('; ')}; wp_page_copy: copy first, install + flush next` } };
}

function userRead(args: Val[], ctx: OpCtx): IntrinsicResult {
  const addr = num(args[0]);
  const t = thread(ctx);
  const mm = mmOf(ctx);
  const key = String(vpnOf(ctx, addr));
  touch(ctx, `pte:${mm.id}:${key}`, 'r');
  const pte = mm.ptes[key];
  if (!pte || !pte.present) {
    const r = handleFault(ctx, addr, false, { what: `CPU${t.id} load from ${hex(addr)}` });
    if (!r.ok) { t.segv = true; return { done: true, value: -14, trace: { note: `SIGSEGV: ${r.reason}` } }; }
  }
  const p = mm.ptes[key];
  touch(ctx, `page:${p.page}`, 'r');
  return { done: true, value: 0, trace: { delta: `reads page #${p.page} ("${ctx.s.pages[p.page].content}")` } };
}

function munmap(args: Val[], ctx: OpCtx): IntrinsicResult {
  const note = unmapPage(ctx, num(args[0]));
  return { done: true, value: 0, trace: { delta: note } };
}

function pageOf(args: Val[], ctx: OpCtx): IntrinsicResult {
  const mm = mmOf(ctx);
  const vpn = vpnOf(ctx, num(args[0]));
  touch(ctx, `pte:${mm.id}:${vpn}`, 'r');
  const pte = mm.ptes[String(vpn)];
  return { done: true, value: pte?.present ? pageHandle(pte.page) : 0 };
}

/** A device (or the pin holder) reads the page it holds: the process's later writes must not show. */
function kernelReadPinned(args: Val[], ctx: OpCtx): IntrinsicResult {
  void args; void ctx;
  return { done: true, value: 0 };
}

const INTRINSICS: Record<string, Intrinsic> = {
  sim_user_write: userWrite,
  sim_user_read: userRead,
  sim_munmap: munmap,
  sim_page_of: pageOf,
  sim_device_read: kernelReadPinned,
};

export function isIntrinsic(name: string): boolean {
  return name in INTRINSICS;
}

export function runIntrinsic(name: string, args: Val[], ctx: OpCtx, frame: Frame): IntrinsicResult {
  return INTRINSICS[name](args, ctx, frame);
}

export const INTRINSIC_NAMES = Object.keys(INTRINSICS);
