// gup-partial-release (mm/gup.c return convention: the call may take fewer pages than
// asked and returns -errno only when it took none; "release exactly ret pages when ret > 0").
import type { Finding, QuickFix } from '../findings';
import type { SourceRange } from '../ir';
import type { Rule, RuleMeta } from './types';
import { NEG, TAKEN, ZERO, PART, type HandBackFact, type ReleaseFact } from '../analysis/gup-refs';
import { acquisitionRelated, bySite, callText, finding, gupFacts, line, budgetNote, GUP_EVENT_RELEVANCE } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-partial-release',
  severity: 'error',
  title: 'Release count does not match what GUP returned',
  docs: 'docs/rules/gup-partial-release.md',
  description:
    'get_user_pages*/pin_user_pages* may take fewer pages than asked and return that count (negative only when none were taken). Releasing the requested count drops references on pages that were never taken (underflow); releasing after a negative return passes an error code as a count.',
};

export type PartialReason = 'requested' | 'negative' | 'nothing';

/**
 * Why the count of a whole release is wrong on this path, or undefined when it is right:
 * - 'nothing': the acquisition took no pages here, yet its result (when it may be negative) or
 *   the requested count is released;
 * - 'requested': the count asked for is released although fewer may have been taken (unless
 *   the loop skips empty slots of a zeroed array);
 * - 'negative': the result, possibly -errno, is the count of a release call, or the bound of a
 *   release loop over an unsigned count (a negative value wraps to a huge count).
 */
export function partialReason(f: ReleaseFact): PartialReason | undefined {
  const c = f.count;
  if (!f.whole || !c || f.acq.single) return undefined;
  if ((f.outcomes & TAKEN) === 0 && (c.isResult || c.isRequested) && (c.isRequested || (f.outcomes & NEG))) return 'nothing';
  if (c.isRequested && f.acq.countTracked && !f.nullChecked && (f.outcomes & (NEG | ZERO | PART))) return 'requested';
  if (c.isResult && (f.outcomes & NEG) && (!f.inLoop || c.unsigned)) return 'negative';
  return undefined;
}

/**
 * A function implementing an acquiring entry hands back a value computed from the result of
 * its own acquisition on a path where that acquisition may have taken nothing, and with the
 * result 0 that value is the negation of something (`-*start`): its callers read a negative
 * value as -errno, or use it as a byte count below zero.
 */
function handBackIsWrong(f: HandBackFact): boolean {
  return (f.outcomes & ZERO) !== 0 && f.negativeNonErrno;
}

export const gupPartialRelease: Rule = {
  meta,
  relevance: GUP_EVENT_RELEVANCE,
  check(fn, ctx): Finding[] {
    const out: Finding[] = budgetNote(meta, fn, ctx);
    const judged = gupFacts(fn, ctx, 'release').flatMap((f) => {
      const reason = partialReason(f);
      return reason ? [{ ...f, reason }] : [];
    });
    // Paths that disagree on why a count is wrong: keep the reason a reviewer acts on first.
    const rank = { requested: 0, negative: 1, nothing: 2 } as const;
    for (const e of bySite(judged, (a, b) => rank[a.reason] < rank[b.reason])) {
      const acq = e.acq;
      const releaseApi = e.helper ?? e.api;
      const countText = e.count!.text;
      const res = acq.resultText && !acq.resultText.startsWith('(') ? `\`${acq.resultText}\`` : 'its return value';
      const how = e.inLoop ? `The ${releaseApi}() loop over \`${countText}\`` : `${callText(releaseApi)} with \`${countText}\``;
      let msg: string;
      const fixes: QuickFix[] = [];
      if (e.reason === 'requested') {
        msg = `${how} releases the requested count, but ${acq.api}() at line ${line(acq.call.range)} may have taken fewer pages into \`${acq.arrayText}\` (it returns the number taken in ${res}): entries past that were never taken`;
        const result = acq.resultText && !acq.resultText.startsWith('(') ? acq.resultText : undefined;
        const range = e.count!.range ?? (e.loopRange ? boundInLoopHeader(ctx.text, e.loopRange, countText) : undefined);
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
    for (const h of bySite(gupFacts(fn, ctx, 'handback').filter(handBackIsWrong))) {
      const acq = h.acq;
      const res = acq.resultText && !acq.resultText.startsWith('(') ? `\`${acq.resultText}\`` : 'its result';
      const msg = `${h.implements}() returns \`${h.valueText}\`, computed as if ${acq.api}() at line ${line(acq.call.range)} took pages, but on this path it may have taken none (${res} == 0): the value is then \`${h.nothingText}\`, a negative count that is no -errno to ${h.implements}()'s callers. Return an error (or 0) when nothing was taken`;
      out.push(finding(meta, fn, h.at, msg, [acquisitionRelated(acq)], []));
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
