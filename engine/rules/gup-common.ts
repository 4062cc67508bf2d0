// Shared by the four GUP reference rules: run the analysis once per function (it is cached)
// and turn its events into findings with concrete messages, related locations and fixes.

import type { FunctionIR, SourceRange } from '../ir';
import type { Finding, QuickFix, RelatedLocation } from '../findings';
import type { RuleContext, RuleMeta } from './types';
import { allApis, lookupApi } from '../kernel/api-table';
import { analyzeGupRefs, type GupAcquisition, type GupEvent } from '../analysis/gup-refs';

export const line = (r: SourceRange): number => r.startRow + 1;

export function gupEvents(fn: FunctionIR, ctx: RuleContext): GupEvent[] {
  const r = analyzeGupRefs(fn, ctx.file, { cancelled: () => ctx.cancelled() });
  // A bound hit (not a cancellation, whose result nobody sees) is said, never silent.
  if (r.exhausted && !ctx.cancelled()) ctx.budgetHit?.(fn, 'The GUP reference analysis', r.exhausted);
  return r.events;
}

export function takenWords(acq: GupAcquisition): string {
  const how = acq.kind === 'pin' ? 'pinned' : acq.kind === 'get' ? 'referenced' : 'taken';
  return acq.single
    ? `the page reference taken by ${acq.api}() on \`${acq.arrayText}\` at line ${line(acq.call.range)}`
    : `pages ${how} by ${acq.api}() into \`${acq.arrayText}\` at line ${line(acq.call.range)}`;
}

export function acquisitionRelated(acq: GupAcquisition): RelatedLocation {
  const kind = acq.kind === 'pin' ? 'FOLL_PIN' : acq.kind === 'get' ? 'FOLL_GET' : 'reference';
  return { range: acq.call.range, message: `\`${acq.arrayText}\` taken here by ${acq.api}() (${kind})` };
}

export function finding(meta: RuleMeta, fn: FunctionIR, range: SourceRange, message: string, related: RelatedLocation[], fixes?: QuickFix[]): Finding {
  const f: Finding = { rule: meta.id, severity: meta.severity, message, range, function: fn.name, related };
  if (fixes && fixes.length) f.fixes = fixes;
  return f;
}

function firstParamType(signature: string): string {
  const m = /\(([^,)]*)/.exec(signature);
  if (!m) return '';
  return m[1].replace(/[A-Za-z_][A-Za-z0-9_]*\s*$/, '').replace(/\s+/g, '').replace(/^const/, '');
}

/**
 * The release of the other kind with the same shape (single page vs array + count, same page
 * type), from the table: put_page <-> unpin_user_page, release_pages <-> unpin_user_pages.
 */
export function matchingRelease(api: string, kind: 'get' | 'pin'): string | undefined {
  const from = lookupApi(api);
  const r = from?.refs;
  if (!from || !r || r.op !== 'release') return undefined;
  const type = firstParamType(from.signature);
  const candidates = allApis().filter((e) => {
    const x = e.refs;
    return x && x.op === 'release' && x.kind === kind && !x.container && !e.removed && !!x.single === !!r.single &&
      (x.countArg !== undefined) === (r.countArg !== undefined) && x.dirties === r.dirties && firstParamType(e.signature) === type;
  });
  candidates.sort((a, b) => Number(b.header === from.header) - Number(a.header === from.header) || a.name.length - b.name.length);
  return candidates[0]?.name;
}

export type EventOf<K extends GupEvent['kind']> = Extract<GupEvent, { kind: K }>;
