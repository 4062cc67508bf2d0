// Fault-in / uaccess retry loops: recognition (loops.ts) and the pagefault_disable() depth
// (pagefault.ts). One finder per file: helper facts and depth summaries are memoised per file.

import type { FunctionIR } from '../../ir';
import { FaultInLoopFinder } from './loops';

export { FaultInLoopFinder, resultUse, keysOf, showExpr, argSource, type FaultInLoop, type CopySite, type FaultInSite, type ResultUse } from './loops';
export { PagefaultAnalysis, type PagefaultFacts, type ReturnDepth } from './pagefault';

const finders = new WeakMap<Map<string, FunctionIR>, FaultInLoopFinder>();

/** The finder shared by the four fault-in rules for one file (keyed by the rule context's map). */
export function finderFor(functionsByName: Map<string, FunctionIR>, cancelled?: () => boolean): FaultInLoopFinder {
  let f = finders.get(functionsByName);
  if (!f) {
    f = new FaultInLoopFinder(functionsByName, cancelled);
    finders.set(functionsByName, f);
  }
  return f;
}
