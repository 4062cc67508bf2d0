// fault-in-result-ignored (mm/gup.c, include/linux/pagemap.h; commit bb523b406c84): since v5.16
// fault_in_*() return the number of bytes NOT faulted in (0 = all, size = nothing). Dropping the
// result loses the
// only exit of a retry loop; testing it as all-or-nothing (`if (fault_in_...(p, len))`) right
// before a copy that can use partial progress turns a partly-faultable buffer into -EFAULT (the
// generic_perform_write / gfs2 hang fixed with `== bytes`). Before v5.16 (fault_in_pages_*, or
// --kernel older than v5.16) the result is 0 or -EFAULT, and reading it as a byte count is the
// opposite mistake: `== len` never holds, the failure is never seen.

import type { Finding } from '../findings';
import type { CallStmt, Expr, FunctionIR } from '../ir';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { kernelSwitches } from '../kernel/versions';
import { exprKey, isIntValue } from '../analysis/expr';
import { argSource, finderFor, resultUse } from '../analysis/faultin/index';
import { FAULT_IN_LOOP_RELEVANCE } from './facets';

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
  // Reports the result of a fault-in call (of the function, or of a loop's fault-in).
  relevance: FAULT_IN_LOOP_RELEVANCE,
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
        if (use === 'ignored' && tracksProgress(fn, b.id, s)) continue;
        if (use === 'ignored') {
          out.push(finding(fn, s, `The result of ${call} is ignored: it returns ${convention}, and a loop that retries without looking at it cannot tell a fault it can never fix from progress (check it: ${old ? '`if (ret) return -EFAULT;`' : '`if (... == len) return -EFAULT;`'}).`));
          continue;
        }
        if (use === 'truth-test') {
          const inv = invertedTest(fn, b.id, s);
          if (inv) {
            out.push(finding(fn, s, `${call} returns 0 when everything was faulted in (${convention}), but the branch taken on 0 at line ${inv.line} returns early as if it had failed, and a failed fault-in falls through to the code that needed it: the test is inverted (\`if (${s.callee}(...))\` is the failure test).`));
            continue;
          }
        }
        if (old && (use === 'compared' || use === 'arithmetic') && readAsBytes(fn, s)) {
          out.push(finding(fn, s, `${call} returns ${convention}, not a byte count: the result is used as bytes not faulted in, so the failure is never seen (test \`if (ret)\`).`));
          continue;
        }
        if (!old && use === 'truth-test') {
          // All-or-nothing only hurts where the copy it guards can use partial progress: a
          // byte-granular copy of the same length in the same loop.
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

/**
 * The loop tracks progress itself, so the fault-in result is not its only exit: next to the
 * fault-in, the code remembers a progress value (`prev_left = left`) that a condition compares
 * with its current value (`if (left == prev_left) fall back; else { fault_in(...); prev_left =
 * left; retry; }`). A retry that made no progress then leaves by that test.
 */
function tracksProgress(fn: FunctionIR, block: number, call: CallStmt): boolean {
  const stmts = fn.blocks[block]?.stmts ?? [];
  const saved: [string, string][] = [];
  for (const st of stmts.slice(stmts.indexOf(call) + 1)) {
    if (st.kind === 'assign' && st.target.kind === 'var' && st.value.kind === 'var') saved.push([st.target.name, st.value.name]);
  }
  if (!saved.length) return false;
  const compares = (c: Expr, x: string, y: string): boolean => {
    if (c.kind === 'unary' && c.op === '!') return compares(c.arg, x, y);
    if (c.kind === 'binary' && (c.op === '&&' || c.op === '||')) return compares(c.left, x, y) || compares(c.right, x, y);
    if (c.kind !== 'binary' || !['==', '!=', '<', '>', '<=', '>='].includes(c.op)) return false;
    const l = exprKey(c.left);
    const r = exprKey(c.right);
    return (l === x && r === y) || (l === y && r === x);
  };
  return fn.blocks.some((b) => b.succs.some((e) => e.cond !== undefined && saved.some(([prev, cur]) => compares(e.cond!, prev, cur))));
}

/**
 * The branch where the fault-in result is 0 (everything faulted in, under both conventions)
 * leaves the function straight away, while the other branch carries on: success is handled
 * as the failure. Returns the line of that branch.
 */
function invertedTest(fn: FunctionIR, block: number, call: CallStmt): { line: number } | undefined {
  if (!call.result) return undefined;
  const r = exprKey(call.result);
  const names = new Set([r]);
  for (const b of fn.blocks) for (const st of b.stmts) {
    if (st.kind === 'assign' && st.target.kind === 'var' && st.value.kind === 'var' && names.has(st.value.name)) names.add(st.target.name);
  }
  const isR = (e: Expr): boolean => names.has(exprKey(e));
  const zeroTest = (c: Expr): boolean | undefined => {
    if (c.kind === 'unary' && c.op === '!') {
      const t = zeroTest(c.arg);
      return t === undefined ? (isR(c.arg) ? true : undefined) : !t;
    }
    if (isR(c)) return false;
    if (c.kind === 'binary' && (c.op === '==' || c.op === '!=') && ((isR(c.left) && isIntValue(c.right, 0)) || (isR(c.right) && isIntValue(c.left, 0)))) return c.op === '==';
    return undefined;
  };
  /** The path from `b` reaches the exit through unconditional edges, calling nothing on the way. */
  const leaves = (b0: number): boolean => {
    let b = b0;
    for (let i = 0; i < 4; i++) {
      if (b === fn.exit) return true;
      const blk = fn.blocks[b];
      if (!blk) return false;
      for (const x of blk.stmts) {
        if (x.kind === 'return') return true;
        if (x.kind === 'call' || x.kind === 'havoc') return false;
      }
      if (blk.succs.length !== 1 || blk.succs[0].cond) return false;
      b = blk.succs[0].to;
    }
    return false;
  };
  for (const b of fn.blocks) {
    if (b.succs.length !== 2) continue;
    const [e1, e2] = b.succs;
    if (!e1.cond) continue;
    const z = zeroTest(e1.cond);
    if (z === undefined) continue;
    const onZero = z ? e1 : e2;
    const onFail = z ? e2 : e1;
    if (leaves(onZero.to) && !leaves(onFail.to)) return { line: (onZero.range ?? e1.range ?? call.range).startRow + 1 };
  }
  return undefined;
}

/**
 * The 0/-EFAULT result is read as a byte count: compared with something other than 0 or an
 * errno, or used in arithmetic. Returning it or passing it on unchanged propagates the errno.
 */
function readAsBytes(fn: FunctionIR, call: CallStmt): boolean {
  if (!call.result) return false;
  const names = new Set([exprKey(call.result)]);
  for (const b of fn.blocks) for (const st of b.stmts) {
    if (st.kind === 'assign' && st.target.kind === 'var' && st.value.kind === 'var' && names.has(st.value.name)) names.add(st.target.name);
  }
  const isR = (e: Expr): boolean => names.has(exprKey(e));
  const zeroOrErrno = (e: Expr): boolean => isIntValue(e, 0) || (e.kind === 'unary' && e.op === '-') || (e.kind === 'int' && e.value < 0);
  const bad = (e: Expr): boolean => {
    switch (e.kind) {
      case 'unary': return bad(e.arg);
      case 'binary': {
        if (['==', '!=', '<', '<=', '>', '>='].includes(e.op)) {
          if (isR(e.left)) return !zeroOrErrno(e.right) || bad(e.right);
          if (isR(e.right)) return !zeroOrErrno(e.left) || bad(e.left);
        } else if (['+', '-', '*', '/', '<<', '>>'].includes(e.op) && (isR(e.left) || isR(e.right))) return true;
        return bad(e.left) || bad(e.right);
      }
      case 'field': return bad(e.base);
      case 'index': return bad(e.base) || bad(e.index);
      default: return false;
    }
  };
  for (const b of fn.blocks) {
    for (const st of b.stmts) {
      if (st === call) continue;
      if (st.kind === 'assign' && bad(st.value)) return true;
      if (st.kind === 'call' && st.args.some(bad)) return true;
      if (st.kind === 'return' && st.value && bad(st.value)) return true;
    }
    for (const e of b.succs) if (e.cond && bad(e.cond)) return true;
  }
  return false;
}

function finding(fn: FunctionIR, s: CallStmt, message: string): Finding {
  return { rule: meta.id, severity: meta.severity, message, range: s.range, function: fn.name, related: [] };
}
