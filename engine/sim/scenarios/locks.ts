// Page faults taken under locks the fault path needs (thread "gfs2: Fix mmap + page fault
// deadlocks"; commit 00bfe02f4796; include/linux/mmap_lock.h).

import { fn } from '../builder';
import type { Scenario } from '../scenario';

const MAP = 0x7f0000010000; // an mmap of the same gfs2 file

const gfs2Layout = {
  files: [{ name: 'inodeA', faultLock: 'glock(inodeA)', faultLockClass: 'glock' }],
  vmas: [{ start: MAP, pages: 1, kind: 'shared-file' as const, file: 'inodeA' }],
};
const gfs2Choices = [{
  name: 'present',
  options: [
    { label: 'mapped page present, clean (write-notify)' },
    { label: 'mapped page not present', layout: { vmas: [{ start: MAP, pages: 1, kind: 'shared-file' as const, file: 'inodeA', present: [] }] } },
  ],
}];

export const gfs2Before: Scenario = {
  name: 'gfs2-glock-fault',
  title: 'gfs2-style read: hold the inode glock, copy_to_user() into an mmap of the same file (deadlock)',
  source: 'thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22); commit 00bfe02f4796 (gfs2: page faults disabled around the copy)',
  side: 'before', pair: 'gfs2-pagefault-disabled', oracle: 'deadlock (self-wait)',
  functions: [fn('gfs2_file_read_iter', ['ubuf', 'len'], (b) => {
    b.call('gfs2_glock_nq', ['gh'], 'err');
    b.call('copy_to_user', ['ubuf', 'kbuf', 'len'], 'left');
    b.call('gfs2_glock_dq', ['gh']);
    b.ret('len - left');
  })],
  threads: [{ fn: 'gfs2_file_read_iter', args: [MAP + 0x100, 0x40] }],
  layout: gfs2Layout, choices: gfs2Choices, globals: { gh: 'glock(inodeA)', kbuf: 0x1000 },
  expect: { '*': 'deadlock' },
};

export const gfs2After: Scenario = {
  ...gfs2Before,
  name: 'gfs2-pagefault-disabled',
  title: 'the v5.16 fix (00bfe02f4796): copy with page faults disabled, on a short copy drop the glock, fault in, retake, retry',
  side: 'after', pair: 'gfs2-glock-fault',
  functions: [fn('gfs2_file_read_iter', ['ubuf', 'len'], (b) => {
    b.assign('done', 0);
    b.loop(() => {
      b.call('gfs2_glock_nq', ['gh'], 'err');
      b.call('pagefault_disable');
      b.call('copy_to_user', ['ubuf + done', 'kbuf', 'len - done'], 'left');
      b.call('pagefault_enable');
      b.assign('done', 'len - left');
      b.call('gfs2_glock_dq', ['gh']);
      b.if('left == 0', () => b.ret('done'));
      b.call('fault_in_safe_writeable', ['ubuf + done', 'left'], 'nr');
      b.if('nr == left', () => b.ret('-EFAULT'));
    });
  })],
  expect: { '*': 'ok' },
};

const BUF = 0x7f0000011000;

export const mmapWriterBefore: Scenario = {
  name: 'mmap-lock-writer-queued',
  title: 'copy_to_user() with faults enabled under mmap_read_lock while another thread queues mmap_write_lock (deadlock)',
  source: 'include/linux/mmap_lock.h; kernel/locking/rwsem.c (mmap_lock rwsem, writer preference)',
  side: 'before', pair: 'mmap-lock-fault-outside', oracle: 'deadlock (all blocked)',
  functions: [
    fn('walk_and_copy', ['ubuf'], (b) => {
      b.call('mmap_read_lock', ['mm']);
      b.call('copy_to_user', ['ubuf', 'kbuf', 0x40], 'left');
      b.call('mmap_read_unlock', ['mm']);
      b.ret('left');
    }),
    fn('do_mprotect', [], (b) => {
      b.call('mmap_write_lock', ['mm']);
      b.call('mmap_write_unlock', ['mm']);
      b.ret(0);
    }),
  ],
  threads: [{ fn: 'walk_and_copy', args: [BUF] }, { fn: 'do_mprotect' }],
  layout: { vmas: [{ start: BUF, pages: 1, kind: 'anon', present: [] }] }, globals: { kbuf: 0x1000 },
  expect: { '*': 'deadlock' },
};

export const mmapWriterAfter: Scenario = {
  ...mmapWriterBefore,
  name: 'mmap-lock-fault-outside',
  title: 'copy with page faults disabled under the lock; fault in after mmap_read_unlock and retry: ok',
  side: 'after', pair: 'mmap-lock-writer-queued',
  functions: [
    fn('walk_and_copy', ['ubuf'], (b) => {
      b.loop(() => {
        b.call('mmap_read_lock', ['mm']);
        b.call('pagefault_disable');
        b.call('copy_to_user', ['ubuf', 'kbuf', 0x40], 'left');
        b.call('pagefault_enable');
        b.call('mmap_read_unlock', ['mm']);
        b.if('left == 0', () => b.ret(0));
        b.call('fault_in_writeable', ['ubuf', 0x40], 'nr');
        b.if('nr == 0x40', () => b.ret('-EFAULT'));
      });
    }),
    mmapWriterBefore.functions[1],
  ],
  expect: { '*': 'ok' },
};
