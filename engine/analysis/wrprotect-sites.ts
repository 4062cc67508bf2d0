// Where a function write-protects PTEs (wrprotect-under-read-lock): a call the API table marks
// `wrprotect`, a page-table walk (`pageWalk`) whose ops table in this file names a callback that
// write-protects, or a same-file helper that does either. A write-protect whose function flushes
// the TLB itself afterwards (flush_tlb_page / flush_tlb_range / ptep_clear_flush) is not deferred.

import type { CallStmt, Expr, FunctionIR, SourceRange } from '../ir';
import { lookupApi } from '../kernel/api-table';
import type { WrprotectFacet } from '../kernel/api/seed-schema';
import { initTables } from './init-tables';

export interface WrprotectSite {
  /** The call in the analysed function (the write-protect, the walk, or the helper). */
  call: CallStmt;
  /** The write-protecting call itself. */
  wp: { fn: string; callee: string; range: SourceRange; kind: WrprotectFacet['kind'] };
  /** Functions between (helpers, walk callbacks as `ops.pmd_entry=fn`). */
  chain: string[];
}

const MAX_DEPTH = 5;
const FLUSH_OPS = new Set(['flush-tlb-page', 'flush-tlb-range', 'flush-tlb-mm']);

function strip(e: Expr): Expr {
  return e.kind === 'unary' && e.op === '&' ? e.arg : e;
}

export class WrprotectSiteAnalysis {
  private memo = new Map<FunctionIR, WrprotectSite[]>();
  private inProgress = new Set<FunctionIR>();

  constructor(private readonly byName: Map<string, FunctionIR>, private readonly text: string, private readonly cancelled: () => boolean) {}

  /** The function flushes the TLB itself (after its write-protects): nothing deferred there. */
  private flushesItself(fn: FunctionIR): boolean {
    return fn.blocks.some((b) => b.stmts.some((s) => s.kind === 'call' && FLUSH_OPS.has(lookupApi(s.callee)?.mem?.op ?? '')));
  }

  /** The PTE value was built for a page being mapped (mk_pte...), not read from a live PTE. */
  private freshValue(fn: FunctionIR, arg: Expr | undefined): boolean {
    if (!arg || arg.kind !== 'var') return false;
    const v = arg.name;
    return fn.blocks.some((b) => b.stmts.some((s) => s.kind === 'call' && s.result?.kind === 'var' && s.result.name === v && lookupApi(s.callee)?.pteValue?.source === 'new'));
  }

  sites(fn: FunctionIR, level = 0): WrprotectSite[] {
    const hit = this.memo.get(fn);
    if (hit) return hit;
    if (this.inProgress.has(fn) || level > MAX_DEPTH || this.cancelled()) return [];
    this.inProgress.add(fn);
    const out: WrprotectSite[] = [];
    const flushes = this.flushesItself(fn);
    for (const b of fn.blocks) {
      for (const st of b.stmts) {
        if (st.kind !== 'call') continue;
        const api = lookupApi(st.callee);
        if (api?.wrprotect) {
          if (api.wrprotect.valueArg !== undefined && this.freshValue(fn, st.args[api.wrprotect.valueArg])) continue;
          if (!flushes && !api.wrprotect.flushes) out.push({ call: st, wp: { fn: fn.name, callee: st.callee, range: st.range, kind: api.wrprotect.kind }, chain: [] });
          continue;
        }
        if (api?.pageWalk) {
          const ops = st.args[api.pageWalk.opsArg];
          const name = ops ? strip(ops) : undefined;
          const table = name && name.kind === 'var' ? initTables(this.text).get(name.name) : undefined;
          if (!table) continue;
          for (const field of api.pageWalk.callbacks) {
            const cbName = table.fields.get(field);
            const cb = cbName ? this.byName.get(cbName) : undefined;
            if (!cb) continue;
            for (const s of this.sites(cb, level + 1)) out.push({ ...s, call: st, chain: [`${table.name}.${field} = ${cb.name}`, ...s.chain] });
          }
          continue;
        }
        if (api) continue;
        const h = this.byName.get(st.callee);
        if (!h || h === fn) continue;
        for (const s of this.sites(h, level + 1)) out.push({ ...s, call: st, chain: [h.name, ...s.chain] });
      }
    }
    this.inProgress.delete(fn);
    this.memo.set(fn, out);
    return out;
  }
}
