// The built-in scenario suite: every row of the rule catalog's thread-scenario table (both sides)
// plus one scenario per oracle beyond the seeds. Order = docs/scenarios.md order.

import type { Scenario } from '../scenario';
import * as faultin from './faultin';
import * as locks from './locks';
import * as cow from './cow';
import * as gup from './gup';

export const SCENARIOS: Scenario[] = [
  faultin.searchIoctlBefore, faultin.searchIoctlAfter,
  faultin.faultWindowBefore, faultin.faultWindowAfter, faultin.faultWindowV514,
  locks.gfs2Before, locks.gfs2After,
  cow.clearRefsBefore, cow.clearRefsAfter,
  gup.gupDirtyBefore, gup.gupDirtyAfter,
  gup.gupPartialBefore, gup.gupPartialAfter,
  gup.pinPutBefore, gup.pinPutAfter,
  // beyond the seeds: one per oracle
  faultin.safeWriteableWindow, faultin.safeWriteableFixed, faultin.safeWriteableV516,
  locks.mmapWriterBefore, locks.mmapWriterAfter,
  gup.gupLeakBefore, gup.gupLeakAfter,
  gup.getUnpinBefore,
  cow.vmspliceForkBefore, cow.vmspliceForkAfter,
  cow.clearRefsNoFlush, cow.clearRefsFlushed,
  gup.gupDirtyLockAfterReclaim,
  faultin.dioKernelMapping,
];

/** The rule catalog's scenario table (expected verdicts): row -> [before, after]. */
export const SEED_ROWS: { row: string; before: string; after: string[] }[] = [
  { row: 'search_ioctl-style loop, arm64 MTE tag mismatch', before: 'search-ioctl-mte', after: ['search-ioctl-subpage'] },
  { row: 'fault in from where the copy stopped, arm64 before v5.14', before: 'fault-window-pre514', after: ['fault-window-margin', 'fault-window-v514'] },
  { row: 'gfs2-style read under the inode glock into an mmap of the same file', before: 'gfs2-glock-fault', after: ['gfs2-pagefault-disabled'] },
  { row: 'clear_refs soft-dirty under mmap_read_lock vs a write fault on a pinned page', before: 'clear-refs-read-lock', after: ['clear-refs-write-lock'] },
  { row: 'GUP\'d VM_SHARED file page dirtied after writeback / try_to_free_buffers', before: 'gup-dirty-after-writeback', after: ['gup-dirty-notifier'] },
  { row: 'get_user_pages partial return, release loop over N', before: 'gup-partial-release-nr', after: ['gup-partial-release-ret'] },
  { row: 'pin_user_pages released with put_page', before: 'pin-put-page', after: ['pin-unpin'] },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
