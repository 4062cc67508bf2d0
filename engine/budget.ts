// "When a budget stops an analysis early, the user is told" (ARCHITECTURE.md, "Threads, budgets
// and verdicts"): one information-level note per (function, analysis) naming the function and the
// bound, carried like any finding to the CLI's text / JSON / SARIF output and to LSP diagnostics.
// Budgets count steps, never milliseconds, so the same input gives the same notes everywhere.
//
// Any analysis can report through `noteBudget` (rules get it as RuleContext.budgetHit; the
// engine, the session and the parser call it directly). Nothing here knows a kernel API.

import type { Finding } from './findings';
import type { SourceRange } from './ir';
import type { RuleMeta } from './rules/types';

export const budgetMeta: RuleMeta = {
  id: 'budget',
  severity: 'info',
  title: 'An analysis stopped at its budget',
  docs: 'docs/budgets.md',
  description:
    'An analysis reached its step bound (or the parser its step or memory bound) and stopped early: findings for the named function (or file) may be missing. Bounds count steps, not time, so the same input gives the same result on any machine.',
};

/** Where the note goes: the function's name range, or the first character of the file. */
const FILE_START: SourceRange = { start: 0, end: 0, startRow: 0, startCol: 0, endRow: 0, endCol: 0 };

/**
 * The note for one analysis stopped at its bound. `fn` is the function's name and its name range
 * ('' and undefined for a whole-file bound such as the parse); `analysis` names what stopped
 * ("the GUP reference analysis", "parsing"); `bound` says which bound, with its value.
 */
export function budgetNote(fn: { name: string; nameRange?: SourceRange } | undefined, analysis: string, bound: string): Finding {
  const where = fn && fn.name ? `${fn.name}()` : 'this file';
  return {
    rule: budgetMeta.id,
    severity: 'info',
    message: `${analysis} stopped early in ${where}: ${bound}; findings ${fn && fn.name ? 'for this function' : 'for this file'} may be missing.`,
    range: fn?.nameRange ? { ...fn.nameRange } : { ...FILE_START },
    function: fn?.name ?? '',
    related: [],
  };
}

/** True for budget notes (they are not problems in the code: exit status and counts skip them). */
export function isBudgetNote(f: Finding): boolean {
  return f.rule === budgetMeta.id;
}

/**
 * A step counter shared by the analyses of one run (a CLI file, a server document analysis).
 * `take(n)` spends n steps and says whether the run may go on; once spent, `exhausted` names the
 * bound for the note.
 */
export class StepBudget {
  used = 0;
  constructor(readonly limit: number, readonly what: string = 'step budget') {}
  take(n = 1): boolean {
    this.used += n;
    return this.used <= this.limit;
  }
  get exhausted(): boolean {
    return this.used > this.limit;
  }
  get bound(): string {
    return `${this.what} (${this.limit} steps)`;
  }
}
