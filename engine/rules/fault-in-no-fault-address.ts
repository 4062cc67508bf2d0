// fault-in-no-fault-address (threads "Avoid live-lock in fault-in+uaccess loops with sub-page
// faults": "missing fault address tracking", and "gfs2: Fix mmap + page fault deadlocks"):
// after a short copy the loop faults in from a fixed point — the start of the buffer — while the
// copy itself resumes further on, so the page (or granule) the copy actually faulted on is not
// the one the fault-in probes first, and a fault-in that walks from the start can succeed (or
// stop early) without ever touching it.

import type { Finding } from '../findings';
import type { FunctionIR } from '../ir';
import type { Rule, RuleMeta } from './types';
import { argSource, finderFor, keysOf } from '../analysis/faultin/index';
import { FAULT_IN_LOOP_RELEVANCE } from './facets';

const meta: RuleMeta = {
  id: 'fault-in-no-fault-address',
  severity: 'warning',
  title: 'Fault-in does not start where the copy stopped',
  docs: 'docs/rules/fault-in-no-fault-address.md',
  description:
    'After a short copy, the retry loop faults in from the start of the user buffer (an address the loop never advances) instead of from where the copy stopped (`buf + copied`, the tracked fault offset, or the iterator position). Fault-in probes one byte per page from its start address, so the fault the copy hit is not the one it checks: the loop may retry without fixing anything, or give up on the wrong range.',
};

export const faultInNoFaultAddress: Rule = {
  meta,
  // Loops are reported only when they call a fault-in (engine/analysis/faultin/loops.ts).
  relevance: FAULT_IN_LOOP_RELEVANCE,
  check(fn: FunctionIR, ctx): Finding[] {
    const out: Finding[] = [];
    for (const l of finderFor(ctx.functionsByName, ctx.cancelled).loops(fn)) {
      // The copy resumes from a position the loop advances (the progress variable)...
      if (!l.progress.length) continue;
      for (const f of l.faultIns) {
        // ...while the fault-in starts at a fixed point. Iterator fault-ins start at the
        // iterator's position, which the atomic copy advances; helpers decide for themselves.
        if (f.helper || f.faultIn.iter || !f.user) continue;
        const keys = keysOf(f.user);
        if (keys.some((k) => l.advanced.has(k))) continue;
        const copy = l.copies[0];
        const resume = copy.helper ? `${copy.helper}() resumes at the advanced ${l.progress.join(', ')}` : `the copy resumes at ${argSource(copy.copyCall, copy.uaccess.userArg, ctx.text)}`;
        const start = argSource(f.faultCall, f.faultIn.userArg, ctx.text);
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: f.call.range,
          message: `In ${l.label}, ${f.faultCall.callee}(${start}, ${argSource(f.faultCall, f.faultIn.lenArg, ctx.text)}) faults in from the start of the buffer on every retry, but ${resume}: fault in from where the copy stopped (e.g. ${start} + ${l.progress[0]}).`,
          related: [{ range: copy.call.range, message: `the copy whose progress (${l.progress.join(', ')}) the fault-in ignores` }],
        });
      }
    }
    return out;
  },
};
