// gup-leak (RULES.md; seed 002: "every get_user_pages / iov_iter_get_pages must be balanced").
import type { Finding } from '../findings';
import type { Rule, RuleMeta } from './types';
import { acquisitionRelated, finding, gupEvents, takenWords, type EventOf } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-leak',
  severity: 'error',
  title: 'Pages taken by GUP are not released on some path',
  docs: 'docs/rules/gup-leak.md',
  description:
    'Pages taken by get_user_pages*/pin_user_pages*/iov_iter_get_pages*/get_page must be released (put_page, unpin_user_page*, release_pages) or handed to an owner (a struct field, a bio, a scatterlist, the caller) on every path to return. An error path or a goto that skips the release leaks the references: the pages can never be freed, and pinned pages stay "maybe DMA pinned".',
};

export const gupLeak: Rule = {
  meta,
  check(fn, ctx): Finding[] {
    const out: Finding[] = [];
    for (const ev of gupEvents(fn, ctx)) {
      if (ev.kind !== 'leak') continue;
      const e = ev as EventOf<'leak'>;
      const branch = e.branch ? ` (${e.branch.text} branch at line ${e.branch.line})` : '';
      const msg = `${capital(takenWords(e.acq))} ${e.acq.single ? 'is' : 'are'} not released when ${e.via}${branch}`;
      const related = [acquisitionRelated(e.acq)];
      if (e.branch?.range) related.push({ range: e.branch.range, message: `the path takes the ${e.branch.text} branch here` });
      out.push(finding(meta, fn, e.at, msg, related));
    }
    return out;
  },
};

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
