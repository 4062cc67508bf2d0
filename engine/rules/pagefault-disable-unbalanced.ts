// pagefault-disable-unbalanced (RULES.md; SEMANTICS B.5): pagefault_disable() without
// pagefault_enable() on some path out of the function (an early return, a goto that skips the
// enable), or an enable without a disable. A leaked disable turns every later user access of the
// task into a short copy / -EFAULT and makes sleeping functions warn. A function that leaves the
// depth changed on EVERY path is a wrapper (it disables for its caller) and is not reported; the
// depth is followed through same-file helpers.

import type { Finding } from '../findings';
import type { FunctionIR } from '../ir';
import type { Rule, RuleMeta } from './types';
import { finderFor } from '../analysis/faultin/index';

const meta: RuleMeta = {
  id: 'pagefault-disable-unbalanced',
  severity: 'error',
  title: 'pagefault_disable() and pagefault_enable() are not balanced',
  docs: 'docs/rules/pagefault-disable-unbalanced.md',
  description:
    'pagefault_disable() without pagefault_enable() on some path out of the function (typically an early return or a goto that skips the enable), or pagefault_enable() without a matching disable. The task keeps page faults disabled: later user copies return short or -EFAULT, and might_sleep() checks fire.',
};

export const pagefaultDisableUnbalanced: Rule = {
  meta,
  check(fn: FunctionIR, ctx): Finding[] {
    const facts = finderFor(ctx.functionsByName, ctx.cancelled).pagefault.facts(fn);
    if (facts.partial && facts.touchesDepth && !ctx.cancelled()) ctx.budgetHit?.(fn, 'The pagefault-disabled depth analysis', `its state bound (${fn.blocks.length + 1} blocks x depths x states per block)`);
    if (!facts.touchesDepth || facts.partial) return [];
    const out: Finding[] = [];
    const balancedSomewhere = facts.returns.some((r) => r.depths.includes(0));
    if (balancedSomewhere) {
      for (const r of facts.returns) {
        const bad = r.depths.filter((d) => d > 0);
        if (!bad.length || !r.stmt) continue;
        const line = r.stmt.range.startRow + 1;
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: r.stmt.range,
          message: `${fn.name}() returns at line ${line} with page faults still disabled (pagefault_disable() depth ${bad[bad.length - 1]} here, 0 on other paths): add pagefault_enable() before this return.`,
          related: [],
        });
      }
    }
    const onlyNegative = facts.exitDepths.every((d) => d < 0);
    if (!onlyNegative) {
      for (const u of facts.enableWithoutDisable) {
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: u.call.range,
          message: `${u.call.callee}() re-enables page faults on a path where ${fn.name}() did not disable them (pagefault_disable() depth 0 here).`,
          related: [],
        });
      }
    }
    return out;
  },
};
