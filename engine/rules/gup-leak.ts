// gup-leak: pages taken by GUP that a path neither releases nor hands to an owner. The shared
// ownership analysis (engine/analysis/gup-refs.ts) reports where pages are still held when a
// path leaves the function, and where an acquisition runs again while its previous pages are
// held; this file decides which of those are leaks.
import type { Finding } from '../findings';
import type { Rule, RuleMeta } from './types';
import type { HeldFact, RetakeFact } from '../analysis/gup-refs';
import { acquisitionRelated, bySite, finding, gupFacts, takenWords, budgetNote, GUP_EVENT_RELEVANCE } from './gup-common';

const meta: RuleMeta = {
  id: 'gup-leak',
  severity: 'error',
  title: 'Pages taken by GUP are not released on some path',
  docs: 'docs/rules/gup-leak.md',
  description:
    'Pages taken by get_user_pages*/pin_user_pages*/iov_iter_get_pages*/get_page must be released (put_page, unpin_user_page*, release_pages) or handed to an owner (a struct field, a bio, a scatterlist, the caller) on every path to return. An error path or a goto that skips the release leaks the references: the pages can never be freed, and pinned pages stay "maybe DMA pinned".',
};

/** Pages still held where a path leaves the function: a leak unless someone else now owns them. */
export function heldIsLeak(f: HeldFact): boolean {
  // iov_iter_extract_pages() pins only user-backed iterators: code that releases the array
  // somewhere (under iov_iter_extract_will_pin()) is trusted to know which.
  if (f.acq.mayTakeNothing && f.releasedSomewhere) return false;
  // The returned count went into a struct field or global: that struct tracks the pages now.
  if (f.recorded) return false;
  // mm/gup.c internals fill the caller's array with the caller's flags: the function is part of
  // an acquiring entry and hands what it took back (its kind and counts are still checked).
  if (f.acq.kindFromCaller) return false;
  // Pages in the caller's memory (a parameter's array or struct, a global) are the caller's to
  // release when this function succeeds (an acquiring function hands them back); a function
  // that fails cleans up what it took, and freeing the array drops the only way to release them.
  if (f.visible && !f.retErr && !f.freed) return false;
  return true;
}

/** The acquisition ran again over pages it still held: a leak unless the slots differ each run. */
export function retakeIsLeak(f: RetakeFact): boolean {
  if (f.recorded || f.acq.kindFromCaller) return false;
  // `pages + done`: a loop filling one array takes new slots every run.
  if (f.acq.accumulates) return false;
  return f.acq.countTracked || f.acq.single;
}

export const gupLeak: Rule = {
  meta,
  relevance: GUP_EVENT_RELEVANCE,
  check(fn, ctx): Finding[] {
    const out: Finding[] = budgetNote(meta, fn, ctx);
    const leaks: (HeldFact | RetakeFact)[] = [
      ...gupFacts(fn, ctx, 'retake').filter(retakeIsLeak),
      ...gupFacts(fn, ctx, 'held').filter(heldIsLeak),
    ];
    for (const e of bySite(leaks)) {
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
