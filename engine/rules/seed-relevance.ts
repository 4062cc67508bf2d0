// Which API-table entries can start a finding of the seed-thread rules (fault-under-lock,
// wrprotect-under-read-lock, vma-modify-read-lock, gup-dirty-unlocked, gup-vaddr-no-notifier):
// a lock the fault path can need (its acquisition), a direct-I/O call taking an ops table that
// can hold the file range (and that ops table), a page-table walk or write-protect, a VMA
// flag setter, dirtying or mapping a page. engine/rules/relevance.ts ORs this in.

import type { ApiEntry } from '../kernel/api-schema';

export function isSeedRelevant(e: ApiEntry): boolean {
  if (e.faultLock || e.faultLockWindow || e.wrprotect || e.pageWalk || e.vmaWrite || e.kmapping || e.ioHold) return true;
  // A direct-I/O entry whose ops table can hold the file range across its own fault-in.
  if (e.faults?.opsArg !== undefined) return true;
  if (e.lock && (e.lock.lock === 'mmap_lock' || e.lock.lock === 'rwsem')) return true;
  return e.mem?.op === 'set-page-dirty';
}
