// The fault-under-lock trace (issue 9): the seed scenarios of engine/sim/scenarios/locks.ts —
// the gfs2 glock read into an mmap of the same file, and the mmap_lock reader faulting while a
// writer queues — instantiated with what the C says: the function's name, the lock call and its
// line, the faulting call and its line. The interpreter then runs a real same-thread (recursive
// fault) or two-thread (queued writer) interleaving and the explorer reports the deadlock.

import type { FunctionIR, SourceRange } from '../../ir';
import { allApis, lookupApi } from '../../kernel/api-table';
import { fn as build } from '../builder';
import { runScenario, type Scenario, type SimResult } from '../scenario';
import type { Val } from '../../kernel/state';

/** The user buffer: one page of an mmap of the locked file (or of anonymous memory for mmap_lock). */
const MAP = 0x7f0000010000;
const LEN = 0x40;

export interface LockFaultModel {
  /** The C function (thread 0 runs a model of it under this name). */
  fn: string;
  /** `text`: the C call as written (the trace shows it instead of the model's call). */
  lock: { callee: string; cls: string; mode?: string; range: SourceRange; text?: string };
  /**
   * The faulting C call. `via`: the call in the analysed function when the fault is in a helper
   * (`helper(args)`, its text and range), shown as the step that enters the helper.
   */
  fault: { callee: string; range: SourceRange; direction: 'to-user' | 'from-user'; text?: string; via?: { fn: string; text: string; range: SourceRange } };
  kernel?: string;
  cancelled?: () => boolean;
  maxStates?: number;
}

function setRanges(f: FunctionIR, ranges: Map<string, SourceRange>): FunctionIR {
  for (const b of f.blocks) {
    for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const r = ranges.get(s.callee);
      if (r) { s.range = r; s.calleeRange = r; s.argRanges = s.args.map(() => r); }
    }
  }
  return f;
}

/** Arguments for a lock call with the instance at the table's argument position. */
function lockArgs(callee: string, inst: string): string[] {
  const l = lookupApi(callee)?.lock;
  const n = Math.max(1, (l?.arg ?? 0) + 1);
  return [...Array(n).keys()].map((i) => (i === (l?.arg ?? 0) ? inst : '0'));
}

/** A release entry of the table for the lock an acquisition takes (same class, same mode). */
function releaseOf(acquire: string): string | undefined {
  const l = lookupApi(acquire)?.lock;
  if (!l) return undefined;
  const all = allApis().filter((e) => e.lock?.op === 'release' && e.lock.lock === l.lock);
  return (all.find((e) => e.lock!.mode === l.mode) ?? all.find((e) => !e.lock!.mode) ?? all[0])?.name;
}

/** Run the model; the verdict is 'deadlock' when the C shape deadlocks in the simulator. */
export function simulateLockFault(m: LockFaultModel): SimResult {
  // The fault: the C call when the simulator models it with a plain user pointer, else
  // copy_to_user / copy_from_user standing for it (an I/O entry point or GUP faults the same way).
  const api = lookupApi(m.fault.callee);
  const plain = api?.uaccess && !api.uaccess.iter && !api.uaccess.nofault ? api.uaccess : undefined;
  const faultCallee = plain ? m.fault.callee : m.fault.direction === 'to-user' ? 'copy_to_user' : 'copy_from_user';
  const fu = lookupApi(faultCallee)!.uaccess!;
  const n = Math.max(fu.userArg, fu.lenArg ?? 0) + 1;
  const faultArgs = [...Array(n).keys()].map((i) => (i === fu.userArg ? 'ubuf' : i === fu.lenArg ? 'len' : 'kbuf'));
  const ranges = new Map<string, SourceRange>([[m.lock.callee, m.lock.range], [faultCallee, m.fault.range]]);
  const mmap = m.lock.cls === 'mmap_lock';
  const writeHeld = m.lock.mode === 'write' || m.lock.mode === 'exclusive';
  const unlock = releaseOf(m.lock.callee);
  const main = setRanges(build(m.fn, ['ubuf', 'len'], (b) => {
    b.call(m.lock.callee, lockArgs(m.lock.callee, mmap ? 'mm' : 'lk'));
    b.call(faultCallee, faultArgs, 'left');
    if (unlock) b.call(unlock, lockArgs(unlock, mmap ? 'mm' : 'lk'));
    b.ret('left');
  }), ranges);
  const globals: Record<string, Val> = { kbuf: 0x1000, lk: `${m.lock.cls}(inodeA)` };
  let sc: Scenario;
  if (mmap) {
    const writer = build('mmap_writer', [], (b) => {
      b.call('mmap_write_lock', ['mm']);
      b.call('mmap_write_unlock', ['mm']);
      b.ret(0);
    });
    sc = {
      name: `${m.fn}-mmap-lock-fault`, title: `${m.fn}() faults on the user buffer while holding mmap_lock`, source: 'mmap_lock rwsem with a queued writer (scenario mmap-lock-writer-queued)',
      side: 'before', oracle: 'deadlock', fromC: true,
      functions: writeHeld ? [main] : [main, writer],
      threads: writeHeld ? [{ fn: m.fn, args: [MAP + 0x100, LEN] }] : [{ fn: m.fn, args: [MAP + 0x100, LEN] }, { fn: 'mmap_writer', name: 'another thread (mmap_write_lock: mprotect, munmap...)' }],
      layout: { vmas: [{ start: MAP, pages: 1, kind: 'anon', present: [] }] }, globals, expect: { '*': 'deadlock' },
    };
  } else {
    sc = {
      name: `${m.fn}-fs-lock-fault`, title: `${m.fn}() faults on an mmap of the same file while holding ${m.lock.cls}`, source: 'thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22); scenario gfs2-glock-fault',
      side: 'before', oracle: 'deadlock', fromC: true,
      functions: [main], threads: [{ fn: m.fn, args: [MAP + 0x100, LEN] }],
      layout: {
        files: [{ name: 'inodeA', faultLock: `${m.lock.cls}(inodeA)`, faultLockClass: m.lock.cls }],
        vmas: [{ start: MAP, pages: 1, kind: 'shared-file', file: 'inodeA', present: [] }],
      },
      globals, expect: { '*': 'deadlock' },
    };
  }
  const r = runScenario(sc, { arch: 'x86_64', maxStates: m.maxStates ?? 2000, ...(m.kernel ? { kernel: m.kernel } : {}), ...(m.cancelled ? { cancelled: m.cancelled } : {}) });
  // The model's calls stand for the C's: thread 0's steps show the C call as written (the lock
  // call, the faulting call) on its line, and notes name the C callee, not the model's stand-in.
  // Blocked and deadlock steps name the operation but carry no range: give the C's lines back.
  const shown = new Map<string, { text?: string; callee: string }>([
    [m.lock.callee, { callee: m.lock.callee, ...(m.lock.text ? { text: m.lock.text } : {}) }],
    [faultCallee, { callee: m.fault.callee, ...(m.fault.text ? { text: m.fault.text } : {}) }],
  ]);
  const steps: typeof r.steps = [];
  let decisive = r.decisive;
  for (const [i, st] of r.steps.entries()) {
    if (i === r.decisive) decisive = steps.length;
    const callee = st.operation.split('(')[0].trim();
    const rr = ranges.get(callee);
    if (rr && st.thread === 0) {
      const c = shown.get(callee)!;
      const isFault = callee === faultCallee;
      if (isFault && m.fault.via && !steps.some((x) => x.operation === m.fault.via!.text)) {
        steps.push({ thread: 0, operation: m.fault.via.text, range: m.fault.via.range, note: `${m.fn}() calls ${m.fault.via.fn}(), which faults on the user buffer` });
        if (i === r.decisive) decisive = steps.length;
      }
      const note = st.note && c.callee !== callee ? st.note.split(`${callee}()`).join(`${c.callee}()`) : st.note;
      steps.push({ ...st, operation: c.text ?? st.operation, range: rr, ...(note !== undefined ? { note } : {}) });
      continue;
    }
    const { range: _drop, ...rest } = st;
    void _drop;
    steps.push(rest);
  }
  return { ...r, steps, decisive };
}
