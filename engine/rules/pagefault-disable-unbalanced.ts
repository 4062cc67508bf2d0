// pagefault-disable-unbalanced (include/linux/uaccess.h): a page-fault-disabled region
// (pagefault_disable(), kmap_atomic()) that some path out of the function leaves open while other
// paths close it (an early return, a goto that skips the enable), or an enable reached without
// the disable on a path where other paths pair them. A leaked disable turns every later user
// access of the task into a short copy / -EFAULT and makes sleeping functions warn.
//
// Silent, by construction of the region analysis (engine/analysis/faultin/pagefault.ts): regions
// a function opens for its caller (never closed in the function: wrappers, `*_map` helpers, a
// mapping returned or kept in an object), closes for its caller (`*_unmap` helpers), maps and
// unmaps under the same condition, and anything a helper with an unknown summary does.

import type { Finding } from '../findings';
import type { FunctionIR, SourceRange } from '../ir';
import type { Rule, RuleMeta } from './types';
import { finderFor } from '../analysis/faultin/index';
import { allApis, lookupApi } from '../kernel/api-table';
import { togglesPagefaults } from './facets';

// The table's plain (handle-less) re-enable, named in the fix of a plain disable.
function plainEnable(): string | undefined {
  return allApis().find((a) => a.pagefault === 'enable' && !a.pagefaultHandle)?.name;
}

const meta: RuleMeta = {
  id: 'pagefault-disable-unbalanced',
  severity: 'error',
  title: 'pagefault_disable() and pagefault_enable() are not balanced',
  docs: 'docs/rules/pagefault-disable-unbalanced.md',
  description:
    'pagefault_disable() (or kmap_atomic()) without pagefault_enable() (kunmap_atomic()) on some path out of the function while other paths pair them (typically an early return or a goto that skips the enable), or an enable without the matching disable. The task keeps page faults disabled: later user copies return short or -EFAULT, and might_sleep() checks fire.',
};

/** The closing brace of a function that runs off its end. */
function closingBrace(fn: FunctionIR): SourceRange {
  const r = fn.range;
  return { start: Math.max(r.start, r.end - 1), end: r.end, startRow: r.endRow, startCol: Math.max(0, r.endCol - 1), endRow: r.endRow, endCol: r.endCol };
}

// A plain disable (no handle, e.g. pagefault_disable()) is undone by the plain enable; a mapping
// that disables (kmap_atomic()) by its own undo.
function fixWords(callee: string): string {
  const api = lookupApi(callee);
  const enable = api?.pagefault === 'disable' && !api.pagefaultHandle ? plainEnable() : undefined;
  return enable ? `add ${enable}()` : 'undo it';
}

export const pagefaultDisableUnbalanced: Rule = {
  meta,
  // Callers can report (a helper's summary opens or closes a region for them): kept. Callees are
  // needed only if they reach a toggle, and those are transitive callers of a trigger, kept
  // already. The region analysis (engine/analysis/faultin/pagefault.ts) reads a helper only
  // through touches(), isPfCall() and summaryOf(); for a helper that reaches no toggle all three
  // say what they say of a call to a function outside the text (no toggle; summary balanced at
  // any depth, so a mapping it is given is borrowed, not passed on). Leaving it out changes no
  // result. A definition the text scan cannot name (a preprocessor line inside it: 6.1
  // arch/mips/mm/init.c __kmap_pgprot()) is still found: its callers' text names it and
  // nestedDefinitionNames() reads its head, and if neither did, the lowering would find a function
  // that a left-out item names and the engine would analyse the whole text (unaccountedFunction).
  relevance: {
    trigger: togglesPagefaults,
    callees: false,
  },
  check(fn: FunctionIR, ctx): Finding[] {
    const facts = finderFor(ctx.functionsByName, ctx.cancelled).pagefault.facts(fn);
    if (!facts.touchesDepth) return [];
    if (facts.partial) {
      if (facts.bound === 'cancelled' || ctx.cancelled()) return [];
      // The engine's one budget note (engine/budget.ts) where the context carries it.
      if (ctx.budgetHit) { ctx.budgetHit(fn, 'The page-fault region analysis', facts.bound ?? 'its bound'); return []; }
      return [{
        rule: meta.id, severity: 'info', function: fn.name, range: fn.nameRange, related: [],
        message: `${fn.name}() not checked for unbalanced pagefault_disable(): the page-fault region analysis stopped at its bound (${facts.bound}).`,
      }];
    }
    const out: Finding[] = [];
    for (const l of facts.leaks) {
      const range = l.stmt?.range ?? closingBrace(fn);
      const line = range.startRow + 1;
      const opener = l.opener;
      if (l.lost) {
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range,
          message: `${fn.name}() ${l.stmt ? `returns at line ${line}` : 'runs off its end'} with the mapping of ${opener.callee}() at line ${opener.range.startRow + 1} still in place: no path unmaps it and its address is neither returned nor stored, so page faults stay disabled (depth ${l.depth}${l.more ? ' or more' : ''} here).`,
          related: [{ range: opener.range, message: `mapped here by ${opener.callee}()` }],
        });
        continue;
      }
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range,
        message: `${fn.name}() ${l.stmt ? `returns at line ${line}` : 'runs off its end'} with page faults still disabled by ${opener.callee}() at line ${opener.range.startRow + 1} (depth ${l.depth}${l.more ? ' or more' : ''} here; other paths re-enable them): ${fixWords(opener.callee)} before this return.`,
        related: [{ range: opener.range, message: `page faults disabled here by ${opener.callee}()` }],
      });
    }
    for (const u of facts.enableWithoutDisable) {
      out.push({
        rule: meta.id, severity: meta.severity, function: fn.name, range: u.call.range,
        message: `${u.call.callee}() re-enables page faults on a path where ${fn.name}() did not disable them (other paths reach it after the disable).`,
        related: [],
      });
    }
    return out;
  },
};
