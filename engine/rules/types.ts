// A rule is one file: `meta` + `check` (STYLE.md, ESLint's shape). Rules read the IR, the
// analyses and the API table; they never import editor code.

import type { FileIR, FunctionIR } from '../ir';
import type { Finding, Severity } from '../findings';
import type { ApiEntry } from '../kernel/api-schema';

export interface RuleMeta {
  id: string;
  severity: Severity;
  title: string;
  /** Path of the docs page relative to the repository root: `docs/rules/<id>.md`. */
  docs: string;
  /** One paragraph for SARIF `fullDescription` and hovers. */
  description: string;
}

export interface RuleContext {
  file: FileIR;
  /** Source text, for messages that quote code. */
  text: string;
  /** Other functions of the same file by name (intra-file helpers). */
  functionsByName: Map<string, FunctionIR>;
  /** Selected kernel version (`v6.1`), default current mainline. */
  kernel?: string;
  /** Stops long work when the document changes or the CLI gives up. */
  cancelled(): boolean;
  /**
   * An analysis stopped at its step bound on `fn`: the user gets an information-level note naming
   * the function and the bound (engine/budget.ts; one per function and analysis). `analysis`
   * names what stopped ("The GUP reference analysis"), `bound` the bound and its value.
   */
  budgetHit?(fn: FunctionIR, analysis: string, bound: string): void;
}

/**
 * What a file and a function must name for a rule to be able to report (the batch path's
 * per-rule relevance, engine/rules/rule-relevance.ts). Stated in API-table facets (and words the
 * table itself lists), never in literal names. Conservative: a word inside a comment or a longer
 * identifier counts, so a wrong guess can only keep too much.
 */
export interface RuleRelevance {
  /**
   * The API entries whose calls start the rule's analysis of a function: a function that names
   * one is kept, with its same-file callers and callees (engine/syntax/relevance-graph.ts).
   */
  trigger(e: ApiEntry): boolean;
  /**
   * Conditions on the whole file, each a group of which the file must name at least one word
   * (entries the predicate selects, plus `words`), or the rule cannot report on it at all: then
   * it does not run, and its triggers keep nothing.
   */
  needs?: { why: string; api?: (e: ApiEntry) => boolean; words?: () => readonly string[] }[];
}

export interface Rule {
  meta: RuleMeta;
  check(fn: FunctionIR, ctx: RuleContext): Finding[];
  /** Batch relevance; a rule without it is relevant wherever any rule is (engine/rules/relevance.ts). */
  relevance?: RuleRelevance;
}
