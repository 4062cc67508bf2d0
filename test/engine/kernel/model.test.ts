// The memory model's parameters and operations against SEMANTICS.md: profiles, version switches,
// uaccess fault windows, fault-in return values, GUP counting, do_wp_page's reuse rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILES, getProfile } from '../../../engine/kernel/profiles';
import { compareVersions, kernelSwitches, parseKernelVersion } from '../../../engine/kernel/versions';
import { GUP_PIN_COUNTING_BIAS, newPage, type Layout, type SimState } from '../../../engine/kernel/state';
import { Violation, faultIn, gupRange, releasePage, userCopy, wpReuse, type OpCtx } from '../../../engine/kernel/ops';
import { lookupApi } from '../../../engine/kernel/api-table';
import { opCtxFor } from '../../helpers/op-ctx';

const BUF = 0x7f0000001000;

test('profiles are the SEMANTICS.md table', () => {
  assert.equal(PROFILES.x86_64.faultWindow.toUser, 0);
  assert.equal(PROFILES.arm64.faultWindow.toUser, 15);
  assert.equal(PROFILES.arm64.faultWindow.fromUser, 63);
  assert.equal(PROFILES.arm64.subpageGranule, 0);
  assert.equal(PROFILES['arm64-mte'].subpageGranule, 16);
  for (const p of Object.values(PROFILES)) assert.equal(p.pageSize, 4096);
  assert.equal(getProfile('riscv'), undefined);
});

test('kernel-version switches follow the SEMANTICS.md table', () => {
  assert.ok(compareVersions(parseKernelVersion('v5.17-rc8')!, parseKernelVersion('v5.17')!) < 0);
  assert.ok(compareVersions(parseKernelVersion('5.16')!, parseKernelVersion('v5.15.80')!) > 0);
  assert.equal(kernelSwitches('v5.15').faultInReturns, 'zero-or-efault');
  assert.equal(kernelSwitches('v5.16').faultInReturns, 'bytes-not-faulted');
  assert.equal(kernelSwitches('v5.18').subpageProbe, false);
  assert.equal(kernelSwitches('v5.19').subpageProbe, true);
  assert.equal(kernelSwitches('v5.13').oneByteProgress, false);
  assert.equal(kernelSwitches('v5.14').oneByteProgress, true);
  assert.equal(kernelSwitches('v5.17-rc7').faultInSafeWriteableReturnsZero, false);
  assert.equal(kernelSwitches('v5.17-rc8').faultInSafeWriteableReturnsZero, true);
  assert.equal(kernelSwitches('v6.14').faultInSafeWriteableReturnsZero, true);
  assert.equal(kernelSwitches('v6.15').faultInSafeWriteableReturnsZero, false);
  assert.equal(kernelSwitches('v5.8').wpReuse, 'mapcount');
  assert.equal(kernelSwitches('v5.9').wpReuse, 'page-count');
  assert.equal(kernelSwitches('v5.18').wpReuse, 'page-count');
  assert.equal(kernelSwitches('v5.19').wpReuse, 'anon-exclusive');
  assert.equal(kernelSwitches('v5.11-rc3').clearRefsSkipsPinned, false);
  assert.equal(kernelSwitches('v5.11-rc4').clearRefsSkipsPinned, true);
  assert.equal(kernelSwitches('v6.4').stackExpansionUnderReadLock, true);
  assert.equal(kernelSwitches('v6.5').stackExpansionUnderReadLock, false);
  assert.equal(kernelSwitches('v5.5').gupReleaseNames, 'put_user_page');
  assert.equal(kernelSwitches().gupReleaseNames, 'unpin_user_page');
});

test('a failing copy stops at the fault on x86, up to the fault window before it on arm64, with one byte of progress since v5.14', () => {
  const layout: Layout = { vmas: [{ start: BUF, pages: 2, kind: 'anon', present: [0] }] };
  const start = BUF + 0x1000 - 8;
  const x86 = userCopy(opCtxFor(layout, 'x86_64'), start, 0x20, true, false, 'copy');
  assert.equal(x86.faultAt, BUF + 0x1000);
  assert.equal(x86.notCopied, 0x18);
  const old = userCopy(opCtxFor(layout, 'arm64', 'v5.13'), start, 0x20, true, false, 'copy');
  assert.equal(old.notCopied, 0x20, 'nothing copied before v5.14');
  const newer = userCopy(opCtxFor(layout, 'arm64', 'v5.14'), start, 0x20, true, false, 'copy');
  assert.equal(newer.notCopied, 0x1f, 'one byte of progress');
  const far = userCopy(opCtxFor(layout, 'arm64'), BUF + 0x1000 - 0x100, 0x200, false, false, 'copy');
  assert.equal(far.stoppedAt, BUF + 0x1000 - 63, 'copy_from_user may stop 63 bytes short');
  const serviced = userCopy(opCtxFor(layout, 'x86_64'), start, 0x20, true, true, 'copy');
  assert.equal(serviced.notCopied, 0, 'with page faults enabled the fault is handled');
});

test('MTE: a tag mismatch faults the copy inside a present page and page-table fault-in cannot see it', () => {
  const layout: Layout = { vmas: [{ start: BUF, pages: 1, kind: 'anon' }], badGranules: [BUF + 0x47] };
  const mte = opCtxFor(layout, 'arm64-mte');
  const c = userCopy(mte, BUF, 0x100, true, true, 'copy');
  assert.equal(c.faultAt, BUF + 0x40, 'faults at the start of the granule');
  assert.match(c.reason ?? '', /granule \+0x40/);
  const f = lookupApi('fault_in_writeable')!.faultIn!;
  assert.equal(faultIn(mte, BUF, 0x100, f, 'fault_in_writeable').ret, 0, 'fault_in_writeable probes one byte per page');
  const sub = lookupApi('fault_in_subpage_writeable')!.faultIn!;
  assert.equal(faultIn(opCtxFor(layout, 'arm64-mte'), BUF, 0x100, sub, 'fault_in_subpage_writeable').ret, 0x100 - 0x40);
  assert.equal(faultIn(opCtxFor(layout, 'x86_64'), BUF, 0x100, sub, 'fault_in_subpage_writeable').ret, 0, 'no sub-page faults on x86');
  const probe = lookupApi('probe_subpage_writeable')!.faultIn!;
  assert.equal(faultIn(opCtxFor(layout, 'arm64-mte'), BUF + 0x10, 0x40, probe, 'probe_subpage_writeable').ret, 0x10);
  assert.equal(userCopy(opCtxFor(layout, 'x86_64'), BUF, 0x100, true, true, 'copy').notCopied, 0);
});

test('fault_in_* return values: bytes not faulted in (page granular), the old all-or-nothing, the safe_writeable bug', () => {
  const layout: Layout = { vmas: [{ start: BUF, pages: 2, kind: 'anon', present: [] }] };
  const w = lookupApi('fault_in_writeable')!.faultIn!;
  assert.equal(faultIn(opCtxFor(layout, 'x86_64'), BUF + 0x10, 0x2000, w, 'f').ret, 0x10, 'the page past the VMA fails; progress counted to its start');
  assert.equal(faultIn(opCtxFor(layout, 'x86_64'), BUF + 0x3000, 0x10, w, 'f').ret, 0x10, 'nothing: size');
  assert.equal(faultIn(opCtxFor(layout, 'x86_64'), BUF, 0, w, 'f').ret, 0);
  const old = lookupApi('fault_in_pages_writeable')!.faultIn!;
  assert.equal(faultIn(opCtxFor(layout, 'x86_64'), BUF + 0x10, 0x2000, old, 'f').ret, -14);
  const safe = lookupApi('fault_in_safe_writeable')!.faultIn!;
  assert.equal(faultIn(opCtxFor(layout, 'x86_64', 'v6.1'), BUF + 0x10, 0x2000, safe, 'f').ret, 0, 'v5.17-rc8..fix: 0 although a later page failed');
  assert.equal(faultIn(opCtxFor(layout, 'x86_64', 'v6.1'), BUF + 0x3000, 0x10, safe, 'f').ret, 0x10, 'the first page failing is still reported');
  assert.equal(faultIn(opCtxFor(layout, 'x86_64', 'v6.16'), BUF + 0x10, 0x2000, safe, 'f').ret, 0x10);
});

test('GUP: FOLL_GET adds one reference, FOLL_PIN the 1024 bias; mismatched releases are caught', () => {
  const layout: Layout = { vmas: [{ start: BUF, pages: 3, kind: 'anon' }] };
  const ctx = opCtxFor(layout, 'x86_64');
  const pin = gupRange(ctx, BUF, 2, 'pin', true, false, 'pin_user_pages');
  assert.equal(pin.ret, 2);
  assert.equal(ctx.s.pages[pin.pages[0]].refcount, 1 + GUP_PIN_COUNTING_BIAS);
  assert.equal(ctx.s.pages[pin.pages[0]].pincount, 1);
  assert.throws(() => releasePage(ctx, pin.pages[0], 'get', 'put_page()', 'pages[0]'), (e: unknown) => e instanceof Violation && e.verdict === 'underflow');
  releasePage(ctx, pin.pages[1], 'pin', 'unpin_user_page()', 'pages[1]');
  assert.equal(ctx.s.pages[pin.pages[1]].refcount, 1);
  const get = gupRange(ctx, BUF + 0x2000, 2, 'get', false, false, 'get_user_pages');
  assert.equal(get.ret, 1, 'partial: the second page is outside the VMA');
  assert.equal(gupRange(ctx, BUF + 0x5000, 1, 'get', false, false, 'get_user_pages').ret, -14, 'none taken: -EFAULT');
  assert.throws(() => releasePage(ctx, undefined, 'get', 'put_page()', 'pages[1]'), /never taken/);
});

test('do_wp_page reuse: by mapcount (<= v5.8), page_count == 1 (v5.9+), anon-exclusive (v5.19+)', () => {
  const mk = (kernel: string): { ctx: OpCtx; s: SimState } => {
    const ctx = opCtxFor({ vmas: [{ start: BUF, pages: 1, kind: 'anon' }] }, 'x86_64', kernel);
    return { ctx, s: ctx.s };
  };
  for (const [kernel, reuse] of [['v5.8', true], ['v5.10', false], ['v6.1', true]] as const) {
    const { ctx, s } = mk(kernel);
    const p = s.pages[0];
    p.refcount += 1; // an extra GUP reference
    assert.equal(wpReuse(ctx, p).reuse, reuse, kernel);
  }
  const { ctx, s } = mk('v6.1');
  const shared = newPage(s, { anon: true, anonExclusive: false, refcount: 2, mapcount: 2 });
  assert.equal(wpReuse(ctx, shared).reuse, false);
});

test('the mm API table carries the facets the simulator interprets', () => {
  const need: Record<string, (e: NonNullable<ReturnType<typeof lookupApi>>) => boolean> = {
    copy_to_user: (e) => e.uaccess?.direction === 'to-user' && !e.uaccess.nofault,
    copy_from_user: (e) => e.uaccess?.direction === 'from-user',
    __copy_to_user_inatomic: (e) => !!e.uaccess?.nofault,
    copy_to_user_nofault: (e) => e.uaccess?.returns === 'errno',
    copy_page_from_iter_atomic: (e) => e.uaccess?.returns === 'bytes-done' && !!e.uaccess.nofault,
    copy_folio_from_iter_atomic: (e) => !!e.uaccess,
    copy_page_to_iter: (e) => e.uaccess?.nofault === false,
    _copy_to_iter: (e) => !!e.uaccess,
    fault_in_readable: (e) => e.faultIn?.access === 'read',
    fault_in_writeable: (e) => e.faultIn?.probe === 'page',
    fault_in_safe_writeable: (e) => e.faultIn?.access === 'safe-write',
    fault_in_subpage_writeable: (e) => e.faultIn?.probe === 'granule',
    fault_in_iov_iter_readable: (e) => !!e.faultIn?.iter,
    fault_in_iov_iter_writeable: (e) => !!e.faultIn?.iter,
    probe_subpage_writeable: (e) => !!e.faultIn?.subpageOnly,
    fault_in_pages_writeable: (e) => e.faultIn?.returns === 'zero-or-efault',
    fault_in_pages_readable: (e) => e.faultIn?.returns === 'zero-or-efault',
    iov_iter_fault_in_readable: (e) => e.faultIn?.returns === 'zero-or-efault',
    pagefault_disable: (e) => e.pagefault === 'disable',
    pagefault_enable: (e) => e.pagefault === 'enable',
    kmap_atomic: (e) => e.pagefault === 'disable',
    kmap_local_page: (e) => e.mem?.op === 'kmap',
    mmap_read_lock: (e) => e.lock?.lock === 'mmap_lock' && e.lock.mode === 'read',
    mmap_write_lock: (e) => e.lock?.mode === 'write',
    mmap_read_unlock: (e) => e.lock?.op === 'release',
    mmap_write_downgrade: (e) => e.lock?.op === 'downgrade',
    mmap_read_trylock: (e) => e.lock?.op === 'trylock',
    lock_page: (e) => e.lock?.lock === 'page_lock',
    mutex_lock: (e) => e.lock?.lock === 'mutex',
    spin_lock: (e) => e.lock?.lock === 'spinlock',
    down_read: (e) => e.lock?.lock === 'rwsem',
    inode_lock: (e) => !!e.lock?.takenByFaultPath,
    gfs2_glock_nq: (e) => e.lock?.lock === 'glock' && !!e.lock.takenByFaultPath,
    set_page_dirty: (e) => e.mem?.op === 'set-page-dirty' && !!e.mem.needsPageLock,
    set_page_dirty_lock: (e) => e.mem?.op === 'set-page-dirty-lock',
    try_to_free_buffers: (e) => e.mem?.op === 'try-to-free-buffers',
    inc_tlb_flush_pending: (e) => e.mem?.op === 'inc-tlb-flush-pending',
    dec_tlb_flush_pending: (e) => !!e.mem,
    flush_tlb_mm: (e) => !!e.mem,
    flush_tlb_range: (e) => !!e.mem,
    vmap: (e) => e.mem?.op === 'vmap',
    vunmap: (e) => !!e.mem,
    mmu_interval_notifier_insert: (e) => e.mem?.op === 'mmu-notifier-register',
    mmu_notifier_register: (e) => !!e.mem,
  };
  for (const [name, ok] of Object.entries(need)) {
    const e = lookupApi(name);
    assert.ok(e, `${name} is in the table`);
    assert.ok(ok(e), `${name} has the right facet`);
    assert.ok(e.signature.includes(name) && e.header && e.summary, `${name} has signature, header, summary`);
  }
});
