// GUP reference balance and dirtying GUP'd file pages (threads "Keep track of GUPed pages in fs and
// block" and "vhost: access vq metadata through kernel virtual address";
// Documentation/core-api/pin_user_pages.rst).

import { fn } from '../builder';
import type { Scenario } from '../scenario';

const Z = 0x7f0000040000;

const partialChoice = [{
  name: 'mapped',
  options: [
    { label: 'all 4 pages mapped' },
    { label: 'only 2 of 4 pages mapped (partial return)', layout: { vmas: [{ start: Z, pages: 2, kind: 'anon' as const }] } },
  ],
}];

function gupRelease(bound: 'nr' | 'ret') {
  return fn('gup_all', ['uaddr', 'nr'], (b) => {
    b.decl('pages', 'struct page *', 4);
    b.call('get_user_pages_fast', ['uaddr', 'nr', 'FOLL_WRITE', 'pages'], 'ret');
    b.if('ret < 0', () => b.ret('ret'));
    b.assign('i', 0);
    b.loop(() => {
      b.call('put_page', ['pages[i]']);
      b.assign('i', 'i + 1');
    }, `i < ${bound}`);
    b.ret(0);
  });
}

export const gupPartialBefore: Scenario = {
  name: 'gup-partial-release-nr',
  title: 'get_user_pages_fast() of N pages returns fewer; the release loop runs over N (underflow)',
  source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22); mm/gup.c; Documentation/core-api/pin_user_pages.rst',
  side: 'before', pair: 'gup-partial-release-ret', oracle: 'reference underflow',
  functions: [gupRelease('nr')],
  threads: [{ fn: 'gup_all', args: [Z, 4] }],
  layout: { vmas: [{ start: Z, pages: 4, kind: 'anon' }] }, choices: partialChoice,
  expect: { '*': 'underflow' },
};

export const gupPartialAfter: Scenario = {
  ...gupPartialBefore,
  name: 'gup-partial-release-ret',
  title: 'the release loop over the returned count: ok',
  side: 'after', pair: 'gup-partial-release-nr',
  functions: [gupRelease('ret')],
  expect: { '*': 'ok' },
};

function pinRelease(release: 'put_page' | 'unpin_user_page') {
  return fn('pin_one', ['uaddr'], (b) => {
    b.decl('pages', 'struct page *', 1);
    b.call('pin_user_pages_fast', ['uaddr', 1, 'FOLL_WRITE', 'pages'], 'ret');
    b.if('ret != 1', () => b.ret('-EFAULT'));
    b.call(release, ['pages[0]']);
    b.ret(0);
  });
}

export const pinPutBefore: Scenario = {
  name: 'pin-put-page',
  title: 'pin_user_pages_fast() released with put_page(): the pin bias stays (pin count underflow)',
  source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22); mm/gup.c; Documentation/core-api/pin_user_pages.rst',
  side: 'before', pair: 'pin-unpin', oracle: 'pin released as a plain reference',
  functions: [pinRelease('put_page')],
  threads: [{ fn: 'pin_one', args: [Z] }],
  layout: { vmas: [{ start: Z, pages: 1, kind: 'anon' }] },
  expect: { '*': 'underflow' },
};

export const pinPutAfter: Scenario = {
  ...pinPutBefore,
  name: 'pin-unpin',
  title: 'pin_user_pages_fast() released with unpin_user_page(): ok',
  side: 'after', pair: 'pin-put-page',
  functions: [pinRelease('unpin_user_page')],
  expect: { '*': 'ok' },
};

export const getUnpinBefore: Scenario = {
  ...pinPutBefore,
  name: 'get-unpin',
  title: 'get_user_pages_fast() released with unpin_user_page(): subtracts 1024 from a plain reference (underflow)',
  pair: 'pin-unpin', oracle: 'reference underflow',
  functions: [fn('get_one', ['uaddr'], (b) => {
    b.decl('pages', 'struct page *', 1);
    b.call('get_user_pages_fast', ['uaddr', 1, 'FOLL_WRITE', 'pages'], 'ret');
    b.if('ret != 1', () => b.ret('-EFAULT'));
    b.call('unpin_user_page', ['pages[0]']);
    b.ret(0);
  })],
  threads: [{ fn: 'get_one', args: [Z] }],
};

function gupErrorPath(fixed: boolean) {
  return fn('gup_two', ['uaddr'], (b) => {
    b.decl('pages', 'struct page *', 2);
    b.call('get_user_pages_fast', ['uaddr', 2, 'FOLL_WRITE', 'pages'], 'ret');
    b.if('ret < 0', () => b.ret('ret'));
    b.if('ret != 2', () => {
      if (fixed) b.if('ret == 1', () => b.call('put_page', ['pages[0]']));
      b.ret('-EFAULT');
    });
    b.call('put_page', ['pages[0]']);
    b.call('put_page', ['pages[1]']);
    b.ret(0);
  });
}

export const gupLeakBefore: Scenario = {
  name: 'gup-error-path-leak',
  title: 'a partial get_user_pages_fast() return takes the error path without releasing what was taken (leak)',
  source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22); mm/gup.c; Documentation/core-api/pin_user_pages.rst',
  side: 'before', pair: 'gup-error-path-release', oracle: 'reference leak',
  functions: [gupErrorPath(false)],
  threads: [{ fn: 'gup_two', args: [Z] }],
  layout: { vmas: [{ start: Z, pages: 2, kind: 'anon' }] },
  choices: [{ name: 'mapped', options: [{ label: 'both pages mapped' }, { label: 'second page unmapped', layout: { vmas: [{ start: Z, pages: 1, kind: 'anon' as const }] } }] }],
  expect: { '*': 'leak' },
};

export const gupLeakAfter: Scenario = {
  ...gupLeakBefore,
  name: 'gup-error-path-release',
  title: 'the error path releases the pages the call did take: ok',
  side: 'after', pair: 'gup-error-path-leak',
  functions: [gupErrorPath(true)],
  expect: { '*': 'ok' },
};

const Y = 0x7f0000030000;
const ext4Layout = {
  files: [{ name: 'ext4file', blockBacked: true }],
  vmas: [{ start: Y, pages: 1, kind: 'shared-file' as const, file: 'ext4file' }],
};

const reclaim = fn('writeback_reclaim', ['uaddr'], (b) => {
  b.call('sim_page_of', ['uaddr'], 'page');
  b.if('page == 0', () => b.ret(0));
  b.call('lock_page', ['page']);
  b.call('clear_page_dirty_for_io', ['page'], 'was_dirty');
  b.call('try_to_free_buffers', ['page'], 'freed');
  b.call('unlock_page', ['page']);
  b.ret(0);
});

/**
 * The vhost-style writer of thread "vhost: access vq metadata through kernel virtual address":
 * GUP one page, write it through kmap, dirty it with `dirty`.
 */
const vhostWritePage = (dirty: string) => fn('vhost_write_page', ['uaddr'], (b) => {
  b.decl('pages', 'struct page *', 1);
  b.call('get_user_pages_fast', ['uaddr', 1, 'FOLL_WRITE', 'pages'], 'n');
  b.if('n != 1', () => b.ret('-EFAULT'));
  b.call('kmap', ['pages[0]'], 'va');
  b.call('memcpy', ['va', 'src', 0x40]);
  b.call(dirty, ['pages[0]']);
  b.call('kunmap', ['pages[0]']);
  b.call('put_page', ['pages[0]']);
  b.ret(0);
});

export const gupDirtyBefore: Scenario = {
  name: 'gup-dirty-after-writeback',
  title: 'GUP\'d VM_SHARED ext4 page written through kmap, then set_page_dirty() after writeback + try_to_free_buffers (data-loss)',
  source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22); Documentation/core-api/pin_user_pages.rst (dirtying pinned file pages); mm/page-writeback.c (Jan Kara 2018, cc5095747edf)',
  side: 'before', pair: 'gup-dirty-notifier', oracle: 'data loss (page without buffers)',
  functions: [
    vhostWritePage('set_page_dirty'),
    reclaim,
  ],
  threads: [{ fn: 'vhost_write_page', args: [Y], name: 'vhost' }, { fn: 'writeback_reclaim', args: [Y], name: 'writeback/reclaim' }],
  layout: ext4Layout, globals: { src: 0x1000 },
  expect: { '*': 'data-loss' },
};

export const gupDirtyAfter: Scenario = {
  ...gupDirtyBefore,
  name: 'gup-dirty-notifier',
  title: 'dirty from the mmu notifier callback while the pte is still writable, access under the notifier\'s lock (vhost metadata thread, 2019): ok',
  side: 'after', pair: 'gup-dirty-after-writeback',
  functions: [
    fn('vhost_write_page', ['uaddr'], (b) => {
      b.decl('pages', 'struct page *', 1);
      b.call('mmu_interval_notifier_insert', ['sub', 'mm', 'uaddr', 'PAGE_SIZE', 'vhost_invalidate'], 'err');
      // the seqcount-style interval-notifier protocol (include/linux/mmu_notifier.h,
      // Documentation/mm/hmm.rst)
      b.loop(() => {
        b.call('mmu_interval_read_begin', ['sub'], 'seq');
        b.call('get_user_pages_fast', ['uaddr', 1, 'FOLL_WRITE', 'pages'], 'n');
        b.if('n != 1', () => b.ret('-EFAULT'));
        b.call('spin_lock', ['mmu_lock']);
        b.call('mmu_interval_read_retry', ['sub', 'seq'], 'retry');
        b.if('retry == 0', () => {
          b.call('kmap', ['pages[0]'], 'map');
          b.assign('mpage', 'pages[0]');
          b.call('spin_unlock', ['mmu_lock']);
          b.call('put_page', ['pages[0]']);
          b.break();
        });
        b.call('spin_unlock', ['mmu_lock']);
        b.call('put_page', ['pages[0]']);
      });
      b.call('spin_lock', ['mmu_lock']);
      b.if('map != 0', () => {
        b.call('memcpy', ['map', 'src', 0x40]);
        b.call('spin_unlock', ['mmu_lock']);
        b.ret(0);
      });
      b.call('spin_unlock', ['mmu_lock']);
      b.call('copy_to_user', ['uaddr', 'src', 0x40], 'left');
      b.ret(0);
    }),
    fn('vhost_invalidate', [], (b) => {
      b.call('spin_lock', ['mmu_lock']);
      b.if('map != 0', () => {
        b.call('set_page_dirty', ['mpage']);
        b.assign('map', 0);
      });
      b.call('spin_unlock', ['mmu_lock']);
      b.ret(0);
    }),
    reclaim,
  ],
  globals: { src: 0x1000, map: 0, mpage: 0 },
  expect: { '*': 'ok' },
};

export const gupDirtyLockAfterReclaim: Scenario = {
  ...gupDirtyBefore,
  name: 'gup-dirty-lock-after-reclaim',
  title: 'set_page_dirty_lock() instead: the page lock orders it after reclaim, which already stripped the buffers (still data-loss, Jan Kara 2018)',
  source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22); Documentation/core-api/pin_user_pages.rst (dirtying pinned file pages); mm/page-writeback.c (DIO completion: set_page_dirty_lock on a page without buffers)',
  side: 'before', pair: 'gup-dirty-notifier', oracle: 'data loss (page without buffers)',
  functions: [
    vhostWritePage('set_page_dirty_lock'),
    reclaim,
  ],
  expect: { '*': 'data-loss' },
};
