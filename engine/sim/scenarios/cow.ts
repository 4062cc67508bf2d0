// Write-protect, COW and the TLB (thread "fs/task_mmu: acquire mmap_lock for write on soft-dirty
// cleanup"; commit 09854ba94c6a).

import { fn } from '../builder';
import type { Scenario } from '../scenario';

const X = 0x7f0000020000;

function clearRefs(lock: 'read' | 'write', flush: boolean) {
  return fn('clear_refs_write', ['addr'], (b) => {
    b.call(lock === 'read' ? 'mmap_read_lock' : 'mmap_write_lock', ['mm']);
    b.call('inc_tlb_flush_pending', ['mm']);
    b.call('clear_soft_dirty', ['vma', 'addr', 'pte']);
    if (flush) b.call('flush_tlb_mm', ['mm']);
    b.call('dec_tlb_flush_pending', ['mm']);
    b.call(lock === 'read' ? 'mmap_read_unlock' : 'mmap_write_unlock', ['mm']);
    b.ret(0);
  });
}

const userStores = fn('user_stores', ['addr'], (b) => {
  b.call('sim_user_write', ['addr']);
  b.call('sim_user_write', ['addr']);
  b.ret(0);
});
const userStore = fn('user_store', ['addr'], (b) => {
  b.call('sim_user_write', ['addr']);
  b.ret(0);
});

export const clearRefsBefore: Scenario = {
  name: 'clear-refs-read-lock',
  title: 'clear_refs soft-dirty under mmap_read_lock, deferred flush, vs a write fault on a GUP-pinned page (data-loss, v5.10)',
  source: 'thread “fs/task_mmu: acquire mmap_lock for write on soft-dirty cleanup” (2021-01-05, https://lore.kernel.org/all/?q=s%3A%22fs%2Ftask_mmu%3A%20acquire%20mmap_lock%20for%20write%20on%20soft-dirty%20cleanup%22); commit 09854ba94c6a ("mm: do_wp_page() simplification"); commit 29a951dfb3c3 ("mm: fix clear_refs_write locking"); fs/proc/task_mmu.c',
  side: 'before', pair: 'clear-refs-write-lock', oracle: 'data loss (COW vs stale TLB)',
  functions: [clearRefs('read', true), userStores, userStore],
  threads: [
    { fn: 'clear_refs_write', args: [X], name: 'clear_refs' },
    { fn: 'user_stores', args: [X], name: 'writer (TLB cached)' },
    { fn: 'user_store', args: [X], name: 'writer (faulting)' },
  ],
  layout: { vmas: [{ start: X, pages: 1, kind: 'anon' }], pinnedBy: [{ addr: X, pins: 1 }], tlb: { 1: [X] } },
  kernel: 'v5.10',
  expect: { '*': 'data-loss' },
};

export const clearRefsAfter: Scenario = {
  ...clearRefsBefore,
  name: 'clear-refs-write-lock',
  title: 'clear_refs under mmap_write_lock (29a951dfb3c3): the write fault waits for the flush; ok',
  side: 'after', pair: 'clear-refs-read-lock',
  functions: [clearRefs('write', true), userStores, userStore],
  expect: { '*': 'ok' },
};

export const clearRefsNoFlush: Scenario = {
  name: 'clear-refs-no-flush',
  title: 'soft-dirty cleared under mmap_write_lock but the TLB flush skipped (912efa17e512): a CPU keeps writing through its stale entry',
  source: 'thread “fs/task_mmu: acquire mmap_lock for write on soft-dirty cleanup” (2021-01-05, https://lore.kernel.org/all/?q=s%3A%22fs%2Ftask_mmu%3A%20acquire%20mmap_lock%20for%20write%20on%20soft-dirty%20cleanup%22); commit 912efa17e512; fs/proc/task_mmu.c',
  side: 'before', pair: 'clear-refs-flushed', oracle: 'stale TLB',
  functions: [clearRefs('write', false), userStores],
  threads: [{ fn: 'clear_refs_write', args: [X], name: 'clear_refs' }, { fn: 'user_stores', args: [X], name: 'writer (TLB cached)' }],
  layout: { vmas: [{ start: X, pages: 1, kind: 'anon' }], tlb: { 1: [X] } },
  expect: { '*': 'stale-tlb' },
};

export const clearRefsFlushed: Scenario = {
  ...clearRefsNoFlush,
  name: 'clear-refs-flushed',
  title: 'the same with flush_tlb_mm() before dec_tlb_flush_pending(): ok',
  side: 'after', pair: 'clear-refs-no-flush',
  functions: [clearRefs('write', true), userStores],
  expect: { '*': 'ok' },
};

const V = 0x7f0000021000;

const parentStore = fn('parent_store', ['addr'], (b) => {
  b.call('sim_user_write', ['addr']);
  b.ret(0);
});
const childVmsplice = fn('child_vmsplice', ['addr'], (b) => {
  b.decl('pages', 'struct page *', 1);
  // vmsplice(): a read-only FOLL_GET reference parked in a pipe
  b.call('get_user_pages_fast', ['addr', 1, 0, 'pages'], 'n');
  b.if('n != 1', () => b.ret('-EFAULT'));
  b.call('sim_munmap', ['addr']);
  b.call('sim_device_read', ['pages[0]']);
  b.call('put_page', ['pages[0]']);
  b.ret(0);
});

export const vmspliceForkBefore: Scenario = {
  name: 'vmsplice-fork-mapcount',
  title: 'child vmsplices a COW-shared page then unmaps it; the parent\'s later write is reused by mapcount (<= v5.8): the child reads it',
  source: 'mm/memory.c do_wp_page() reuse rule by version; commit 09854ba94c6a ("mm: do_wp_page() simplification"); fs/proc/task_mmu.c',
  side: 'before', pair: 'vmsplice-fork-page-count', oracle: 'data loss (COW reuse)',
  functions: [parentStore, childVmsplice],
  threads: [{ fn: 'parent_store', args: [V], name: 'parent' }, { fn: 'child_vmsplice', args: [V], mm: 1, name: 'child' }],
  layout: { vmas: [{ start: V, pages: 1, kind: 'anon' }], forked: true },
  kernel: 'v5.8',
  expect: { '*': 'data-loss' },
};

export const vmspliceForkAfter: Scenario = {
  ...vmspliceForkBefore,
  name: 'vmsplice-fork-page-count',
  title: 'the same on v5.9+ (09854ba94c6a: reuse only if page_count == 1): the parent gets a copy; ok',
  side: 'after', pair: 'vmsplice-fork-mapcount', kernel: 'v5.9',
  expect: { '*': 'ok' },
};
