// Facet predicates over API-table entries, for the rules' batch relevance declarations
// (RuleRelevance in engine/rules/types.ts). Each names a family of entries by what the table
// says they do, never by name.

import type { ApiEntry } from '../kernel/api-schema';
import type { RuleRelevance } from './types';

/** Any page-reference effect: an acquisition (GUP, pin, get_page), a release, a hand-off. */
export const takesOrDropsPageRefs = (e: ApiEntry): boolean => !!e.refs;
/** A call that takes page references (the start of every GUP-rule event). */
export const acquiresPageRefs = (e: ApiEntry): boolean => e.refs?.op === 'acquire';
/** fault_in_*() and friends. */
export const faultsIn = (e: ApiEntry): boolean => !!e.faultIn;
/** A copy that never services a fault, or a call that disables/enables page faults. */
export const copiesWithoutFaulting = (e: ApiEntry): boolean => !!e.uaccess?.nofault || !!e.pagefault;
/** pagefault_disable()/enable() and the mappings that do it (kmap_atomic). */
export const togglesPagefaults = (e: ApiEntry): boolean => !!e.pagefault;
/** An mmap_lock or rw-semaphore operation (a down_read on a field the table maps to mmap_lock counts). */
export const mmapOrRwsemLock = (e: ApiEntry): boolean => !!e.lock && (e.lock.lock === 'mmap_lock' || e.lock.lock === 'rwsem');
/** An operation on the mmap_lock class itself. */
export const mmapLockOp = (e: ApiEntry): boolean => e.lock?.lock === 'mmap_lock';
/** A call that can take a page fault with faults enabled: a uaccess, a fault-in, GUP, a direct-I/O entry. */
export const mayFault = (e: ApiEntry): boolean => !!e.uaccess || !!e.faultIn || !!e.faults;

/**
 * Batch relevance of the rules over fault-in loops (uaccess-livelock, fault-in-result-ignored,
 * fault-in-no-fault-address): a loop is reported only when it calls a fault-in
 * (engine/analysis/faultin/loops.ts), and the simulated live-lock requires the fault-in to run
 * (livelockRequires: faultInCalled).
 */
export const FAULT_IN_LOOP_RELEVANCE: RuleRelevance = { trigger: (e) => faultsIn(e) || copiesWithoutFaulting(e), needs: [{ why: 'a fault-in call', api: faultsIn }] };
