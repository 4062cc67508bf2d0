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
   * Entries that start the analysis only in a file that also names one of `words` (a
   * down_read() is an mmap_lock or inode lock only on a field the table maps to that class).
   */
  guardedTrigger?: { api: (e: ApiEntry) => boolean; words: () => readonly string[] }[];
  /**
   * Conditions on the whole file, each a group of which the file must name at least one word
   * (entries the predicate selects, plus `words`), or the rule cannot report on it at all: then
   * it does not run, and its triggers keep nothing.
   */
  needs?: { why: string; api?: (e: ApiEntry) => boolean; words?: () => readonly string[] }[];
  /**
   * False when the rule reports only in a function that calls a trigger itself (not through a
   * same-file helper): the callers of such a function are then not needed for this rule (its
   * callees still are, for their summaries). Default true.
   */
  callers?: boolean;
  /**
   * False when, for this rule, a same-file callee that is absent reads exactly like a present one
   * that reaches no trigger (its summary changes nothing in the caller either way): only callees
   * that reach a trigger are then needed, and those are callers of a trigger already. Default true.
   */
  callees?: boolean;
  /**
   * The API entries the rule's analyses read at all (its interest set: triggers, needs, lock ops,
   * fault sites, toggles...). Given (and `callees` not false), a same-file callee is needed only if
   * it names one of them, itself or through its own same-file callees; the others are left out.
   * Safe only when every analysis the rule uses reads a call to a present function that reaches
   * none of them exactly as it reads a call to a function that is not in the text (no lock, no
   * fault site, no region, whatever the helper nesting depth or the order of the questions):
   * the rule's file states why. `words`: other identifiers the analyses read on a helper (a
   * struct field it assigns), matched as whole identifiers. Default: every callee is needed.
   */
  reads?: { api: (e: ApiEntry) => boolean; words?: () => readonly string[] };
  /**
   * Struct types (API-table data, `mmu_notifier_ops`) whose file-scope initializers name callbacks
   * the rule reads from another function (what a notifier's invalidate does): in a file where the
   * rule can fire, an item naming one of these words is needed with its callees, so the functions an
   * ops table names, and their helpers, are lowered. Matched as substrings (a word only keeps more).
   */
  tables?: () => readonly string[];
}

export interface Rule {
  meta: RuleMeta;
  check(fn: FunctionIR, ctx: RuleContext): Finding[];
  /** Batch relevance; a rule without it is relevant wherever any rule is (engine/rules/relevance.ts). */
  relevance?: RuleRelevance;
}
