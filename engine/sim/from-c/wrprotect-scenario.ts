// The wrprotect-under-read-lock trace (issue 9): the clear_refs seed scenario of
// engine/sim/scenarios/cow.ts instantiated with the C's function, its mmap_lock acquisition and
// the line that write-protects: one thread write-protects under the read lock with the flush
// deferred, a second CPU keeps writing through its cached TLB entry, a third takes the write
// fault on the pinned page.

import type { FunctionIR, SourceRange } from '../../ir';
import { fn as build } from '../builder';
import { runScenario, type Scenario, type SimResult } from '../scenario';
import { kernelSwitches } from '../../kernel/versions';

const X = 0x7f0000020000;

export interface WrprotectModel {
  fn: string;
  /** `text`: the C call as written; the trace shows it instead of the model's call. */
  lock: { callee: string; range: SourceRange; text?: string };
  /** The write-protecting C call (`text`), and where it runs when that is a callback (`where`). */
  wp: { range: SourceRange; text?: string; where?: string };
  /** The analysed function's own calls (callee, C text, range): a model step of the same callee shows the C's. */
  calls?: { callee: string; text: string; range: SourceRange }[];
  kernel?: string;
  cancelled?: () => boolean;
}

function at(f: FunctionIR, callee: string, r: SourceRange): void {
  for (const b of f.blocks) for (const s of b.stmts) if (s.kind === 'call' && s.callee === callee) { s.range = r; s.calleeRange = r; }
}

export function simulateWrprotect(m: WrprotectModel): SimResult {
  const main = build(m.fn, ['addr'], (b) => {
    b.call('mmap_read_lock', ['mm']);
    b.call('inc_tlb_flush_pending', ['mm']);
    b.call('clear_soft_dirty', ['vma', 'addr', 'pte']);
    b.call('flush_tlb_mm', ['mm']);
    b.call('dec_tlb_flush_pending', ['mm']);
    b.call('mmap_read_unlock', ['mm']);
    b.ret(0);
  });
  at(main, 'mmap_read_lock', m.lock.range);
  at(main, 'clear_soft_dirty', m.wp.range);
  const stores = build('user_stores', ['addr'], (b) => { b.call('sim_user_write', ['addr']); b.call('sim_user_write', ['addr']); b.ret(0); });
  const store = build('user_store', ['addr'], (b) => { b.call('sim_user_write', ['addr']); b.ret(0); });
  // The model's write-protect skips pinned pages from v5.11-rc4 (the fixed clear_soft_dirty);
  // the C under review has no such check, so the model runs the kernel before that fix.
  const kernel = m.kernel && !kernelSwitches(m.kernel).clearRefsSkipsPinned ? m.kernel : 'v5.10';
  const sc: Scenario = {
    name: `${m.fn}-wrprotect-read-lock`, title: `${m.fn}() write-protects under mmap_read_lock`, source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking"); scenario clear-refs-read-lock',
    side: 'before', oracle: 'data loss (COW vs stale TLB)', fromC: true,
    functions: [main, stores, store],
    threads: [
      { fn: m.fn, args: [X], name: m.fn },
      { fn: 'user_stores', args: [X], name: 'writer (TLB cached)' },
      { fn: 'user_store', args: [X], name: 'writer (faulting)' },
    ],
    layout: { vmas: [{ start: X, pages: 1, kind: 'anon' }], pinnedBy: [{ addr: X, pins: 1 }], tlb: { 1: [X] } },
    kernel, expect: { '*': 'data-loss' },
  };
  const r = runScenario(sc, { arch: 'x86_64', maxStates: 20000, ...(m.cancelled ? { cancelled: m.cancelled } : {}) });
  // Only the steps of statements that stand for a line of the C keep a range (the model's other
  // statements have no line of their own).
  // Those steps show the C call as written; thread 0's other steps are the model's (the deferred
  // flush and its bookkeeping), and say so.
  const mapped = new Map<string, string | undefined>([
    ['mmap_read_lock', m.lock.text],
    ['clear_soft_dirty', m.wp.text ? `${m.wp.text}${m.wp.where ? ` (${m.wp.where})` : ''}` : undefined],
  ]);
  const steps = r.steps.map((st) => {
    const callee = st.operation.split('(')[0].trim();
    if (st.thread === 0 && mapped.has(callee)) {
      const text = mapped.get(callee);
      return text ? { ...st, operation: text } : st;
    }
    const own = st.thread === 0 ? m.calls?.find((c) => c.callee === callee) : undefined;
    if (own) return { ...st, operation: own.text, range: own.range };
    const { range: _drop, ...rest } = st;
    void _drop;
    if (st.thread === 0 && !/^return\b/.test(st.operation)) return { ...rest, note: `model step, not a line of ${m.fn}()${rest.note ? `: ${rest.note}` : ''}` };
    return rest;
  });
  return { ...r, steps };
}
