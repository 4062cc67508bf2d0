// gup-partial-release (RULES.md; SEMANTICS.md C.2 rule R: the call may take fewer pages than
// asked and returns -errno only when it took none; "release exactly ret pages when ret > 0").
import type { Finding, QuickFix } from '../findings';
import type { Rule, RuleMeta } from './types';
import { acquisitionRelated, finding, gupEvents, line, type EventOf } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-partial-release',
  severity: 'error',
  title: 'Release count does not match what GUP returned',
  docs: 'docs/rules/gup-partial-release.md',
  description:
    'get_user_pages*/pin_user_pages* may take fewer pages than asked and return that count (negative only when none were taken). Releasing the requested count drops references on pages that were never taken (underflow); releasing after a negative return passes an error code as a count.',
};

export const gupPartialRelease: Rule = {
  meta,
  check(fn, ctx): Finding[] {
    const out: Finding[] = [];
    for (const ev of gupEvents(fn, ctx)) {
      if (ev.kind !== 'partial') continue;
      const e = ev as EventOf<'partial'>;
      const acq = e.acq;
      const res = acq.resultText && !acq.resultText.startsWith('(') ? `\`${acq.resultText}\`` : 'its return value';
      const how = e.inLoop ? `a ${e.releaseApi}() loop over \`${e.countText}\`` : `${e.releaseApi}() with \`${e.countText}\``;
      let msg: string;
      const fixes: QuickFix[] = [];
      if (e.reason === 'requested') {
        msg = `${capital(how)} releases the requested count, but ${acq.api}() at line ${line(acq.call.range)} may have taken fewer pages into \`${acq.arrayText}\` (it returns the number taken in ${res}): entries past that were never taken`;
        if (e.countRange && acq.resultText && !acq.resultText.startsWith('(')) {
          fixes.push({ title: `Release ${acq.resultText} pages (the count ${acq.api}() returned)`, edits: [{ range: e.countRange, newText: acq.resultText }] });
        }
      } else if (e.reason === 'negative') {
        msg = `${capital(how)} may run with a negative errno as the count: ${acq.api}() at line ${line(acq.call.range)} returns -errno when it took nothing; release only when ${res} > 0`;
      } else {
        msg = `${capital(how)} releases \`${acq.arrayText}\` on a path where ${acq.api}() at line ${line(acq.call.range)} took no pages (its result is <= 0 here)`;
      }
      out.push(finding(meta, fn, e.at, msg, [acquisitionRelated(acq)], fixes));
    }
    return out;
  },
};

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
