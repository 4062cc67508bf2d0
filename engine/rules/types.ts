// A rule is one file: `meta` + `check` (STYLE.md, ESLint's shape). Rules read the IR, the
// analyses and the API table; they never import editor code.

import type { FileIR, FunctionIR } from '../ir';
import type { Finding, Severity } from '../findings';

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

export interface Rule {
  meta: RuleMeta;
  check(fn: FunctionIR, ctx: RuleContext): Finding[];
}
