// The rule registry: one line per rule, sorted by id (STYLE.md, ESLint's shape). Adding a rule
// touches its file, its docs page, its fixtures and one line here.

import type { Rule } from './types';
import { gupDoubleRelease } from './gup-double-release';
import { gupLeak } from './gup-leak';
import { gupPartialRelease } from './gup-partial-release';
import { gupReleaseMismatch } from './gup-release-mismatch';
import { faultInNoFaultAddress } from './fault-in-no-fault-address';
import { faultInResultIgnored } from './fault-in-result-ignored';
import { pagefaultDisableUnbalanced } from './pagefault-disable-unbalanced';
import { uaccessLivelock } from './uaccess-livelock';
import { faultUnderLock } from './fault-under-lock';
import { wrprotectUnderReadLock } from './wrprotect-under-read-lock';
import { vmaModifyReadLock } from './vma-modify-read-lock';
import { gupDirtyUnlocked } from './gup-dirty-unlocked';
import { gupVaddrNoNotifier } from './gup-vaddr-no-notifier';

export const allRules: Rule[] = [
  gupDoubleRelease,
  gupLeak,
  gupPartialRelease,
  gupReleaseMismatch,
  faultInNoFaultAddress,
  faultInResultIgnored,
  pagefaultDisableUnbalanced,
  uaccessLivelock,
  faultUnderLock,
  wrprotectUnderReadLock,
  vmaModifyReadLock,
  gupDirtyUnlocked,
  gupVaddrNoNotifier,
].sort((a, b) => a.meta.id.localeCompare(b.meta.id));

export function ruleById(id: string): Rule | undefined {
  return allRules.find((r) => r.meta.id === id);
}
