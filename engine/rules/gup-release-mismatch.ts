// gup-release-mismatch (Documentation/core-api/pin_user_pages.rst pairing rule: FOLL_GET ->
// put_page, FOLL_PIN -> unpin_user_page*; mixing leaks 1023 refs or underflows by 1023).
import type { Finding, QuickFix } from '../findings';
import type { Rule, RuleMeta } from './types';
import type { ReleaseFact } from '../analysis/gup-refs';
import { acquisitionRelated, bySite, finding, gupFacts, line, matchingRelease, budgetNote, GUP_EVENT_RELEVANCE } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-release-mismatch',
  severity: 'error',
  title: 'Pinned pages released as plain references, or the reverse',
  docs: 'docs/rules/gup-release-mismatch.md',
  description:
    'Pages taken with FOLL_PIN (pin_user_pages*, or FOLL_PIN in gup_flags) must be released with unpin_user_page*(); pages taken with FOLL_GET (get_user_pages*, iov_iter_get_pages*, get_page) with put_page()/release_pages(). put_page() on a pinned small page leaves 1023 of the 1024 pin bias behind (the page stays "maybe DMA pinned" and is never freed); unpin_user_page() on a FOLL_GET page subtracts 1024 from a +1 reference (underflow, premature free).',
};

/**
 * The release is for the other kind of reference: FOLL_PIN pages dropped with put_page(), or
 * FOLL_GET pages unpinned. Silent when the acquisition's kind is unknown (flags we cannot read),
 * when the release itself picks the kind, or when it is one of two releases the code selects by
 * a flag on exclusive paths while the function takes both kinds into that array.
 */
export function isMismatch(f: ReleaseFact): boolean {
  if (f.releaseKind === 'either') return false;
  // mm/gup.c internals called with the caller's gup_flags take either kind: a release of one
  // fixed kind must sit behind a FOLL_PIN test (96e1fac162cc fixed a put_page() there).
  if (f.acq.kind === 'unknown' && f.acq.kindFromCaller) return !f.pinTested;
  if (f.acq.kind === 'unknown') return false;
  if (f.releaseKind === f.acq.kind) return false;
  return !f.flagSelected;
}

export const gupReleaseMismatch: Rule = {
  meta,
  relevance: GUP_EVENT_RELEVANCE,
  check(fn, ctx): Finding[] {
    const out: Finding[] = budgetNote(meta, fn, ctx);
    for (const e of bySite(gupFacts(fn, ctx, 'release').filter(isMismatch))) {
      const acq = e.acq;
      if (acq.kind === 'unknown') {
        const msg = `\`${acq.arrayText}\` ${acq.single ? 'was' : 'were'} taken by ${acq.api}() at line ${line(acq.call.range)} with the caller's gup_flags, which may hold FOLL_PIN (pin_user_pages*() pass it), but ${acq.single ? 'is' : 'are'} released with ${e.helper ? `${e.helper}, which uses ${e.api}()` : `${e.api}()`} on a path that never tested FOLL_PIN: pinned pages need unpin_user_page*(), others put_page()`;
        out.push(finding(meta, fn, e.at, msg, [acquisitionRelated(acq), { range: e.call.range, message: 'released here' }]));
        continue;
      }
      const pinned = acq.kind === 'pin';
      const how = pinned ? 'pinned (FOLL_PIN)' : 'referenced (FOLL_GET)';
      const right = matchingRelease(e.api, acq.kind as 'get' | 'pin');
      const effect = pinned
        ? 'which drops a plain reference: each small page keeps 1023 of its 1024 pin bias and stays "maybe DMA pinned"'
        : 'which subtracts GUP_PIN_COUNTING_BIAS (1024) from a +1 reference: refcount underflow';
      const via = e.helper ? `${e.helper}, which releases them with ${e.api}()` : `${e.api}()`;
      const msg = `\`${acq.arrayText}\` ${acq.single ? 'was' : 'were'} ${how} by ${acq.api}() at line ${line(acq.call.range)} but ${acq.single ? 'is' : 'are'} released with ${via}, ${effect}${right ? `; use ${right}()` : ''}`;
      const fixes: QuickFix[] = [];
      if (right && !e.helper) fixes.push({ title: `Release with ${right}()`, edits: [{ range: e.call.calleeRange, newText: right }] });
      out.push(finding(meta, fn, e.at, msg, [acquisitionRelated(acq), { range: e.call.range, message: `released with ${via} here` }], fixes));
    }
    return out;
  },
};
