// Fault-in + uaccess retry loops (threads "Avoid live-lock in fault-in+uaccess loops with sub-page
// faults" and "gfs2: Fix mmap + page fault deadlocks"; mm/gup.c, include/linux/uaccess.h,
// fs/btrfs/ioctl.c).

import { fn } from '../builder';
import type { Scenario } from '../scenario';

const BUF = 0x7f0000001000;

/**
 * btrfs search_ioctl()'s loop shape (fs/btrfs/ioctl.c), in prose form: fault in the remaining user
 * buffer, copy the next item with page faults disabled, and on a failed copy leave sk_offset at
 * the item boundary and loop "so we can fault in the pages".
 */
function searchLoop(faultInFn: string) {
  return fn('search_ioctl', ['ubuf', 'buf_size'], (b) => {
    b.assign('sk_offset', 0);
    b.loop(() => {
      b.assign('ret', '-EFAULT');
      b.call(faultInFn, ['ubuf + sk_offset', 'buf_size - sk_offset'], 'nr');
      b.if('nr != 0', () => b.break());
      b.if('sk_offset >= buf_size', () => { b.assign('ret', 0); b.break(); });
      // copy_to_sk(): one 0x80-byte item (header + data) with page faults disabled
      b.call('copy_to_user_nofault', ['ubuf + sk_offset', 'item', 0x80], 'err');
      b.if('err == 0', () => b.assign('sk_offset', 'sk_offset + 0x80'));
    });
    b.ret('ret');
  });
}

const searchLayout = { vmas: [{ start: BUF, pages: 2, kind: 'anon' as const }] };
const searchChoices = [
  {
    name: 'tag',
    options: [
      { label: 'no tag mismatch' },
      { label: 'tag mismatch at granule +0x40 of the first page', layout: { badGranules: [BUF + 0x40] } },
    ],
  },
  {
    name: 'present',
    options: [
      { label: 'both pages present' },
      { label: 'second page not present', layout: { vmas: [{ start: BUF, pages: 2, kind: 'anon' as const, present: [0] }] } },
    ],
  },
];

export const searchIoctlBefore: Scenario = {
  name: 'search-ioctl-mte',
  title: 'btrfs search_ioctl-style loop: fault_in_writeable() the rest, copy items nofault, retry (livelock on arm64-mte)',
  source: 'thread “Avoid live-lock in fault-in+uaccess loops with sub-page faults” (2021-12-03, https://lore.kernel.org/all/?q=s%3A%22Avoid%20live-lock%20in%20fault-in%2Buaccess%20loops%20with%20sub-page%20faults%22); mm/gup.c; include/linux/uaccess.h; arch/arm64/lib/copy_to_user.S; Documentation/arm64/memory-tagging-extension.rst; fs/btrfs/ioctl.c (search_ioctl)',
  side: 'before', pair: 'search-ioctl-subpage', oracle: 'live-lock',
  functions: [searchLoop('fault_in_writeable')],
  threads: [{ fn: 'search_ioctl', args: [BUF, 0x100] }],
  layout: searchLayout, choices: searchChoices, globals: { item: 0x1000 },
  expect: { x86_64: 'ok', arm64: 'ok', 'arm64-mte': 'livelock' },
};

export const searchIoctlAfter: Scenario = {
  ...searchIoctlBefore,
  name: 'search-ioctl-subpage',
  title: 'the same loop with fault_in_subpage_writeable() (18788e34642e): ok everywhere',
  side: 'after', pair: 'search-ioctl-mte',
  functions: [searchLoop('fault_in_subpage_writeable')],
  expect: { '*': 'ok' },
};

const EDGE = 0x7f0000002ff8; // 8 bytes before a page boundary

/**
 * A loop that tracks where the copy stopped and faults in exactly there (thread "gfs2: Fix mmap +
 * page fault deadlocks": "check if the exact address that failed still fails"). Correct only when a
 * failing copy stops AT the fault.
 */
function exactLoop(probe: 'exact' | 'margin') {
  return fn('copy_out_exact', ['ubuf', 'len'], (b) => {
    b.assign('done', 0);
    b.loop(() => {
      b.if('done == len', () => b.ret('done'));
      b.call('pagefault_disable');
      b.call('__copy_to_user_inatomic', ['ubuf + done', 'src', 'len - done'], 'left');
      b.call('pagefault_enable');
      b.assign('done', 'len - left');
      b.if('left != 0', () => {
        if (probe === 'exact') b.assign('n', 1);
        else {
          // probe the copy error margin from the stop point (Catalin's devel branch, thread "Avoid
          // live-lock in fault-in+uaccess loops with sub-page faults")
          b.assign('n', 'left');
          b.if('n > UACCESS_MARGIN', () => b.assign('n', 'UACCESS_MARGIN'));
        }
        b.call('fault_in_writeable', ['ubuf + done', 'n'], 'nr');
        b.if('nr != 0', () => b.ret('-EFAULT'));
      });
    });
  });
}

const edgeLayout = { vmas: [{ start: 0x7f0000002000, pages: 2, kind: 'anon' as const, present: [0] }] };

export const faultWindowBefore: Scenario = {
  name: 'fault-window-pre514',
  title: 'fault in exactly where the copy stopped; arm64 before v5.14 may stop short with nothing copied (livelock)',
  source: 'thread “Avoid live-lock in fault-in+uaccess loops with sub-page faults” (2021-12-03, https://lore.kernel.org/all/?q=s%3A%22Avoid%20live-lock%20in%20fault-in%2Buaccess%20loops%20with%20sub-page%20faults%22); thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22); include/linux/uaccess.h; arch/arm64/lib/copy_to_user.S; Documentation/arm64/memory-tagging-extension.rst',
  side: 'before', pair: 'fault-window-margin', oracle: 'live-lock',
  functions: [exactLoop('exact')],
  threads: [{ fn: 'copy_out_exact', args: [EDGE, 0x20] }],
  layout: edgeLayout, globals: { src: 0x1000 }, kernel: 'v5.13',
  expect: { x86_64: 'ok', arm64: 'livelock', 'arm64-mte': 'livelock' },
};

export const faultWindowAfter: Scenario = {
  ...faultWindowBefore,
  name: 'fault-window-margin',
  title: 'the same loop probing the 16-byte copy error margin from the stop point: ok',
  side: 'after', pair: 'fault-window-pre514',
  functions: [exactLoop('margin')],
  expect: { '*': 'ok' },
};

export const faultWindowV514: Scenario = {
  ...faultWindowBefore,
  name: 'fault-window-v514',
  title: 'the exact-address loop on v5.14+ (295cf156231c: at least one byte of progress): ok',
  side: 'after', pair: 'fault-window-pre514', kernel: 'v5.14',
  expect: { '*': 'ok' },
};

const SAFE = 0x7f0000005fc0; // an item straddling into an unmapped page

function safeLoop() {
  return fn('read_into_mmap', ['ubuf', 'size'], (b) => {
    b.assign('off', 0);
    b.loop(() => {
      b.if('off >= size', () => b.ret(0));
      b.call('fault_in_safe_writeable', ['ubuf + off', 'size - off'], 'nr');
      b.if('nr != 0', () => b.ret('-EFAULT'));
      b.call('copy_to_user_nofault', ['ubuf + off', 'src', 0x80], 'err');
      b.if('err == 0', () => b.assign('off', 'off + 0x80'));
    });
  });
}

export const safeWriteableWindow: Scenario = {
  name: 'safe-writeable-window',
  title: 'fault_in_safe_writeable() return-value bug (v5.17-rc8 .. its 2025 fix): 0 although a later page failed, the loop spins',
  source: 'mm/gup.c fault_in_*() (fe673d3f5bf1, 8c03ebd7cdc0); thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22)',
  side: 'before', pair: 'safe-writeable-fixed', oracle: 'live-lock',
  functions: [safeLoop()],
  threads: [{ fn: 'read_into_mmap', args: [SAFE, 0x80] }],
  layout: { vmas: [{ start: 0x7f0000005000, pages: 1, kind: 'anon' }] }, globals: { src: 0x1000 },
  kernel: 'v6.1',
  expect: { '*': 'livelock' },
};

export const safeWriteableFixed: Scenario = {
  ...safeWriteableWindow,
  name: 'safe-writeable-fixed',
  title: 'the same loop on a kernel with the fault_in_safe_writeable() fix (mainline): -EFAULT, ok',
  side: 'after', pair: 'safe-writeable-window', kernel: undefined,
  expect: { '*': 'ok' },
};

export const safeWriteableV516: Scenario = {
  ...safeWriteableWindow,
  name: 'safe-writeable-v516',
  title: 'the same loop on v5.16 (GUP-based fault_in_safe_writeable, before the bug): ok',
  side: 'after', pair: 'safe-writeable-window', kernel: 'v5.16',
  expect: { '*': 'ok' },
};

const DIO = 0x7f0000007000;

export const dioKernelMapping: Scenario = {
  name: 'dio-kernel-mapping',
  title: 'direct-I/O style: pin the user page, copy through kmap — the kernel mapping is tag-unchecked, so a tag mismatch cannot stall it (ok)',
  source: 'thread “Avoid live-lock in fault-in+uaccess loops with sub-page faults” (2021-12-03, https://lore.kernel.org/all/?q=s%3A%22Avoid%20live-lock%20in%20fault-in%2Buaccess%20loops%20with%20sub-page%20faults%22), Catalin Marinas: DIO goes through GUP + the kernel mapping, unchecked; include/linux/uaccess.h; arch/arm64/lib/copy_to_user.S; Documentation/arm64/memory-tagging-extension.rst',
  side: 'after', pair: 'search-ioctl-mte', oracle: 'live-lock (absent)',
  functions: [fn('dio_read', ['ubuf'], (b) => {
    b.decl('pages', 'struct page *', 1);
    b.call('pin_user_pages_fast', ['ubuf', 1, 'FOLL_WRITE', 'pages'], 'n');
    b.if('n != 1', () => b.ret('-EFAULT'));
    b.call('kmap_local_page', ['pages[0]'], 'va');
    b.call('memcpy', ['va', 'src', 0x100]);
    b.call('kunmap_local', ['va']);
    b.call('unpin_user_pages_dirty_lock', ['pages', 1, 1]);
    b.ret(0);
  })],
  threads: [{ fn: 'dio_read', args: [DIO] }],
  layout: { vmas: [{ start: DIO, pages: 1, kind: 'anon' }], badGranules: [DIO + 0x40] }, globals: { src: 0x1000 },
  expect: { '*': 'ok' },
};
