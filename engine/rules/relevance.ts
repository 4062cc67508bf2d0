// Which API-table entries can start a finding of the current rules. The batch path
// (`faultline check`, engine.analyzeC with skipIrrelevant) lowers only the functions that call
// one of these, plus everything connected to them by same-file calls (helpers whose summaries
// the rules read, callers that see a helper's pin or release); the rest cannot produce a
// finding and are left out of FileIR.functions.
//
// A NEW RULE MUST WIDEN THIS PREDICATE if it can report in a function that calls none of the
// facets below (test/engine/relevance.test.ts runs every fixture both ways and fails if not).

import type { ApiEntry } from '../kernel/api-schema';
import { allApis } from '../kernel/api-table';
import { isSeedRelevant } from './seed-relevance';

/**
 * gup-* rules: `refs` (pins, gets, releases); fault-in-*: `faultIn`; pagefault-disable-unbalanced:
 * `pagefault`; uaccess-livelock: `uaccess.nofault` (a copy that never services the fault).
 */
export function isRelevantApi(e: ApiEntry): boolean {
  return !!(e.refs || e.faultIn || e.pagefault || e.uaccess?.nofault) || isSeedRelevant(e);
}

/** Names of the relevant entries of the current table (read each call: extendApiTable may add some). */
export function relevantApiNames(): Set<string> {
  const out = new Set<string>();
  for (const e of allApis()) if (isRelevantApi(e)) out.add(e.name);
  return out;
}

// Whether anything can be reported on a text at all (textMayReport) is per rule: see
// engine/rules/rule-relevance.ts.
