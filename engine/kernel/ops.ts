// Operational semantics of the memory model: what a uaccess, a page fault, a fault-in, GUP, a
// lock, writeback, COW, clear_refs, a TLB flush... do to the state. The simulator calls these
// from the API table's facets; nothing here knows a kernel function's name.
//
// Blocking and oracle violations are thrown (Blocked / Violation) so that an operation is all or
// nothing: a blocked step leaves no partial effect except queueing on the lock.

import type { ArchProfile, ProfileUse } from './profiles';
import type { KernelSwitches } from './versions';
import {
  GUP_PIN_COUNTING_BIAS, hex, newPage, type LockState, type Mm, type Page, type Pte, type SimState,
  type ThreadState, type Vma,
} from './state';

export type Verdict = 'ok' | 'livelock' | 'deadlock' | 'leak' | 'underflow' | 'data-loss' | 'stale-tlb' | 'inconclusive';

export class Blocked extends Error {
  constructor(public lock: string, public asWriter: boolean, public why: string) { super(why); }
}

export class Violation extends Error {
  constructor(public verdict: Verdict, public why: string) { super(why); }
}

export type Access = 'r' | 'w';

/** The model walks at most this many pages per operation (bad input never hangs). */
export const MAX_WALK_PAGES = 1024;

export interface OpCtx {
  s: SimState;
  tid: number;
  profile: ArchProfile;
  sw: KernelSwitches;
  /** Footprint of the step: shared objects read/written (partial-order reduction). */
  fp: Map<string, Access>;
  /** Label of the store this step performs ("CPU0 b3:1"). */
  label: string;
  notes: string[];
  deltas: string[];
  /** Where the run records what it read of the profile (set by the simulator; tests may omit it). */
  profileUse?: ProfileUse;
}

export function touch(ctx: OpCtx, key: string, a: Access): void {
  if (ctx.fp.get(key) !== 'w') ctx.fp.set(key, a);
}

export function thread(ctx: OpCtx): ThreadState {
  return ctx.s.threads[ctx.tid];
}

export function mmOf(ctx: OpCtx): Mm {
  return ctx.s.mms[thread(ctx).mm];
}

function cpu(tid: number): string {
  return `CPU${tid}`;
}

export function vpnOf(ctx: OpCtx, addr: number): number {
  return Math.floor(addr / ctx.profile.pageSize);
}

function pageBase(ctx: OpCtx, vpn: number): number {
  return vpn * ctx.profile.pageSize;
}

export function findVma(mm: Mm, addr: number): Vma | undefined {
  return mm.vmas.find((v) => addr >= v.start && addr < v.end);
}

// ---------------------------------------------------------------------------------------------
// Locks (include/linux/mmap_lock.h, kernel/locking/rwsem.c; commit 00bfe02f4796): mmap_lock is an
// rwsem where a waiting writer blocks new readers;
// glocks and mutexes are not recursive; a thread waiting on a lock it holds is a deadlock.

export function lockState(ctx: OpCtx, name: string, cls: string): LockState {
  let l = ctx.s.locks[name];
  if (!l) {
    l = { cls, writer: -1, readers: [], waitingWriters: [] };
    ctx.s.locks[name] = l;
  }
  return l;
}

export function holds(s: SimState, tid: number, name: string): 'read' | 'write' | undefined {
  const l = s.locks[name];
  if (!l) return undefined;
  if (l.writer === tid) return 'write';
  return l.readers.includes(tid) ? 'read' : undefined;
}

function holderText(l: LockState): string {
  if (l.writer >= 0) return `${cpu(l.writer)} holds it for write`;
  if (l.readers.length) return `${[...new Set(l.readers)].map(cpu).join(', ')} hold${l.readers.length > 1 ? '' : 's'} it for read`;
  return 'a writer is queued first';
}

/** Take a lock or throw Blocked / Violation. `shared` = reader side (rwsem read, glock shared). */
export function acquire(ctx: OpCtx, name: string, cls: string, shared: boolean, opts: { recursiveRead?: boolean; what?: string } = {}): void {
  touch(ctx, `lock:${name}`, 'w');
  const l = lockState(ctx, name, cls);
  const mine = holds(ctx.s, ctx.tid, name);
  const what = opts.what ?? name;
  if (mine === 'write' || (mine === 'read' && (!shared || !opts.recursiveRead))) {
    throw new Violation('deadlock', `${what}: ${cpu(ctx.tid)} waits for ${name}, which it already holds (${mine === 'write' ? 'exclusive' : 'shared'}) — self-deadlock`);
  }
  if (shared) {
    if (l.writer >= 0 || l.waitingWriters.some((w) => w !== ctx.tid)) {
      throw new Blocked(name, false, `${what}: ${cpu(ctx.tid)} waits for ${name} (${holderText(l)}${l.writer < 0 ? '' : ''}${l.waitingWriters.length ? `; writer ${l.waitingWriters.map(cpu).join(', ')} queued, so new readers wait` : ''})`);
    }
    l.readers.push(ctx.tid);
  } else {
    if (l.writer >= 0 || l.readers.length) {
      throw new Blocked(name, true, `${what}: ${cpu(ctx.tid)} waits for ${name} exclusively (${holderText(l)})`);
    }
    l.writer = ctx.tid;
    l.waitingWriters = l.waitingWriters.filter((w) => w !== ctx.tid);
  }
  thread(ctx).waiting = undefined;
}

export function tryAcquire(ctx: OpCtx, name: string, cls: string, shared: boolean): boolean {
  try {
    acquire(ctx, name, cls, shared, { recursiveRead: true });
    return true;
  } catch (e) {
    if (e instanceof Blocked || e instanceof Violation) return false;
    throw e;
  }
}

export function release(ctx: OpCtx, name: string): void {
  touch(ctx, `lock:${name}`, 'w');
  const l = ctx.s.locks[name];
  if (!l) throw new Violation('underflow', `${cpu(ctx.tid)} releases ${name}, which nobody holds`);
  if (l.writer === ctx.tid) l.writer = -1;
  else {
    const i = l.readers.indexOf(ctx.tid);
    if (i < 0) throw new Violation('underflow', `${cpu(ctx.tid)} releases ${name}, which it does not hold`);
    l.readers.splice(i, 1);
  }
}

export function downgrade(ctx: OpCtx, name: string): void {
  touch(ctx, `lock:${name}`, 'w');
  const l = ctx.s.locks[name];
  if (!l || l.writer !== ctx.tid) throw new Violation('underflow', `${cpu(ctx.tid)} downgrades ${name} without holding it for write`);
  l.writer = -1;
  l.readers.push(ctx.tid);
}

export function mmapLockName(mmId: number): string {
  return `mmap_lock(mm${mmId})`;
}

// ---------------------------------------------------------------------------------------------
// TLB (commit 29a951dfb3c3 "mm: fix clear_refs_write locking")

export function flushTlb(ctx: OpCtx, mmId: number, vpns?: number[]): number {
  let n = 0;
  for (const t of ctx.s.threads) {
    if (t.mm !== mmId) continue;
    touch(ctx, `tlb:${t.id}`, 'w');
    for (const k of Object.keys(t.tlb)) {
      if (!vpns || vpns.includes(Number(k))) {
        delete t.tlb[k];
        n++;
      }
    }
  }
  const mm = ctx.s.mms[mmId];
  for (const k of Object.keys(mm.unflushed)) if (!vpns || vpns.includes(Number(k))) delete mm.unflushed[k];
  return n;
}

// ---------------------------------------------------------------------------------------------
// Page faults (include/linux/uaccess.h, mm/memory.c, mm/page-writeback.c, fs/gfs2): handled only with faults enabled; may take mmap_lock and the
// filesystem's fault lock, run ->fault and ->page_mkwrite, and do_wp_page's reuse decision.

export interface FaultResult {
  ok: boolean;
  reason?: string;
  page?: number;
}

function pageCacheLookup(ctx: OpCtx, file: string, index: number): Page {
  const f = ctx.s.files[file];
  touch(ctx, `file:${file}`, 'w');
  const id = f.pages[String(index)];
  if (id !== undefined) return ctx.s.pages[id];
  const p = newPage(ctx.s, { anon: false, file, index, blockBacked: f.blockBacked, refcount: 1 /* page cache */ });
  f.pages[String(index)] = p.id;
  return p;
}

export function mapPage(ctx: OpCtx, mm: Mm, vpn: number, page: Page, write: boolean, dirty: boolean): Pte {
  const pte: Pte = { page: page.id, present: true, write, dirty, young: true, softDirty: true, uffdWp: false };
  mm.ptes[String(vpn)] = pte;
  page.mapcount++;
  page.refcount++;
  touch(ctx, `pte:${mm.id}:${vpn}`, 'w');
  touch(ctx, `page:${page.id}`, 'w');
  return pte;
}

/** do_wp_page's reuse decision per kernel version (mm/memory.c; commit 09854ba94c6a). */
export function wpReuse(ctx: OpCtx, page: Page): { reuse: boolean; why: string } {
  const rule = ctx.sw.wpReuse;
  if (rule === 'mapcount') {
    return page.mapcount === 1
      ? { reuse: true, why: `do_wp_page reuses page #${page.id}: mapcount 1 (<= v5.8 rule), although page_count is ${page.refcount}` }
      : { reuse: false, why: `do_wp_page copies page #${page.id}: mapcount ${page.mapcount}` };
  }
  if (rule === 'anon-exclusive' && page.anonExclusive) {
    return { reuse: true, why: `do_wp_page reuses page #${page.id}: PageAnonExclusive (v5.19+)` };
  }
  return page.refcount === 1
    ? { reuse: true, why: `do_wp_page reuses page #${page.id}: page_count 1` }
    : { reuse: false, why: `do_wp_page copies page #${page.id}: page_count ${page.refcount} != 1 (v5.9+ rule${page.pincount ? `; ${page.pincount} GUP pin(s) = +${page.pincount * GUP_PIN_COUNTING_BIAS}` : ''})` };
}

/** The COW copy half of wp_page_copy: a new exclusive anon page holding the old contents. */
export function cowCopy(ctx: OpCtx, old: Page): Page {
  touch(ctx, `page:${old.id}`, 'r');
  const p = newPage(ctx.s, { anon: true, content: old.content, disk: old.content, anonExclusive: true, badGranules: [...old.badGranules] });
  return p;
}

/** The install half: point the PTE at the copy, flush every CPU's TLB entry for it, drop the old mapping. */
export function cowInstall(ctx: OpCtx, mm: Mm, vpn: number, old: Page, copy: Page): void {
  const pte = mm.ptes[String(vpn)];
  touch(ctx, `pte:${mm.id}:${vpn}`, 'w');
  touch(ctx, `page:${old.id}`, 'w');
  pte.page = copy.id;
  pte.write = true;
  pte.dirty = true;
  pte.softDirty = true;
  copy.mapcount = 1;
  copy.refcount = 1;
  old.mapcount--;
  old.refcount--;
  // A pin whose holder keeps writing through `old` now writes a page the process no longer maps;
  // kernelWrite reports that as data loss when it happens (thread "fs/task_mmu: acquire mmap_lock
  // for write on soft-dirty cleanup").
  flushTlb(ctx, mm.id, [vpn]);
}

/**
 * Handle a user page fault at `addr` on behalf of the current thread. `callerHoldsMmap`: GUP and
 * fixup_user_fault run under the caller's mmap_lock. Throws Blocked / Violation.
 */
export function handleFault(ctx: OpCtx, addr: number, write: boolean, opts: { callerHoldsMmap?: boolean; what?: string } = {}): FaultResult {
  const t = thread(ctx);
  const mm = mmOf(ctx);
  const vpn = vpnOf(ctx, addr);
  const what = opts.what ?? `page fault at ${hex(addr)}`;
  const lockName = mmapLockName(mm.id);
  const takeMmap = !opts.callerHoldsMmap;
  // A fault while this thread already holds mmap_lock for read re-takes it for read (a queued
  // writer then blocks it: the classic rwsem deadlock); held for write is a self-deadlock.
  if (!opts.callerHoldsMmap) {
    if (holds(ctx.s, t.id, lockName) === 'write') {
      throw new Violation('deadlock', `${what}: the fault handler needs ${lockName} for read, which ${cpu(t.id)} holds for write — self-deadlock`);
    }
    acquire(ctx, lockName, 'mmap_lock', true, { recursiveRead: true, what });
  }
  try {
    touch(ctx, `vma:${mm.id}`, 'r');
    const vma = findVma(mm, addr);
    if (!vma) return { ok: false, reason: `no VMA at ${hex(addr)} (-EFAULT)` };
    if (write && !vma.write) return { ok: false, reason: `VMA at ${hex(addr)} is not writable (-EFAULT)` };
    const file = vma.file ? ctx.s.files[vma.file] : undefined;
    const fsLocked = (file?.faultLock && (vma.kind === 'shared-file' || vma.kind === 'private-file')) ? file.faultLock : undefined;
    if (fsLocked) {
      // gfs2_fault takes the inode glock (shared, exclusive for a write fault); gfs2_page_mkwrite
      // takes it exclusive (fs/gfs2/glock.c). Glocks are not recursive.
      const mode = write ? 'exclusive' : 'shared';
      acquire(ctx, fsLocked, file!.faultLockClass ?? 'glock', !write, { what: `${what}: ->${write ? 'page_mkwrite' : 'fault'} of ${vma.file} takes ${fsLocked} ${mode}` });
    }
    try {
      touch(ctx, `pte:${mm.id}:${vpn}`, 'w');
      let pte = mm.ptes[String(vpn)];
      if (!pte || !pte.present) {
        if (vma.kind === 'anon') {
          const p = newPage(ctx.s, { anon: true, anonExclusive: true, content: 'zero', disk: 'zero' });
          pte = mapPage(ctx, mm, vpn, p, vma.write, write);
          ctx.deltas.push(`pte ${hex(pageBase(ctx, vpn))} -> new anon page #${p.id}`);
        } else {
          const index = (vma.pgoff ?? 0) + (vpn - Math.floor(vma.start / ctx.profile.pageSize));
          const p = pageCacheLookup(ctx, vma.file!, index);
          if (vma.kind === 'private-file' && write) {
            const c = cowCopy(ctx, p);
            pte = mapPage(ctx, mm, vpn, c, true, true);
            ctx.deltas.push(`pte ${hex(pageBase(ctx, vpn))} -> private COW copy #${c.id} of ${vma.file} page ${index}`);
          } else if (vma.kind === 'private-file') {
            pte = mapPage(ctx, mm, vpn, p, false, false);
          } else {
            // Shared file: a read fault maps clean and write-protected (write-notify); a write
            // fault runs ->page_mkwrite: blocks allocated, buffers attached, page dirtied (mm/page-writeback.c).
            pte = mapPage(ctx, mm, vpn, p, write && vma.write, write);
            if (write) pageMkwrite(ctx, p);
            ctx.deltas.push(`pte ${hex(pageBase(ctx, vpn))} -> ${vma.file} page ${index} (#${p.id})${write ? ', ->page_mkwrite: buffers attached, dirty' : ''}`);
          }
        }
        return { ok: true, page: pte.page };
      }
      if (write && !pte.write) {
        const page = ctx.s.pages[pte.page];
        if (vma.kind === 'shared-file' || vma.kind === 'tmpfs') {
          pageMkwrite(ctx, page);
          pte.write = true;
          pte.dirty = true;
          pte.softDirty = true;
          ctx.deltas.push(`->page_mkwrite on page #${page.id}: buffers attached, dirty; pte writable`);
          return { ok: true, page: page.id };
        }
        const d = wpReuse(ctx, page);
        ctx.notes.push(d.why);
        if (d.reuse) {
          reuseInPlace(ctx, mm, vpn, page);
          return { ok: true, page: page.id };
        }
        const copy = cowCopy(ctx, page);
        cowInstall(ctx, mm, vpn, page, copy);
        ctx.deltas.push(`pte ${hex(pageBase(ctx, vpn))}: page #${page.id} -> copy #${copy.id}`);
        return { ok: true, page: copy.id };
      }
      return { ok: true, page: pte.page };
    } finally {
      if (fsLocked) release(ctx, fsLocked);
    }
  } finally {
    if (takeMmap) release(ctx, lockName);
  }
}

export function reuseInPlace(ctx: OpCtx, mm: Mm, vpn: number, page: Page): void {
  const pte = mm.ptes[String(vpn)];
  pte.write = true;
  pte.dirty = true;
  pte.softDirty = true;
  if (page.anon) page.anonExclusive = true;
  flushTlb(ctx, mm.id, [vpn]);
  ctx.deltas.push(`pte ${hex(pageBase(ctx, vpn))} writable again (page #${page.id} reused)`);
}

export function pageMkwrite(ctx: OpCtx, page: Page): void {
  touch(ctx, `page:${page.id}`, 'w');
  if (page.blockBacked) page.buffers = true;
  page.dirty = true;
}

// ---------------------------------------------------------------------------------------------
// User accesses by the kernel (uaccess, fault-in probes) and by user space.

export type AccessResult =
  | { ok: true; page: Page }
  | { ok: false; reason: string; tag?: boolean; granule?: number };

/** Check (and, when faults are serviced, fix) access to the page holding `addr`. */
export function accessUserPage(ctx: OpCtx, addr: number, write: boolean, serviceFaults: boolean, what: string): AccessResult {
  const mm = mmOf(ctx);
  const vpn = vpnOf(ctx, addr);
  touch(ctx, `pte:${mm.id}:${vpn}`, 'r');
  touch(ctx, `vma:${mm.id}`, 'r');
  const vma = findVma(mm, addr);
  if (!vma) return { ok: false, reason: `no VMA at ${hex(addr)}` };
  let pte = mm.ptes[String(vpn)];
  const needsFault = !pte || !pte.present || (write && !pte.write);
  if (needsFault) {
    if (!serviceFaults) {
      return { ok: false, reason: `${!pte || !pte.present ? 'page not present' : 'pte write-protected'} at ${hex(addr)}, page faults disabled` };
    }
    const r = handleFault(ctx, addr, write, { what });
    if (!r.ok) return { ok: false, reason: r.reason ?? 'fault failed' };
    pte = mm.ptes[String(vpn)];
  }
  const page = ctx.s.pages[pte.page];
  touch(ctx, `page:${page.id}`, write ? 'w' : 'r');
  return { ok: true, page };
}

/** First byte in [from, to) of `page` (mapped at vpn) whose MTE granule mismatches, if the profile has sub-page faults. */
export function firstTagFault(ctx: OpCtx, page: Page, vpn: number, from: number, to: number): number | undefined {
  const g = ctx.profile.subpageGranule;
  // With mismatched granules on the page, the answer depends on the granule (ProfileUse).
  if (page.badGranules.length && ctx.profileUse) ctx.profileUse.subpageGranule = true;
  if (!g || page.badGranules.length === 0) return undefined;
  const base = pageBase(ctx, vpn);
  for (const off of [...page.badGranules].sort((a, b) => a - b)) {
    const gs = base + off;
    const ge = gs + g;
    if (ge > from && gs < to) return Math.max(from, gs);
  }
  return undefined;
}

export interface CopyResult {
  notCopied: number;
  /** The faulting byte, when the copy fell short. */
  faultAt?: number;
  reason?: string;
  stoppedAt: number;
}

/**
 * raw_copy_{to,from}_user semantics (arch/arm64/lib/copy_*_user.S): find the first byte that faults (servicing page faults
 * when allowed), then stop up to the arch fault window before it — the model takes the worst
 * stop the contract allows — but, since v5.14 on arm64, with at least one byte of progress.
 */
export function userCopy(ctx: OpCtx, addr: number, len: number, toUser: boolean, serviceFaults: boolean, what: string): CopyResult {
  // Bound the walk (bad input never hangs): at most MAX_WALK_PAGES pages per access.
  len = Math.min(len, MAX_WALK_PAGES * ctx.profile.pageSize);
  const end = addr + len;
  if (len <= 0) return { notCopied: 0, stoppedAt: addr };
  const ps = ctx.profile.pageSize;
  let pos = addr;
  let reason: string | undefined;
  while (pos < end) {
    const vpn = vpnOf(ctx, pos);
    const pageEnd = Math.min(end, (vpn + 1) * ps);
    const r = accessUserPage(ctx, pos, toUser, serviceFaults, what);
    if (!r.ok) {
      reason = r.reason;
      break;
    }
    const tagAt = firstTagFault(ctx, r.page, vpn, pos, pageEnd);
    if (tagAt !== undefined) {
      pos = tagAt;
      reason = `tag mismatch at granule +${hex(tagAt - vpn * ps)} of page ${hex(vpn * ps)}: MTE tag check fault, which handle_mm_fault cannot fix`;
      break;
    }
    pos = pageEnd;
  }
  const fault = pos;
  let stop = fault;
  if (fault < end) {
    // Past the first byte the stop depends on the profile's window (ProfileUse).
    if (fault > addr && ctx.profileUse) ctx.profileUse.faultWindow = true;
    const window = toUser ? ctx.profile.faultWindow.toUser : ctx.profile.faultWindow.fromUser;
    stop = Math.max(addr, fault - window);
    if (stop === addr && fault > addr && ctx.profile.zeroProgressBeforeV514 && ctx.sw.oneByteProgress) stop = addr + 1;
  }
  if (toUser) storeUser(ctx, addr, stop);
  return fault < end
    ? { notCopied: end - stop, faultAt: fault, reason, stoppedAt: stop }
    : { notCopied: 0, stoppedAt: end };
}

/** The bytes [from, to) were stored by the current step: relabel the pages they land in. */
function storeUser(ctx: OpCtx, from: number, to: number): void {
  const mm = mmOf(ctx);
  const ps = ctx.profile.pageSize;
  for (let p = from; p < to; p = (vpnOf(ctx, p) + 1) * ps) {
    const pte = mm.ptes[String(vpnOf(ctx, p))];
    if (!pte) continue;
    const page = ctx.s.pages[pte.page];
    writePage(ctx, page, `${ctx.label}`);
  }
}

export function writePage(ctx: OpCtx, page: Page, label: string): void {
  touch(ctx, `page:${page.id}`, 'w');
  page.content = label;
}

// ---------------------------------------------------------------------------------------------
// fault_in_* (mm/gup.c): one byte per page (from uaddr, then the first byte of every following
// page), or per granule; real return values per version.

export interface FaultInResult {
  ret: number;
  note: string;
}

export function faultIn(ctx: OpCtx, uaddr: number, size: number, f: { access: 'read' | 'write' | 'safe-write'; probe: 'page' | 'granule';
  returns: 'bytes-not-faulted' | 'zero-or-efault'; subpageOnly?: boolean }, what: string): FaultInResult {
  const ps = ctx.profile.pageSize;
  if (size <= 0) return { ret: 0, note: `${what}: size 0` };
  const end = uaddr + Math.min(size, MAX_WALK_PAGES * ps);
  const write = f.access !== 'read';
  const probed: string[] = [];
  let reached = uaddr;
  let failedAt: number | undefined;
  let failReason = '';
  // Page-table pass (skipped by probe_subpage_writeable, which is only the arch probe).
  if (!f.subpageOnly) {
    let cur = uaddr;
    while (cur < end) {
      const r = accessUserPage(ctx, cur, write, true, `${what} probing ${hex(cur)}`);
      const ok = r.ok && (f.access === 'safe-write' || firstTagFault(ctx, r.page, vpnOf(ctx, cur), cur, cur + 1) === undefined);
      probed.push(hex(cur));
      if (!ok) {
        failedAt = cur;
        failReason = r.ok ? 'tag mismatch at the probed byte' : r.reason;
        break;
      }
      cur = (vpnOf(ctx, cur) + 1) * ps;
    }
    reached = failedAt ?? end;
  }
  let ret: number;
  if (failedAt === undefined) ret = 0;
  else if (failedAt === uaddr) ret = size;
  else if (f.access === 'safe-write' && ctx.sw.faultInSafeWriteableReturnsZero) {
    // fe673d3f5bf1 computed size - (uaddr - start) with the wrong sign: a later page failing
    // makes it report 0, "everything faulted in" (mm/gup.c, v5.17-rc8 .. 8c03ebd7cdc0).
    ret = 0;
  } else ret = end - failedAt; // later probes sit on page starts: page-granular progress
  void reached;
  const pageText = (a: string): string => {
    const n = Number(a);
    return n % ps === 0 ? `the first byte of page ${a}` : `byte ${a} of page ${hex(n - (n % ps))}`;
  };
  let note = f.subpageOnly ? '' : `${what} probed ${probed.length === 1 ? `${pageText(probed[0])} only` : `${pageText(probed[0])} and the first byte of ${probed.length - 1} following page(s)`}`;
  if (failedAt !== undefined) note += `; ${hex(failedAt)} failed: ${failReason}`;
  if (failedAt !== undefined && ret === 0) note += `; returned 0 anyway (fault_in_safe_writeable return-value bug, ${ctx.sw.version})`;
  // Sub-page pass: mte_probe_user_range over what passed (mm/gup.c fault_in_subpage_writeable()).
  const subpageProbe = f.probe === 'granule' && (f.subpageOnly || ret < size) && ctx.sw.subpageProbe;
  // Whether the probe runs is the granule's to say (ProfileUse).
  if (subpageProbe && ctx.profileUse) ctx.profileUse.subpageGranule = true;
  if (subpageProbe && ctx.profile.subpageGranule) {
    const passedEnd = f.subpageOnly ? end : end - ret;
    const g = ctx.profile.subpageGranule;
    let p = uaddr;
    let bad: number | undefined;
    while (p < passedEnd) {
      const r = accessUserPage(ctx, p, false, false, `${what} sub-page probe`);
      if (!r.ok || firstTagFault(ctx, r.page, vpnOf(ctx, p), p, p + 1) !== undefined) {
        bad = p;
        break;
      }
      p = p === uaddr ? Math.floor(uaddr / g) * g + g : p + g;
    }
    if (bad !== undefined) {
      ret = end - bad;
      note += `${note ? '; ' : ''}sub-page probe (${g}-byte granules) faulted at ${hex(bad)} (granule +${hex(bad % ps)}): returns ${ret}`;
    } else note += `${note ? '; ' : ''}sub-page probe of ${hex(uaddr)}..${hex(passedEnd)} clean`;
  }
  if (f.returns === 'zero-or-efault') ret = ret ? -14 : 0;
  return { ret, note };
}

// ---------------------------------------------------------------------------------------------
// GUP (mm/gup.c; Documentation/core-api/pin_user_pages.rst): FOLL_GET adds a reference, FOLL_PIN adds GUP_PIN_COUNTING_BIAS (small folio).

export function gupRange(ctx: OpCtx, start: number, nr: number, kind: 'get' | 'pin', write: boolean, noFault: boolean, what: string): { ret: number; pages: number[]; note: string } {
  const t = thread(ctx);
  const mm = mmOf(ctx);
  const callerHolds = !!holds(ctx.s, t.id, mmapLockName(mm.id));
  const pages: number[] = [];
  let why = '';
  nr = Math.min(nr, MAX_WALK_PAGES);
  for (let i = 0; i < nr; i++) {
    const addr = start + i * ctx.profile.pageSize;
    const vpn = vpnOf(ctx, addr);
    touch(ctx, `pte:${mm.id}:${vpn}`, 'r');
    touch(ctx, `vma:${mm.id}`, 'r');
    let pte = mm.ptes[String(vpn)];
    if (!pte || !pte.present || (write && !pte.write)) {
      if (noFault) { why = `page ${hex(addr)} needs a fault (FOLL_NOFAULT)`; break; }
      const r = handleFault(ctx, addr, write, { callerHoldsMmap: callerHolds, what: `${what}: fault at ${hex(addr)}` });
      if (!r.ok) { why = r.reason ?? 'fault failed'; break; }
      pte = mm.ptes[String(vpn)];
    }
    const page = ctx.s.pages[pte.page];
    touch(ctx, `page:${page.id}`, 'w');
    if (kind === 'pin') {
      page.refcount += GUP_PIN_COUNTING_BIAS;
      page.pincount++;
      page.gupPins++;
      mm.hasPinned = true;
      touch(ctx, `mm:${mm.id}`, 'w');
    } else {
      page.refcount++;
      page.gupGets++;
    }
    page.gupFrom = { mm: mm.id, vpn, write };
    pages.push(page.id);
  }
  const ret = pages.length > 0 || nr === 0 ? pages.length : -14;
  const note = `${what} ${kind === 'pin' ? 'pinned' : 'took references on'} ${pages.length} of ${nr} page(s)${pages.length ? ` (${pages.map((p) => `#${p}`).join(', ')})` : ''}${why ? `; stopped: ${why}` : ''}`;
  return { ret, pages, note };
}

export function releasePage(ctx: OpCtx, pageId: number | undefined, kind: 'get' | 'pin', what: string, slot: string): void {
  if (pageId === undefined) {
    throw new Violation('underflow', `${what}: ${slot} holds no page the GUP call returned — a reference is dropped on a page never taken`);
  }
  const page = ctx.s.pages[pageId];
  touch(ctx, `page:${page.id}`, 'w');
  if (kind === 'get') {
    if (page.gupGets > 0) {
      page.gupGets--;
      page.refcount--;
      ctx.deltas.push(`page #${page.id} refcount ${page.refcount + 1} -> ${page.refcount}`);
      return;
    }
    if (page.gupPins > 0) {
      page.refcount--;
      throw new Violation('underflow', `${what}: page #${page.id} was pinned with FOLL_PIN and is released as a plain reference: refcount drops by 1 to ${page.refcount}, the pin bias (${GUP_PIN_COUNTING_BIAS}) stays, page_maybe_dma_pinned() stays true and the pin count never returns to 0 — pin count underflow/divergence`);
    }
    throw new Violation('underflow', `${what}: put_page on page #${page.id}, which this code never took a reference on (refcount ${page.refcount} -> ${page.refcount - 1})`);
  }
  if (page.gupPins > 0) {
    page.gupPins--;
    page.pincount--;
    page.refcount -= GUP_PIN_COUNTING_BIAS;
    ctx.deltas.push(`page #${page.id} unpinned: refcount ${page.refcount + GUP_PIN_COUNTING_BIAS} -> ${page.refcount}`);
    return;
  }
  throw new Violation('underflow', `${what}: unpin of page #${page.id}, which holds no FOLL_PIN pin: refcount ${page.refcount} - ${GUP_PIN_COUNTING_BIAS} underflows`);
}

// ---------------------------------------------------------------------------------------------
// Dirtying, writeback, buffers (mm/page-writeback.c, fs/buffer.c).

export function setPageDirty(ctx: OpCtx, page: Page, what: string): void {
  touch(ctx, `page:${page.id}`, 'w');
  if (!page.anon && page.blockBacked && !page.buffers && !page.dirty) {
    throw new Violation('data-loss', `${what}: page #${page.id} of ${page.file} is dirtied after writeback cleaned it and try_to_free_buffers stripped its buffers — writeback of a page without buffers (ext4 BUG/warning, the write is dropped: cc5095747edf)`);
  }
  page.dirty = true;
  ctx.deltas.push(`page #${page.id} dirty`);
}

export function writebackClean(ctx: OpCtx, page: Page): boolean {
  touch(ctx, `page:${page.id}`, 'w');
  const was = page.dirty;
  page.dirty = false;
  page.disk = page.content;
  return was;
}

/** page_mkclean: every PTE mapping the page becomes clean and write-protected, TLBs flushed. */
export function pageMkclean(ctx: OpCtx, page: Page): number {
  let n = 0;
  for (const mm of ctx.s.mms) {
    for (const [k, pte] of Object.entries(mm.ptes)) {
      if (pte.page !== page.id || !pte.present) continue;
      touch(ctx, `pte:${mm.id}:${k}`, 'w');
      pte.write = false;
      pte.dirty = false;
      flushTlb(ctx, mm.id, [Number(k)]);
      n++;
    }
  }
  return n;
}

export function tryToFreeBuffers(ctx: OpCtx, page: Page): boolean {
  touch(ctx, `page:${page.id}`, 'w');
  if (page.dirty || !page.buffers) return false;
  page.buffers = false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Kernel-mapping accesses of GUP'd pages (drivers/vhost/vhost.c; thread "vhost: access vq metadata
// through kernel virtual address"): never tag-checked, never fault.

export function kernelWrite(ctx: OpCtx, page: Page, what: string): void {
  touch(ctx, `page:${page.id}`, 'w');
  if (page.freed) throw new Violation('data-loss', `${what}: write through a kernel mapping of page #${page.id} after it was freed`);
  const from = page.gupFrom;
  if (from && (page.gupPins > 0 || page.gupGets > 0)) {
    const pte = ctx.s.mms[from.mm].ptes[String(from.vpn)];
    if (!pte || !pte.present || pte.page !== page.id) {
      throw new Violation('data-loss', `${what}: the GUP'd page #${page.id} no longer backs ${hex(from.vpn * ctx.profile.pageSize)} (COW gave the process page #${pte?.page ?? '-'}): this write never reaches the process`);
    }
  }
  page.content = ctx.label;
}

// ---------------------------------------------------------------------------------------------
// Write-protect (fs/proc/task_mmu.c; commit 29a951dfb3c3): clear_refs soft-dirty and uffd-wp turn PTEs read-only without flushing.

export function writeProtect(ctx: OpCtx, addr: number, len: number, uffd: boolean): string[] {
  const mm = mmOf(ctx);
  const ps = ctx.profile.pageSize;
  const out: string[] = [];
  const first = vpnOf(ctx, addr);
  const last = Math.min(vpnOf(ctx, addr + Math.max(len, 1) - 1), first + MAX_WALK_PAGES);
  for (let vpn = first; vpn <= last; vpn++) {
    const pte = mm.ptes[String(vpn)];
    touch(ctx, `pte:${mm.id}:${vpn}`, 'w');
    if (!pte || !pte.present) continue;
    const page = ctx.s.pages[pte.page];
    const vma = findVma(mm, vpn * ps);
    const cow = vma && (vma.kind === 'anon' || vma.kind === 'private-file');
    if (!uffd && ctx.sw.clearRefsSkipsPinned && pte.write && cow && mm.hasPinned && page.refcount >= GUP_PIN_COUNTING_BIAS) {
      out.push(`skipped pinned page #${page.id} at ${hex(vpn * ps)} (9348b73c2e1b)`);
      continue;
    }
    pte.write = false;
    if (uffd) pte.uffdWp = true;
    else pte.softDirty = false;
    mm.unflushed[String(vpn)] = ctx.tid;
    out.push(`pte ${hex(vpn * ps)} (page #${page.id}) write-protected${uffd ? ' (uffd-wp)' : ', soft-dirty cleared'}; TLB not flushed`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// fork (mm/memory.c copy_present_pte()): the child shares anon pages COW; both PTEs become read-only.

export function forkMm(s: SimState, parentId: number, sw: KernelSwitches): number {
  const parent = s.mms[parentId];
  const child: Mm = { id: s.mms.length, vmas: parent.vmas.map((v) => ({ ...v })), ptes: {}, tlbFlushPending: 0, hasPinned: false, notifiers: [], unflushed: {}, notifierSeq: 0, invalidating: 0 };
  for (const [k, pte] of Object.entries(parent.ptes)) {
    if (!pte.present) continue;
    const page = s.pages[pte.page];
    const vma = parent.vmas.find((v) => Number(k) * 4096 >= v.start && Number(k) * 4096 < v.end);
    const cow = vma && (vma.kind === 'anon' || vma.kind === 'private-file');
    if (cow && page.anon) {
      pte.write = false;
      page.anonExclusive = false;
      void sw;
    }
    child.ptes[k] = { ...pte };
    page.mapcount++;
    page.refcount++;
  }
  s.mms.push(child);
  for (const t of s.threads) if (t.mm === parentId) t.tlb = {};
  return child.id;
}

export function unmapPage(ctx: OpCtx, addr: number): string {
  const mm = mmOf(ctx);
  const vpn = vpnOf(ctx, addr);
  const pte = mm.ptes[String(vpn)];
  touch(ctx, `pte:${mm.id}:${vpn}`, 'w');
  if (!pte || !pte.present) return `nothing mapped at ${hex(addr)}`;
  const page = ctx.s.pages[pte.page];
  touch(ctx, `page:${page.id}`, 'w');
  delete mm.ptes[String(vpn)];
  page.mapcount--;
  page.refcount--;
  flushTlb(ctx, mm.id, [vpn]);
  mm.vmas = mm.vmas.flatMap((v) => (addr >= v.start && addr < v.end ? splitOut(v, vpn * ctx.profile.pageSize, ctx.profile.pageSize) : [v]));
  touch(ctx, `vma:${mm.id}`, 'w');
  return `munmap ${hex(addr)}: page #${page.id} mapcount ${page.mapcount + 1} -> ${page.mapcount}`;
}

function splitOut(v: Vma, start: number, size: number): Vma[] {
  const out: Vma[] = [];
  if (v.start < start) out.push({ ...v, end: start });
  if (start + size < v.end) out.push({ ...v, start: start + size });
  return out;
}
