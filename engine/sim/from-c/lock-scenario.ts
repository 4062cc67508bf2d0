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
  /**
   * `text`: the C call as written (the trace shows it instead of the model's call). `name`: the
   * lock as the C names it (`inode->i_rwsem`, `the glock of rc->holder`). `fn`: the function the
   * lock call is in; `via`: the call in `fn` that reaches it when that is a helper.
   */
  lock: {
    callee: string; cls: string; mode?: string; range: SourceRange; text?: string; name?: string; fn?: string;
    via?: { fn: string; text: string; range: SourceRange };
  };
  /**
   * The faulting C call. `via`: the call in the analysed function when the fault is in a helper
   * (`helper(args)`, its text and range), shown as the step that enters the helper.
   */
  fault: { callee: string; range: SourceRange; direction: 'to-user' | 'from-user'; text?: string; fn?: string; via?: { fn: string; text: string; range: SourceRange } };
  /**
   * The fault path's function that takes the lock, shown as the kernel's step: the file's own
   * ->fault / ->page_mkwrite (with its range), or the kernel's from the API table.
   */
  handler?: { name: string; range?: SourceRange; own?: boolean };
  kernel?: string;
  cancelled?: () => boolean;
  maxStates?: number;
}

/** The model's names for the file mapped at the user buffer and the threads. */
const MODEL_FILE = 'inodeA';

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

/**
 * Arguments for a lock call with the instance at the table's argument position, and, when the
 * model holds the lock exclusive and the entry takes its mode from an argument (exclusiveWhen),
 * the constant that makes it exclusive there.
 */
function lockArgs(callee: string, inst: string, exclusive = false): string[] {
  const l = lookupApi(callee)?.lock;
  const w = exclusive ? l?.exclusiveWhen : undefined;
  const n = Math.max(1, (l?.arg ?? 0) + 1, w ? w.arg + 1 : 0);
  return [...Array(n).keys()].map((i) => (i === (l?.arg ?? 0) ? inst : w && i === w.arg ? w.names[0] : '0'));
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
    b.call(m.lock.callee, lockArgs(m.lock.callee, mmap ? 'mm' : 'lk', writeHeld));
    b.call(faultCallee, faultArgs, 'left');
    if (unlock) b.call(unlock, lockArgs(unlock, mmap ? 'mm' : 'lk'));
    b.ret('left');
  }), ranges);
  const globals: Record<string, Val> = { kbuf: 0x1000, lk: `${m.lock.cls}(${MODEL_FILE})` };
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
      threads: writeHeld ? [{ fn: m.fn, args: [MAP + 0x100, LEN], name: `${m.fn}()` }] : [{ fn: m.fn, args: [MAP + 0x100, LEN], name: `${m.fn}()` }, { fn: 'mmap_writer', name: WRITER }],
      layout: { vmas: [{ start: MAP, pages: 1, kind: 'anon', present: [] }] }, globals, expect: { '*': 'deadlock' },
    };
  } else {
    sc = {
      name: `${m.fn}-fs-lock-fault`, title: `${m.fn}() faults on an mmap of the same file while holding ${m.lock.cls}`, source: 'thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22); scenario gfs2-glock-fault',
      side: 'before', oracle: 'deadlock', fromC: true,
      functions: [main], threads: [{ fn: m.fn, args: [MAP + 0x100, LEN], name: `${m.fn}()` }],
      layout: {
        files: [{ name: MODEL_FILE, faultLock: `${m.lock.cls}(${MODEL_FILE})`, faultLockClass: m.lock.cls }],
        vmas: [{ start: MAP, pages: 1, kind: 'shared-file', file: MODEL_FILE, present: [] }],
      },
      globals, expect: { '*': 'deadlock' },
    };
  }
  const r = runScenario(sc, { arch: 'x86_64', maxStates: m.maxStates ?? 2000, ...(m.kernel ? { kernel: m.kernel } : {}), ...(m.cancelled ? { cancelled: m.cancelled } : {}) });
  return inCTerms(r, m, { faultCallee, mmap, writeHeld });
}

/** The other thread of the mmap_lock scenario: its role, not code under review. */
const WRITER = 'another thread: mmap_write_lock() (mprotect(), munmap(), mmap()...)';

/**
 * The model's trace in the terms of the C under review (issue 9): the model's lock and file names
 * become the lock as written (`inode->i_rwsem`, the glock of `rc->holder`), CPU numbers become the
 * thread's role, the model's stand-in calls show the C calls on their lines (entering a helper is
 * a step of its own), and what the fault path does is a separate step labelled as the kernel's,
 * named after the function that takes the lock (the file's own handler, or the API table's).
 */
function inCTerms(r: SimResult, m: LockFaultModel, o: { faultCallee: string; mmap: boolean; writeHeld: boolean }): SimResult {
  const me = `${m.fn}()`;
  const lockName = m.lock.name ?? (o.mmap ? 'mmap_lock' : `the ${m.lock.cls}`);
  const modelLock = o.mmap ? 'mmap_lock(mm0)' : `${m.lock.cls}(${MODEL_FILE})`;
  const say = (t: string | undefined): string | undefined => t === undefined ? undefined : t
    .split(modelLock).join(lockName)
    .split(`of ${MODEL_FILE}`).join('of the mapped file')
    .split(MODEL_FILE).join('the mapped file')
    .replace(/\bwriter CPU1\b/g, 'the writer')
    .replace(/\bCPU0\b/g, me)
    .replace(/\bCPU1\b/g, 'the writer');
  const lockCallee = m.lock.callee;
  const steps: SimResult['steps'] = [];
  let decisive = r.decisive;
  for (const [i, st] of r.steps.entries()) {
    const callee = st.operation.split('(')[0].trim();
    const mark = () => { if (i === r.decisive) decisive = steps.length - 1; };
    if (st.thread === 0 && callee === lockCallee) {
      if (m.lock.via) steps.push({ thread: 0, operation: m.lock.via.text, range: m.lock.via.range, note: `${me} calls ${m.lock.via.fn}(), which takes ${lockName} and returns holding it` });
      const where = m.lock.fn && m.lock.fn !== m.fn ? ` (in ${m.lock.fn}())` : '';
      const delta = say(st.delta);
      const note = say(st.note);
      steps.push({ thread: 0, operation: `${m.lock.text ?? st.operation}${where}`, range: m.lock.range, ...(delta ? { delta } : {}), ...(note ? { note } : {}), ...(st.facts ? { facts: st.facts } : {}) });
      mark();
      continue;
    }
    if (st.thread === 0 && callee === o.faultCallee) {
      if (m.fault.via && !steps.some((x) => x.operation === m.fault.via!.text)) {
        steps.push({ thread: 0, operation: m.fault.via.text, range: m.fault.via.range, note: `${me} calls ${m.fault.via.fn}(), which faults on the user buffer` });
      }
      const where = m.fault.fn && m.fault.fn !== m.fn ? ` (in ${m.fault.fn}())` : '';
      const kind = m.fault.direction === 'to-user' ? 'write' : 'read';
      const buffer = o.mmap ? 'the user buffer is not present' : 'the user buffer is an mmap of the same file, its page not present';
      steps.push({ thread: 0, operation: `${m.fault.text ?? m.fault.callee}${where}`, range: m.fault.range, note: `${buffer}: a ${kind} fault, taken with page faults enabled` });
      // The fault path is the kernel's: its own step, named after the function that takes the lock.
      const handler = m.handler?.name ?? (o.mmap ? 'the page-fault handler' : `->${kind === 'write' ? 'page_mkwrite' : 'fault'}`);
      // The model says "->page_mkwrite of <file> takes <lock> <mode>": the step names the handler.
      const modelNote = say(st.note?.startsWith(`${o.faultCallee}(): `) ? st.note.slice(o.faultCallee.length + 4) : st.note)
        ?.replace(/^->(?:page_mkwrite|fault) of the mapped file takes /, `${m.handler?.name ?? 'the fault path'} takes `);
      const delta = say(st.delta);
      steps.push({
        thread: 0, operation: `kernel: ${handler}${m.handler?.own ? ' (this file\'s fault handler)' : ''}`,
        ...(m.handler?.range ? { range: m.handler.range } : {}),
        ...(delta ? { delta } : {}),
        note: `the kernel's fault path, not a line of ${me}: ${modelNote ?? `takes ${lockName}`}`,
        ...(st.facts ? { facts: st.facts } : {}),
      });
      mark();
      continue;
    }
    // Other steps (the writer, the verdict, returns): no line of their own, in the C's names.
    const { range: _drop, ...rest } = st;
    void _drop;
    const operation = say(st.operation)!;
    const delta = say(rest.delta);
    const note = say(rest.note);
    steps.push({ ...rest, operation, ...(delta !== undefined ? { delta } : {}), ...(note !== undefined ? { note } : {}) });
    mark();
  }
  return { ...r, steps, decisive, note: say(r.note) ?? r.note };
}
