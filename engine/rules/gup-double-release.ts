// gup-double-release (RULES.md; seed 002: a GUP bias in the refcount and a WARN on underflow —
// dropping a reference twice on one path underflows it or frees a page still in use).
import type { Finding } from '../findings';
import type { Rule, RuleMeta } from './types';
import { acquisitionRelated, finding, gupEvents, line, type EventOf } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-double-release',
  severity: 'error',
  title: 'Page references dropped twice on one path',
  docs: 'docs/rules/gup-double-release.md',
  description:
    'A page reference taken by GUP is released twice on the same path (typically once in an error branch and again at the common exit label): the second release underflows the refcount or pin count, or frees a page someone else still uses.',
};

export const gupDoubleRelease: Rule = {
  meta,
  check(fn, ctx): Finding[] {
    const out: Finding[] = [];
    for (const ev of gupEvents(fn, ctx)) {
      if (ev.kind !== 'double') continue;
      const e = ev as EventOf<'double'>;
      const acq = e.acq;
      const msg = `\`${acq.arrayText}\` (taken by ${acq.api}() at line ${line(acq.call.range)}) ${acq.single ? 'is' : 'are'} released again by ${e.releaseApi.endsWith(')') ? e.releaseApi : `${e.releaseApi}()`}; this path already released ${acq.single ? 'it' : 'them'} with ${e.firstApi.endsWith(')') ? e.firstApi : `${e.firstApi}()`} at line ${line(e.first)}`;
      out.push(finding(meta, fn, e.at, msg, [acquisitionRelated(acq), { range: e.first, message: 'first released here' }]));
    }
    return out;
  },
};
