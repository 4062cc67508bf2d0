// gup-double-release (thread "Keep track of GUPed pages in fs and block": a GUP bias in the
// refcount and a WARN on underflow — dropping a reference twice on one path underflows it or frees
// a page still in use).
import type { Finding } from '../findings';
import type { Rule, RuleMeta } from './types';
import type { ReleaseFact } from '../analysis/gup-refs';
import { acquisitionRelated, bySite, callText, finding, gupFacts, line, budgetNote, GUP_EVENT_RELEVANCE } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-double-release',
  severity: 'error',
  title: 'Page references dropped twice on one path',
  docs: 'docs/rules/gup-double-release.md',
  description:
    'A page reference taken by GUP is released twice on the same path (typically once in an error branch and again at the common exit label): the second release underflows the refcount or pin count, or frees a page someone else still uses.',
};

/**
 * The whole acquisition is released while this path already released it. A helper that
 * releases only on some of its paths is not counted (it may not have released here).
 */
export function isDoubleRelease(f: ReleaseFact): boolean {
  return f.before === 'released' && f.whole && !f.maybe && f.first !== undefined;
}

export const gupDoubleRelease: Rule = {
  meta,
  relevance: GUP_EVENT_RELEVANCE,
  check(fn, ctx): Finding[] {
    const out: Finding[] = budgetNote(meta, fn, ctx);
    for (const e of bySite(gupFacts(fn, ctx, 'release').filter(isDoubleRelease))) {
      const acq = e.acq;
      const releaseApi = e.helper ?? e.api;
      const firstApi = e.first!.api;
      const msg = `\`${acq.arrayText}\` (taken by ${acq.api}() at line ${line(acq.call.range)}) ${acq.single ? 'is' : 'are'} released again by ${callText(releaseApi)}; this path already released ${acq.single ? 'it' : 'them'} with ${callText(firstApi)} at line ${line(e.first!.at)}`;
      out.push(finding(meta, fn, e.at, msg, [acquisitionRelated(acq), { range: e.first!.at, message: 'first released here' }]));
    }
    return out;
  },
};
