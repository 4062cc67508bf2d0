// Shared by the four GUP reference rules: run the ownership analysis once per function (it is
// cached) and give each rule its facts; the decision "is this a bug" lives in each rule's file.

import type { FunctionIR, SourceRange } from '../ir';
import type { Finding, QuickFix, RelatedLocation } from '../findings';
import type { RuleContext, RuleMeta, RuleRelevance } from './types';
import { acquiresPageRefs } from './facets';
import { allApis, lookupApi } from '../kernel/api-table';
import { analyzeGupRefs, type GupAcquisition, type GupAnalysis, type GupFact } from '../analysis/gup-refs';

export const line = (r: SourceRange): number => r.startRow + 1;

function gupAnalysis(fn: FunctionIR, ctx: RuleContext): GupAnalysis {
  return analyzeGupRefs(fn, ctx.file, { cancelled: () => ctx.cancelled() });
}

/** The facts of one kind the ownership analysis observed in `fn`. */
export function gupFacts<K extends GupFact['kind']>(fn: FunctionIR, ctx: RuleContext, kind: K): FactOf<K>[] {
  return gupAnalysis(fn, ctx).facts.filter((f): f is FactOf<K> => f.kind === kind);
}

/** One finding per (acquisition, site): the first fact that a rule accepts wins unless `better` says otherwise. */
export function bySite<T extends { acq: GupAcquisition; at: SourceRange }>(items: T[], better?: (a: T, b: T) => boolean): T[] {
  const m = new Map<string, T>();
  for (const x of items) {
    const k = `${x.acq.id}:${x.at.start}:${x.at.end}`;
    const prev = m.get(k);
    if (!prev || (better && better(x, prev))) m.set(k, x);
  }
  return [...m.values()];
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

export type FactOf<K extends GupFact['kind']> = Extract<GupFact, { kind: K }>;

const noted = new WeakSet<FunctionIR>();

/**
 * An info-level note when the ownership analysis of `fn` stopped at a budget (steps or states
 * per block, never time): its findings are then a subset. Given once per function, by the first
 * GUP rule that runs on it.
 */
export function budgetNote(meta: RuleMeta, fn: FunctionIR, ctx: RuleContext): Finding[] {
  const why = gupAnalysis(fn, ctx).exhausted;
  if (!why || why === 'cancelled' || ctx.cancelled() || noted.has(fn)) return [];
  noted.add(fn);
  // The engine's one budget note (engine/budget.ts) where the context carries it.
  if (ctx.budgetHit) { ctx.budgetHit(fn, 'The page-reference (GUP) analysis', why); return []; }
  return [{
    rule: meta.id,
    severity: 'info',
    message: `The page-reference analysis of ${fn.name}() stopped early: ${why}. GUP findings for this function may be incomplete.`,
    range: fn.nameRange,
    function: fn.name,
    related: [],
  }];
}

/** A release named for a message: a bare API name gets `()`, a written-out call stays as it is. */
export function callText(name: string): string {
  return name.endsWith(')') ? name : `${name}()`;
}

/**
 * Batch relevance of the rules over the ownership analysis (leak, double/partial release,
 * release mismatch). Every event of that analysis is about an acquisition made in the function
 * itself (analyzeGupRefs returns nothing, not even a budget note, for a function without one):
 * the function that calls the acquiring API is the only one that can report, its callees are read
 * for their summaries (releases included), its callers are not needed.
 */
export const GUP_EVENT_RELEVANCE: RuleRelevance = { trigger: acquiresPageRefs, callers: false };
