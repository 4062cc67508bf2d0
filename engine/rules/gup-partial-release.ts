// gup-partial-release (RULES.md; SEMANTICS.md C.2 rule R: the call may take fewer pages than
// asked and returns -errno only when it took none; "release exactly ret pages when ret > 0").
import type { Finding, QuickFix } from '../findings';
import type { SourceRange } from '../ir';
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
      const how = e.inLoop ? `The ${e.releaseApi}() loop over \`${e.countText}\`` : `${e.releaseApi.endsWith(')') ? e.releaseApi : `${e.releaseApi}()`} with \`${e.countText}\``;
      let msg: string;
      const fixes: QuickFix[] = [];
      if (e.reason === 'requested') {
        msg = `${how} releases the requested count, but ${acq.api}() at line ${line(acq.call.range)} may have taken fewer pages into \`${acq.arrayText}\` (it returns the number taken in ${res}): entries past that were never taken`;
        const result = acq.resultText && !acq.resultText.startsWith('(') ? acq.resultText : undefined;
        const range = e.countRange ?? (e.loopRange ? boundInLoopHeader(ctx.text, e.loopRange, e.countText) : undefined);
        if (range && result) {
          fixes.push({ title: `Release ${result} pages (the count ${acq.api}() returned)`, edits: [{ range, newText: result }] });
        }
      } else if (e.reason === 'negative') {
        msg = `${how} may run with a negative errno as the count: ${acq.api}() at line ${line(acq.call.range)} returns -errno when it took nothing; release only when ${res} > 0`;
      } else {
        msg = `${how} releases \`${acq.arrayText}\` on a path where ${acq.api}() at line ${line(acq.call.range)} took no pages (its result is <= 0 here)`;
      }
      out.push(finding(meta, fn, e.at, msg, [acquisitionRelated(acq)], fixes));
    }
    return out;
  },
};

/** Where the bound appears in the loop header (`for (...; i < nr; ...)`, `while (nr--)`). */
function boundInLoopHeader(text: string, loop: SourceRange, bound: string): SourceRange | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*((->|\.)[A-Za-z_][A-Za-z0-9_]*)*$/.test(bound)) return undefined;
  const headerEnd = Math.min(...[text.indexOf('{', loop.start), text.indexOf('\n', loop.start), loop.end].filter((x) => x >= 0));
  const header = text.slice(loop.start, headerEnd);
  const re = new RegExp(`(^|[^A-Za-z0-9_>.])(${bound.replace(/[.>-]/g, (c) => `\\${c}`)})(?![A-Za-z0-9_])`);
  const m = re.exec(header);
  if (!m) return undefined;
  const start = loop.start + m.index + m[1].length;
  const end = start + m[2].length;
  const before = text.slice(0, start);
  const row = (before.match(/\n/g) ?? []).length;
  const col = start - (before.lastIndexOf('\n') + 1);
  return { start, end, startRow: row, startCol: col, endRow: row, endCol: col + (end - start) };
}
