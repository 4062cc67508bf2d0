// fault-in-result-ignored (RULES.md; SEMANTICS A.1, A.3, A.5): since v5.16 fault_in_*() return
// the number of bytes NOT faulted in (0 = all, size = nothing). Dropping the result loses the
// only exit of a retry loop; testing it as all-or-nothing (`if (fault_in_...(p, len))`) right
// before a copy that can use partial progress turns a partly-faultable buffer into -EFAULT (the
// generic_perform_write / gfs2 hang fixed with `== bytes`). Before v5.16 (fault_in_pages_*, or
// --kernel older than v5.16) the result is 0 or -EFAULT, and reading it as a byte count is the
// opposite mistake: `== len` never holds, the failure is never seen.

import type { Finding } from '../findings';
import type { CallStmt, FunctionIR } from '../ir';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { kernelSwitches } from '../kernel/versions';
import { exprKey } from '../analysis/expr';
import { argSource, finderFor, resultUse } from '../analysis/faultin/index';

const meta: RuleMeta = {
  id: 'fault-in-result-ignored',
  severity: 'warning',
  title: 'fault_in_*() result ignored or misread',
  docs: 'docs/rules/fault-in-result-ignored.md',
  description:
    'The return value of fault_in_*() is ignored, or read with the wrong convention: since v5.16 these functions return the number of bytes NOT faulted in, so `if (fault_in_...(p, len))` fails where partial progress is what the loop needs (test `== len` instead); before v5.16 (fault_in_pages_*) they return 0 or -EFAULT, so comparing with the length never sees the failure.',
};

export const faultInResultIgnored: Rule = {
  meta,
  check(fn: FunctionIR, ctx): Finding[] {
    const out: Finding[] = [];
    const oldKernel = kernelSwitches(ctx.kernel).faultInReturns === 'zero-or-efault';
    const loops = finderFor(ctx.functionsByName, ctx.cancelled).loops(fn);
    for (const b of fn.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'call') continue;
        const f = lookupApi(s.callee)?.faultIn;
        if (!f) continue;
        const old = f.returns === 'zero-or-efault' || oldKernel;
        const use = resultUse(fn, s);
        const call = `${s.callee}(${argSource(s, f.userArg, ctx.text)}, ${argSource(s, f.lenArg, ctx.text)})`;
        const convention = old ? `0 or -EFAULT${f.returns === 'zero-or-efault' ? '' : ` on ${ctx.kernel}`}` : 'the number of bytes NOT faulted in';
        if (use === 'ignored') {
          out.push(finding(fn, s, `The result of ${call} is ignored: it returns ${convention}, and a loop that retries without looking at it cannot tell a fault it can never fix from progress (check it: ${old ? '`if (ret) return -EFAULT;`' : '`if (... == len) return -EFAULT;`'}).`));
          continue;
        }
        if (old && (use === 'compared' || use === 'arithmetic')) {
          out.push(finding(fn, s, `${call} returns ${convention}, not a byte count: the result is used as bytes not faulted in, so the failure is never seen (test \`if (ret)\`).`));
          continue;
        }
        if (!old && use === 'truth-test') {
          // All-or-nothing only hurts where the copy it guards can use partial progress: a
          // byte-granular copy of the same length in the same loop (A.5).
          const loop = loops.find((l) => l.faultIns.some((x) => x.call === s));
          // A call still being typed may lack the length argument: then no copy matches it.
          const lenArg = s.args[f.lenArg];
          const copy = lenArg && loop?.copies.find((c) => !c.helper && c.uaccess.returns !== 'errno' && c.len && exprKey(c.len) === exprKey(lenArg));
          if (!loop || !copy) continue;
          out.push(finding(fn, s, `In ${loop.label}, ${call} is tested as all-or-nothing, but it returns ${convention}: when only part of the range can be faulted in, the loop fails although ${copy.copyCall.callee}() could copy that part. Fail only when nothing was faulted in: \`if (${s.callee}(...) == ${argSource(s, f.lenArg, ctx.text)})\`.`));
        }
      }
    }
    return out;
  },
};

function finding(fn: FunctionIR, s: CallStmt, message: string): Finding {
  return { rule: meta.id, severity: meta.severity, message, range: s.range, function: fn.name, related: [] };
}
