// The wrprotect-under-read-lock trace (issue 9): the clear_refs seed scenario of
// engine/sim/scenarios/cow.ts instantiated with the C's function, its mmap_lock acquisition and
// the line that write-protects: one thread write-protects under the read lock with the flush
// deferred, a second CPU keeps writing through its cached TLB entry, a third takes the write
// fault on the pinned page.

import type { FunctionIR, SourceRange } from '../../ir';
import { fn as build } from '../builder';
import { runScenario, type Scenario, type SimResult } from '../scenario';
import { kernelSwitches } from '../../kernel/versions';
import { WP_FAULT_PATH } from '../../kernel/api/wrprotect';

const X = 0x7f0000020000;

export interface WrprotectModel {
  fn: string;
  /** `text`: the C call as written; the trace shows it instead of the model's call. */
  lock: { callee: string; range: SourceRange; text?: string };
  /** The write-protecting C call (`text`), and where it runs when that is a callback (`where`). */
  wp: { range: SourceRange; text?: string; where?: string };
  /** The analysed function's own calls (callee, C text, range): a model step of the same callee shows the C's. */
  calls?: { callee: string; text: string; range: SourceRange }[];
  /** The call in the analysed function that reaches the write-protect: model steps after it show the C's calls after it. */
  site?: SourceRange;
  /** The lock as the C names it (`mm->mmap_lock`, `sc->mm->mmap_sem`). */
  lockName?: string;
  /** The C drops mmap_lock before it flushes the TLB: the model does the same, so the trace keeps the C's order. */
  flushAfterUnlock?: boolean;
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
    if (m.flushAfterUnlock) b.call('mmap_read_unlock', ['mm']);
    b.call('flush_tlb_mm', ['mm']);
    b.call('dec_tlb_flush_pending', ['mm']);
    if (!m.flushAfterUnlock) b.call('mmap_read_unlock', ['mm']);
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
      { fn: m.fn, args: [X], name: `${m.fn}()` },
      { fn: 'user_stores', args: [X], name: WRITER_A },
      { fn: 'user_store', args: [X], name: WRITER_B },
    ],
    layout: { vmas: [{ start: X, pages: 1, kind: 'anon' }], pinnedBy: [{ addr: X, pins: 1 }], tlb: { 1: [X] } },
    kernel, expect: { '*': 'data-loss' },
  };
  const r = runScenario(sc, { arch: 'x86_64', maxStates: 20000, ...(m.cancelled ? { cancelled: m.cancelled } : {}) });
  return inCTerms(r, m);
}

/** The model's notes name the write-fault path's functions as the API table does (WP_FAULT_PATH), without the parentheses. */
const FAULT_PATH_NOTE = new RegExp([WP_FAULT_PATH.decide, WP_FAULT_PATH.copy].map((n) => n.replace(/\(\)$/, '')).join('|'));

const WRITER_A = 'user thread A: stores through its cached TLB entry';
const WRITER_B = 'user thread B: write fault on the GUP-pinned page';

/**
 * The model's trace in the terms of the C under review (issue 9): thread 0's steps that stand for
 * a line of the C show that line as written; its other steps are the model's (the deferred flush
 * and its bookkeeping) and say so; the user threads' stores are user space, and what the kernel
 * does on the write fault is labelled as the kernel's, named after mm/memory.c's functions (API
 * table); the model's lock, CPU and page numbers become the C's lock, the threads' roles and
 * "the pinned page" / "the copy".
 */
function inCTerms(r: SimResult, m: WrprotectModel): SimResult {
  const me = `${m.fn}()`;
  const lockName = m.lockName ?? 'mmap_lock';
  const say = (t: string | undefined): string | undefined => t === undefined ? undefined : t
    .split('mmap_lock(mm0)').join(lockName)
    .replace(/\bCPU0's\b/g, `${me}'s`).replace(/\bCPU0\b/g, me)
    .replace(/\bCPU1's store at line \d+/g, "thread A's store").replace(/\bCPU1\b/g, 'thread A')
    .replace(/\bCPU2\b/g, 'thread B')
    .replace(/\bpage #0\b/g, 'the pinned page').replace(/#0\b/g, 'the pinned page')
    .replace(/\bpage #1\b/g, 'the copy').replace(/#1\b/g, 'the copy')
    .replace(/\bpte 0x[0-9a-f]+ \(the pinned page\)/g, "the pinned page's PTE");
  const mapped = new Map<string, string | undefined>([
    ['mmap_read_lock', m.lock.text],
    ['clear_soft_dirty', m.wp.text ? `${m.wp.text}${m.wp.where ? ` (${m.wp.where})` : ''}` : undefined],
  ]);
  const path = WP_FAULT_PATH;
  // A model step of thread 0 shows the C call of the same callee on the same side of the site: the
  // last one before it (lock, pending flush) or the first one after it (unlock, flush), so an
  // early-exit unlock before the walk is not shown as the unlock after it.
  let pastSite = false;
  const ownCall = (callee: string): { text: string; range: SourceRange } | undefined => {
    const same = (m.calls ?? []).filter((c) => c.callee === callee);
    if (!m.site) return same[0];
    const site = m.site;
    const before = same.filter((c) => c.range.start < site.start);
    const after = same.filter((c) => c.range.start > site.start);
    return pastSite ? after[0] ?? same[0] : before[before.length - 1] ?? same[0];
  };
  const steps = r.steps.map((st) => {
    const callee = st.operation.split('(')[0].trim();
    const delta = say(st.delta);
    const note = say(st.note);
    const words = { ...(delta !== undefined ? { delta } : {}), ...(note !== undefined ? { note } : {}) };
    const { range: _drop, delta: _d, note: _n, ...rest } = st;
    void _drop; void _d; void _n;
    if (st.thread === 0 && mapped.has(callee)) {
      if (callee === 'clear_soft_dirty') pastSite = true;
      const text = mapped.get(callee);
      return { ...st, ...words, operation: text ?? st.operation };
    }
    const own = st.thread === 0 ? ownCall(callee) : undefined;
    if (own) return { ...rest, ...words, operation: own.text, range: own.range };
    if (st.thread === 0) {
      if (/^return\b/.test(st.operation)) return { ...rest, ...words };
      return { ...rest, ...words, note: `model step, not a line of ${me}${note ? `: ${note}` : ''}` };
    }
    if (/^return from /.test(st.operation)) return { ...rest, ...words, operation: `${st.thread === 1 ? 'thread A' : 'thread B'} done` };
    if (callee === 'sim_user_write') {
      // A store that faults runs the kernel's write-fault path: say so, with its functions' names.
      const text = `${st.delta ?? ''} ${st.note ?? ''}`;
      if (FAULT_PATH_NOTE.test(text)) {
        const installs = /installing the copy|install the copy/.test(text);
        return { ...rest, ...words, operation: installs ? `kernel: ${path.copy} installs the copy` : `user store -> write fault; kernel: ${path.fault} -> ${path.decide} -> ${path.copy}` };
      }
      return { ...rest, ...words, operation: 'user store to the pinned page' };
    }
    return { ...rest, ...words, operation: say(st.operation)! };
  });
  return { ...r, steps, note: say(r.note) ?? r.note };
}
