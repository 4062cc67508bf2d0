// The interpreter of engine/ir.ts FunctionIR over the kernel model. One transition = the
// thread's local statements (assignments to locals, branches) followed by one statement that
// touches shared state; the explorer interleaves transitions. Calls are dispatched through the
// API table's facets (lookupApi) — never by comparing callee names — then to functions of the
// program (intra-program calls push a frame), then to the simulator's intrinsics (user-space
// actions such as a store by another CPU).

import type { CallStmt, Expr, FunctionIR, Stmt } from '../ir';
import type { StepFacts, TraceStep } from '../findings';
import type { ApiEntry } from '../kernel/api-schema';
import type { IterCursorFacet, RoundsFacet } from '../kernel/api/values-schema';
import type { ArchProfile, ProfileUse } from '../kernel/profiles';
import { versionBefore, type KernelSwitches } from '../kernel/versions';
import {
  GUP_PIN_COUNTING_BIAS, cloneState, cloneThreadParts, hex, ownKernelParts, kmapAddress, newPage, pageHandle, pageOfHandle, pageOfKernelAddress, type Frame, type SimState, type ThreadState, type Val,
} from '../kernel/state';
import {
  Blocked, Violation, acquire, downgrade, faultIn, flushTlb, gupRange, holds, kernelWrite, mmapLockName, pageMkclean, release,
  releasePage, setPageDirty, touch, tryAcquire, tryToFreeBuffers, userCopy, writebackClean, writeProtect,
  type Access, type OpCtx, type Verdict,
} from '../kernel/ops';
import { exprText as exprTextRaw } from './builder';
import { constantValue, errnoName } from './constants';
import { runIntrinsic, isIntrinsic } from './intrinsics';
import { lockCallMode } from '../analysis/lock-mode';

export interface Program {
  functions: Record<string, FunctionIR>;
  /** Ranges are real C source ranges (lowered C) rather than builder rows. */
  fromC?: boolean;
  /**
   * Calls the model does not know whose result the adversary chooses (engine/sim/from-c): the
   * explorer branches over `values` at the call, like it branches over threads. A call statement
   * of the program not listed here havocs to 0.
   */
  choices?: Map<CallStmt, ChoiceSite>;
  /**
   * Locks and references released without being taken are the caller's (the function's
   * precondition, issue 11 item 7) instead of an underflow: the release is recorded as an
   * assumption on the step and the verdict that depends on it becomes inconclusive.
   */
  callerHolds?: boolean;
}

export interface ChoiceSite {
  /** How the trace names the choice (`btrfs_search_forward()`, `sk->nr_items`). */
  label: string;
  values: Val[];
  /** Why these values (`result tested against 0 and 512`). */
  why?: string;
}

/** Choices at the thread's next statement (1 when it is not an adversary choice). */
export function choiceCount(world: World, state: SimState, tid: number): number {
  const t = state.threads[tid];
  if (t.done || !t.frames.length) return 1;
  const f = t.frames[t.frames.length - 1];
  const fn = world.program.functions[f.fn];
  const st = fn?.blocks[f.block]?.stmts[f.idx];
  if (!st || st.kind !== 'call') return 1;
  const site = world.program.choices?.get(st);
  if (site) return Math.max(1, site.values.length);
  const r = roundsFacetAt(world, st);
  if (r) return roundOptions(roundKeys(fn, st, r), (key) => (key in f.env ? f.env[key] : state.globals[key] ?? null), world.profile, world.profileUse).values.length;
  return 1;
}

function isChoiceStmt(world: World, st: Stmt | undefined): boolean {
  if (!st || st.kind !== 'call') return false;
  // A rounds call (iomap_iter) starts a transition of its own: how many results it may have
  // depends on the state (roundOptions).
  return (world.program.choices?.get(st)?.values.length ?? 0) > 1 || !!roundsFacetAt(world, st);
}

/** The API table's `rounds` facet of a call the interpreter dispatches to the table (execCall). */
function roundsFacetAt(world: World, st: CallStmt): RoundsFacet | undefined {
  if (world.program.functions[st.callee] || world.program.choices?.has(st)) return undefined;
  return world.api(st.callee)?.rounds;
}

/** Where a rounds call's iteration state keeps what the model reads (keys are field texts). */
interface RoundKeys {
  /** The field the caller stores a round's result in (`iter.processed`, `it->processed`). */
  result: string;
  /** The field holding the remap flag (`iter.iomap.flags`), and the flag. */
  flags?: string;
  flag?: string;
  /** A key no C expression spells: set once the iteration has begun (the first call was made). */
  begun: string;
  /** The calling function stores into the result field itself (else the model cannot see it). */
  stored: boolean;
}

const roundKeyCache = new WeakMap<CallStmt, RoundKeys>();

function roundKeys(fn: FunctionIR, s: CallStmt, r: RoundsFacet): RoundKeys {
  let k = roundKeyCache.get(s);
  if (k) return k;
  const arg = s.args[r.iterArg] ?? { kind: 'unknown', text: '?' };
  // `&iter` names the struct itself (`iter.processed`), a pointer its pointee (`it->processed`).
  const base: Expr = arg.kind === 'unary' && arg.op === '&' ? arg.arg : arg;
  const arrow = base === arg;
  const field = (path: string): string => {
    let e: Expr = base;
    path.split('.').forEach((name, i) => { e = { kind: 'field', base: e, name, arrow: i === 0 && arrow }; });
    return exprText(e);
  };
  const result = field(r.resultField);
  let stored = false;
  for (const b of fn.blocks) for (const st of b.stmts) {
    const target = st.kind === 'assign' ? st.target : st.kind === 'call' ? st.result : undefined;
    if (target && target.kind === 'field' && exprText(target) === result) stored = true;
  }
  k = { result, begun: `${ROUND_BEGUN}${result}`, stored, ...(r.remap ? { flags: field(r.remap.field), flag: r.remap.flag } : {}) };
  roundKeyCache.set(s, k);
  return k;
}

/**
 * What a rounds call (iomap_iter(), API table `rounds`) may return in the state `read` looks
 * into: the kernel's contract (fs/iomap/iter.c, iomap_iter() and iomap_iter_advance() of v6.1),
 * with the adversary choosing what the model does not track (the iteration's length, the
 * filesystem's ->iomap_begin() and ->iomap_end() failing).
 */
function roundOptions(k: RoundKeys, read: (key: string) => Val, profile: ArchProfile, use: ProfileUse | undefined): { values: number[]; why: string } {
  const err = -(constantValue('EIO', profile, use) ?? 5);
  if (read(k.begun) === null) return { values: [1, err], why: 'the first call: a mapping, or ->iomap_begin() failed' };
  if (!k.stored) return { values: [1, 0, err], why: `${k.result} is not stored by this function: the previous round's progress is unknown` };
  const done = num(read(k.result));
  if (done < 0) return { values: [done], why: `the previous round failed (${k.result} ${show(done)})` };
  if (done === 0) {
    const bit = k.flag ? constantValue(k.flag, profile, use) : undefined;
    if (k.flags && bit && bitop(num(read(k.flags)), bit, (x, y) => x & y)) {
      return { values: [1, err], why: `the previous round processed nothing but ${k.flag} is set: the range is mapped again` };
    }
    return { values: [0, err], why: `the previous round processed nothing (${k.result} 0): the iteration ends (or ->iomap_end() fails)` };
  }
  return { values: [1, 0, err], why: `the previous round processed ${done} bytes: more of the range, the range used up, or ->iomap_begin() failed` };
}

export interface World {
  program: Program;
  profile: ArchProfile;
  sw: KernelSwitches;
  api(name: string): ApiEntry | undefined;
  /** What the run read of the profile (engine/kernel/profiles.ts ProfileUse), when the caller asks. */
  profileUse?: ProfileUse;
}

export interface TransitionResult {
  state: SimState;
  /** False when the thread could not move (blocked and already queued). */
  changed: boolean;
  steps: TraceStep[];
  fp: Map<string, Access>;
  violation?: { verdict: Verdict; note: string };
  /** IR statements executed (naive-interleaving accounting). */
  stmts: number;
  blockedOn?: string;
}

const MAX_LOCAL = 256;
/** Global keys (never C identifiers) for locks the thread took, and preconditions assumed. */
const TOOK = 'took\u0000';
const ASSUMED = 'assumed\u0000';
/** Global keys for the pages of handles the function was handed (value -> page id). */
const HANDED = 'handed\u0000';
/** Frame key prefix (never a C expression) for an iteration a rounds call has begun. */
const ROUND_BEGUN = 'round begun\u0000';
/** Global keys for the one user buffer of a run, the span an iov_iter cursor moves in. */
const ITER_START = 'iter start\u0000';
const ITER_END = 'iter end\u0000';

/**
 * The globals that tell the interpreter where the run's user buffer lies, so iov_iter_count()
 * and iov_iter_revert() (API table `iterCursor`) answer for an iterator over it. Without them an
 * iterator is a cursor over nothing: its count is 0.
 */
export function userBufferGlobals(start: number, len: number): Record<string, Val> {
  return { [ITER_START]: start, [ITER_END]: start + len };
}
const MAX_DEPTH = 32;
const MAX_ARRAY = 1024;

// The interpreter runs every statement of a transition again on every visit (a million
// statements for one kernel function): the texts it derives from the IR (a field's key, a call's
// text, a store's label) are computed once per IR node. The IR is not changed after lowering.
const exprTexts = new WeakMap<Expr, string>();
function exprText(e: Expr): string {
  let t = exprTexts.get(e);
  if (t === undefined) { t = exprTextRaw(e); exprTexts.set(e, t); }
  return t;
}

const callTexts = new WeakMap<CallStmt, string>();
/** `callee(arg, arg)` of a call statement. */
function callText(s: CallStmt): string {
  let t = callTexts.get(s);
  if (t === undefined) { t = `${s.callee}(${s.args.map(exprText).join(', ')})`; callTexts.set(s, t); }
  return t;
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

function bitop(a: number, b: number, op: (x: bigint, y: bigint) => bigint): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 0;
  return Number(BigInt.asIntN(64, op(BigInt(Math.trunc(a)), BigInt(Math.trunc(b)))));
}

export class SimError extends Error {}

function frameOf(t: ThreadState): Frame {
  return t.frames[t.frames.length - 1];
}

export function newFrame(fn: FunctionIR, args: Val[]): Frame {
  const env: Record<string, Val> = {};
  fn.params.forEach((p, i) => { env[p.name] = args[i] ?? null; });
  return { fn: fn.name, block: fn.entry, idx: 0, env, phase: 0, scratch: null, calling: false, ret: null };
}

// ---- values ----

function num(v: Val): number {
  if (typeof v === 'number') return v;
  if (v === null) return 0;
  if (typeof v === 'string') return 1; // a non-NULL handle
  return 1;
}

/**
 * `sizeof(...)` the model cannot see the type of: C's sizes for scalar types, a 32-byte record
 * otherwise (a length of 0 would make every copy trivially succeed). Other unknown expressions: 0.
 */
const SCALAR_SIZES: [RegExp, number][] = [
  [/\b(char|u8|s8|__u8|bool)\b/, 1], [/\b(short|u16|s16|__u16|__le16|__be16)\b/, 2],
  [/\b(u64|s64|__u64|__le64|__be64|size_t|ssize_t|loff_t|long)\b|\*\s*\)$/, 8], [/\b(int|u32|s32|__u32|__le32|__be32|unsigned)\b/, 4],
];
const SIZEOF_RECORD = 32;
function sizeofValue(text: string): number {
  const m = /^sizeof\s*\(?\s*(.*?)\s*\)?$/s.exec(text.trim());
  if (!m) return 0;
  if (/^(struct|union)\b/.test(m[1])) return SIZEOF_RECORD;
  for (const [re, n] of SCALAR_SIZES) if (re.test(m[1])) return n;
  return SIZEOF_RECORD;
}

function show(v: Val): string {
  if (typeof v === 'number') {
    const errno = errnoName(v);
    if (errno) return errno;
    const page = pageOfHandle(v);
    if (page !== undefined) return `page#${page}`;
    return Math.abs(v) >= 0x10000 ? hex(v) : String(v);
  }
  if (v === null) return 'NULL';
  if (typeof v === 'string') return v;
  return `[${v.map(show).join(', ')}]`;
}

class Exec {
  steps: TraceStep[] = [];
  /** Facts the next traced step carries. */
  facts: StepFacts | undefined;
  constructor(public world: World, public ctx: OpCtx, public choice = 0) {}

  get t(): ThreadState { return this.ctx.s.threads[this.ctx.tid]; }
  get frame(): Frame { return frameOf(this.t); }
  fnIR(name: string): FunctionIR {
    const f = this.world.program.functions[name];
    if (!f) throw new SimError(`no function ${name}`);
    return f;
  }

  // Variables: the frame's locals, then the scenario's shared globals (footprint), else a new local.
  private lookup(key: string): { scope: 'local' | 'global'; value: Val } {
    const f = this.frame;
    if (key in f.env) return { scope: 'local', value: f.env[key] };
    if (key in this.ctx.s.globals) {
      touch(this.ctx, `g:${key}`, 'r');
      return { scope: 'global', value: this.ctx.s.globals[key] };
    }
    return { scope: 'local', value: null };
  }

  private store(key: string, v: Val): void {
    const f = this.frame;
    if (!(key in f.env) && key in this.ctx.s.globals) {
      touch(this.ctx, `g:${key}`, 'w');
      this.ctx.s.globals[key] = v;
    } else f.env[key] = v;
  }

  eval(e: Expr): Val {
    switch (e.kind) {
      case 'int': return e.value;
      case 'var': return this.lookup(e.name).value;
      case 'const': {
        const c = constantValue(e.name, this.ctx.profile, this.ctx.profileUse);
        if (c !== undefined) return c;
        const g = this.lookup(e.name);
        return g.value ?? 0;
      }
      case 'field': return this.lookup(exprText(e)).value;
      case 'index': {
        const base = this.eval(e.base);
        const i = num(this.eval(e.index));
        return Array.isArray(base) ? (base[i] ?? null) : null;
      }
      case 'unary': {
        if (e.op === '&') return this.eval(e.arg) ?? exprText(e.arg);
        const v = this.eval(e.arg);
        if (e.op === '-') return -num(v);
        if (e.op === '!') return v === null || v === 0 ? 1 : 0;
        if (e.op === '~') return ~num(v);
        return v; // '*': the model does not track pointees
      }
      case 'binary': {
        if (e.op === '&&') return num(this.eval(e.left)) && num(this.eval(e.right)) ? 1 : 0;
        if (e.op === '||') return num(this.eval(e.left)) || num(this.eval(e.right)) ? 1 : 0;
        const l = this.eval(e.left);
        const r = this.eval(e.right);
        if (e.op === '==' || e.op === '!=') {
          const eq = typeof l === 'string' || typeof r === 'string' ? l === r : num(l) === num(r);
          return (e.op === '==') === eq ? 1 : 0;
        }
        const a = num(l), b = num(r);
        switch (e.op) {
          case '+': return a + b;
          case '-': return a - b;
          case '*': return a * b;
          case '/': return b === 0 ? 0 : Math.trunc(a / b);
          case '%': return b === 0 ? 0 : a % b;
          case '<': return a < b ? 1 : 0;
          case '<=': return a <= b ? 1 : 0;
          case '>': return a > b ? 1 : 0;
          case '>=': return a >= b ? 1 : 0;
          case '&': return bitop(a, b, (x, y) => x & y);
          case '|': return bitop(a, b, (x, y) => x | y);
          case '^': return bitop(a, b, (x, y) => x ^ y);
          case '<<': return finite(a * 2 ** Math.min(b, 63));
          case '>>': return finite(Math.floor(a / 2 ** Math.min(b, 63)));
          default: return 0;
        }
      }
      case 'unknown': return sizeofValue(e.text);
    }
  }

  assignTo(target: Expr, v: Val): void {
    if (target.kind === 'var') return this.store(target.name, v);
    if (target.kind === 'field') return this.store(exprText(target), v);
    if (target.kind === 'index') {
      const base = target.base;
      const key = base.kind === 'var' ? base.name : exprText(base);
      const arr = this.lookup(key).value;
      const i = num(this.eval(target.index));
      // Bad input never blows up memory: the model keeps arrays of at most MAX_ARRAY slots.
      if (!Number.isInteger(i) || i < 0 || i >= MAX_ARRAY) return;
      const copy = Array.isArray(arr) ? [...arr] : [];
      while (copy.length <= i) copy.push(null);
      copy[i] = v;
      return this.store(key, copy);
    }
    if (target.kind === 'unary' && target.op === '*') {
      // *p = v through a kernel mapping of a page is a kernel store into that page.
      const p = this.eval(target.arg);
      const k = pageOfKernelAddress(p, this.ctx.profile);
      if (k) kernelWrite(this.ctx, this.ctx.s.pages[k.page], `${exprText(target)} = ...`);
    }
  }

  /** Write an array result (GUP's pages) into the lvalue named by an argument expression. */
  storeArray(arg: Expr, values: Val[]): void {
    const target = arg.kind === 'unary' && arg.op === '&' ? arg.arg : arg;
    const key = target.kind === 'var' ? target.name : exprText(target);
    const prev = this.lookup(key).value;
    const arr = Array.isArray(prev) ? [...prev] : [];
    values.forEach((v, i) => { arr[i] = v; });
    this.store(key, arr);
  }

  lockInstance(entryLock: string, arg: Expr | undefined): string {
    if (entryLock === 'mmap_lock') return mmapLockName(this.t.mm);
    if (!arg) return entryLock;
    const v = this.eval(arg);
    if (entryLock === 'page_lock') {
      const id = pageOfHandle(v);
      return id !== undefined ? `page_lock(#${id})` : `page_lock(${exprText(arg)})`;
    }
    if (typeof v === 'string') return v;
    const text = exprText(arg.kind === 'unary' && arg.op === '&' ? arg.arg : arg);
    return text;
  }

  pageArg(entry: string, v: Val, what: string): number {
    const id = pageOfHandle(v);
    if (id === undefined) {
      const k = pageOfKernelAddress(v, this.ctx.profile);
      if (k) return k.page;
      if (this.world.program.callerHolds && !Array.isArray(v)) {
        // A page the function was handed (a parameter, a field, a lookup the model does not
        // know; NULL or the expression's text when the model does not track where the pointer
        // came from), not one its GUP
        // call filled: the caller holds a reference on it (precondition).
        const key = `${HANDED}${String(v)}`;
        const have = this.ctx.s.globals[key];
        if (typeof have === 'number') return have;
        const p = newPage(this.ctx.s, { anon: false, refcount: 1 });
        touch(this.ctx, `page:${p.id}`, 'w');
        this.ctx.s.globals[key] = p.id;
        this.assume(`a reference on the page ${entry} is handed (${show(v)}) held by the caller`);
        return p.id;
      }
      throw new Violation('underflow', `${what}: ${entry} on ${show(v)}, which is not a page the code took`);
    }
    return id;
  }

  /** Record a precondition the function relies on (its caller's lock or reference). */
  assume(what: string): void {
    // Said to the user (coverage words, hover): the lowering's temporaries become the C expression.
    const fn = this.t.frames.length ? this.world.program.functions[this.frame.fn] : undefined;
    if (fn) what = readable(fn, what);
    const key = `${ASSUMED}${what}`;
    if (!this.ctx.s.globals[key]) this.ctx.s.globals[key] = 1;
    this.ctx.notes.push(`precondition: ${what}`);
    this.facts = { ...this.facts, precondition: what };
  }

  trace(op: string, delta?: string, note?: string, range?: Stmt['range']): void {
    const fn = this.t.frames.length ? this.world.program.functions[this.frame.fn] : undefined;
    const s: TraceStep = { thread: this.ctx.tid, operation: fn ? readable(fn, op) : op };
    if (range && this.world.program.fromC) s.range = range;
    if (delta) s.delta = delta;
    if (note) s.note = note;
    if (this.facts) { s.facts = this.facts; this.facts = undefined; }
    this.steps.push(s);
  }

  /** Execute one statement (or one phase of one) of the current thread. */
  stepStmt(): void {
    const t = this.t;
    const f = this.frame;
    const fn = this.fnIR(f.fn);
    const block = fn.blocks[f.block];
    if (f.idx < block.stmts.length) {
      const s = block.stmts[f.idx];
      this.execStmt(s);
      return;
    }
    // End of block: follow the first edge whose condition holds (assume edges).
    if (f.block === fn.exit || block.succs.length === 0) return this.returnFromFrame();
    for (const e of block.succs) {
      if (!e.cond || num(this.eval(e.cond))) {
        f.block = e.to;
        f.idx = 0;
        return;
      }
    }
    throw new SimError(`${fn.name}: block ${block.id} has no feasible edge`);
    void t;
  }

  returnFromFrame(): void {
    const t = this.t;
    const done = t.frames.pop()!;
    if (t.frames.length === 0) {
      t.done = true;
      t.retval = done.ret;
      this.trace(`return from ${done.fn}`, `returns ${show(done.ret)}`);
      return;
    }
    const caller = frameOf(t);
    const fn = this.fnIR(caller.fn);
    const s = fn.blocks[caller.block].stmts[caller.idx] as CallStmt;
    caller.calling = false;
    if (caller.phase > 0) return; // a callback round trip: the call statement resumes
    if (s.result) this.assignTo(s.result, done.ret);
    caller.idx++;
  }

  execStmt(s: Stmt): void {
    const f = this.frame;
    switch (s.kind) {
      case 'decl':
        f.env[s.name] = s.arrayLength && s.arrayLength > 0 ? new Array(Math.min(s.arrayLength, MAX_ARRAY)).fill(null) : null;
        f.idx++;
        return;
      case 'assign': {
        const v = this.eval(s.value);
        this.assignTo(s.target, v);
        f.idx++;
        if (this.ctx.fp.size) this.trace(`${exprText(s.target)} = ${exprText(s.value)}`, `now ${show(v)}`, undefined, s.range);
        return;
      }
      case 'havoc':
        if (s.target) this.assignTo(s.target, 0);
        f.idx++;
        return;
      case 'return':
        f.ret = s.value ? this.eval(s.value) : null;
        f.idx++;
        return;
      case 'call':
        return this.execCall(s);
    }
  }

  execCall(s: CallStmt): void {
    const f = this.frame;
    const callee = this.world.program.functions[s.callee];
    if (callee) {
      const args = s.args.map((a) => this.eval(a));
      if (this.t.frames.length >= MAX_DEPTH) throw new SimError(`call depth ${MAX_DEPTH} exceeded calling ${s.callee} (recursion is not modelled)`);
      f.calling = true;
      this.t.frames.push(newFrame(callee, args));
      return;
    }
    const entry = this.world.api(s.callee);
    // An API call the program lists as a choice (an iterator the model does not know the size
    // of, engine/sim/from-c/build.ts) is answered like an unknown call.
    if (entry && !this.world.program.choices?.has(s)) return this.execApi(s, entry);
    if (isIntrinsic(s.callee)) {
      const args = s.args.map((a) => this.eval(a));
      const r = runIntrinsic(s.callee, args, this.ctx, f);
      if (r.trace) this.trace(callText(s), r.trace.delta, r.trace.note, s.range);
      if (r.done) {
        f.phase = 0;
        f.scratch = null;
        if (s.result) this.assignTo(s.result, r.value ?? 0);
        f.idx++;
      }
      return;
    }
    // Unknown call: an adversary choice when the program lists its values, else a havoc to 0.
    const site = this.world.program.choices?.get(s);
    if (site && site.values.length) {
      const k = Math.min(Math.max(0, this.choice), site.values.length - 1);
      const v = site.values[k];
      if (s.result) this.assignTo(s.result, v);
      f.idx++;
      if (site.values.length > 1) {
        this.facts = { choice: { of: site.label, value: num(v), among: site.values.length } };
        const op = s.args.length || s.callee ? callText(s) : site.label;
        this.trace(op, `${s.result && s.callee ? 'returns' : 'is'} ${show(v)}`, `adversary choice ${k + 1} of ${site.values.length}${site.why ? ` (${site.why})` : ''}`, s.range);
      }
      return;
    }
    if (s.result) this.assignTo(s.result, 0);
    f.idx++;
  }

  /**
   * An iov_iter's cursor over the run's user buffer (userBufferGlobals): the bytes left, or the
   * cursor moved by `bytes` within the buffer. A cursor outside the buffer (an iterator the model
   * did not hand the user buffer) has nothing left.
   */
  iterCursor(s: CallStmt, c: IterCursorFacet, args: Val[], deltas: string[]): Val {
    const g = this.ctx.s.globals;
    const start = g[ITER_START];
    const end = g[ITER_END];
    const at = num(args[c.iterArg]);
    if (typeof start !== 'number' || typeof end !== 'number' || at < start || at > end) return 0;
    if (c.op === 'count') return end - at;
    const bytes = num(args[c.bytesArg ?? 1]);
    const to = c.op === 'advance' ? Math.min(end, at + bytes) : Math.max(start, at - bytes);
    this.assignTo(s.args[c.iterArg], to);
    deltas.push(`iterator at ${hex(to)}, ${end - to} bytes left`);
    return 0;
  }

  /**
   * A rounds call (iomap_iter()): the result the adversary picks among those the contract
   * allows (roundOptions). Handing out a new round (1) clears the result field and the remap
   * flag, as iomap_iter_advance() does.
   */
  rounds(s: CallStmt, r: RoundsFacet, deltas: string[], notes: string[]): Val {
    const k = roundKeys(this.fnIR(this.frame.fn), s, r);
    const { values, why } = roundOptions(k, (key) => this.lookup(key).value, this.ctx.profile, this.ctx.profileUse);
    const i = Math.min(Math.max(0, this.choice), values.length - 1);
    const v = values[i];
    const done = k.stored && this.lookup(k.begun).value !== null ? num(this.lookup(k.result).value) : 0;
    this.store(k.begun, 1);
    if (v > 0) {
      if (this.lookup(k.result).value !== null) deltas.push(`${k.result} cleared`);
      this.clear(k.result);
      if (k.flags) this.clear(k.flags);
    }
    notes.push(values.length > 1 ? `${why}: adversary choice ${i + 1} of ${values.length}` : why);
    if (values.length > 1) this.facts = { ...this.facts, choice: { of: `${s.callee}()`, value: v, among: values.length } };
    // After a round with progress the kernel moves the iteration on (iter->pos and iter->len by
    // the result), which the model does not keep: the state may repeat where the kernel's cannot.
    if (done > 0) this.facts = { ...this.facts, unmodelledProgress: `${s.callee}() moves the iteration on by ${done} bytes` };
    return v;
  }

  /**
   * Zero a field the kernel clears: a frame's field is removed (reads give 0), so the state is
   * the one before the field was first stored and the explorer merges the two.
   */
  private clear(key: string): void {
    const f = this.frame;
    if (key in f.env) delete f.env[key];
    else if (key in this.ctx.s.globals) this.store(key, 0);
  }

  finishCall(s: CallStmt, value: Val, delta?: string, note?: string): void {
    const f = this.frame;
    const op = callText(s);
    const deltas = [...this.ctx.deltas];
    if (delta) deltas.unshift(delta);
    if (s.result) deltas.unshift(`returned ${show(value)}`);
    this.ctx.deltas.length = 0;
    const notes = [...this.ctx.notes];
    if (note) notes.push(note);
    this.ctx.notes.length = 0;
    this.trace(op, deltas.join('; ') || undefined, notes.join('; ') || undefined, s.range);
    f.phase = 0;
    f.scratch = null;
    if (s.result) this.assignTo(s.result, value);
    f.idx++;
  }

  execApi(s: CallStmt, e: ApiEntry): void {
    const ctx = this.ctx;
    const t = this.t;
    const f = this.frame;
    const args = s.args.map((a) => this.eval(a));
    const what = `${s.callee}()`;
    let value: Val = 0;
    const notes: string[] = [];
    const deltas: string[] = [];

    if (e.pagefault === 'disable') { t.pfDisabled++; deltas.push(`pagefault_disabled ${t.pfDisabled}`); }
    if (e.pagefault === 'enable' && t.pfDisabled === 0 && this.world.program.callerHolds) {
      this.assume(`page faults disabled by the caller (${s.callee}() without a pagefault_disable() here)`);
    } else if (e.pagefault === 'enable') {
      if (t.pfDisabled === 0) throw new Violation('underflow', `${what}: pagefault_enable() without pagefault_disable()`);
      t.pfDisabled--;
      deltas.push(`pagefault_disabled ${t.pfDisabled}`);
    }

    if (e.lock) {
      const l = e.lock;
      const name = this.lockInstance(l.lock, l.arg !== undefined ? s.args[l.arg] : undefined);
      const mode = lockCallMode(l, s.args);
      const shared = mode === 'read' || mode === 'shared';
      if (l.op === 'acquire') {
        acquire(ctx, name, l.lock, shared, { what });
        if (this.world.program.callerHolds) ctx.s.globals[`${TOOK}${name}`] = 1;
        deltas.push(`${name} held ${shared ? 'shared' : 'exclusive'} by CPU${t.id}`);
      } else if (l.op === 'trylock') {
        value = tryAcquire(ctx, name, l.lock, shared) ? 1 : 0;
        deltas.push(value ? `${name} taken` : `${name} busy`);
      } else if (l.op === 'release' && l.ifHeld && !holds(ctx.s, t.id, name)) {
        // Drops whatever the instance holds: nothing here (already released, or never taken).
        touch(ctx, `lock:${name}`, 'w');
        deltas.push(`${name} not held: nothing to release`);
      } else if (l.op === 'release') {
        if (this.world.program.callerHolds && !holds(ctx.s, t.id, name) && !ctx.s.globals[`${TOOK}${name}`]) {
          // Released without being taken here: the caller took it (the function's precondition).
          touch(ctx, `lock:${name}`, 'w');
          this.assume(`${name} held by the caller`);
          deltas.push(`${name} released (the caller's)`);
        } else {
          release(ctx, name);
          deltas.push(`${name} released`);
        }
      } else {
        downgrade(ctx, name);
        deltas.push(`${name} downgraded to read`);
      }
    }

    if (e.arith) {
      const vals = e.arith.args.filter((i) => i < args.length).map((i) => num(args[i]));
      if (vals.length) {
        value = e.arith.op === 'min' ? Math.min(...vals) : e.arith.op === 'max' ? Math.max(...vals)
          : Math.min(Math.max(vals[0], vals[1] ?? vals[0]), vals[2] ?? vals[0]);
      }
    }

    if (e.iterCursor) value = this.iterCursor(s, e.iterCursor, args, deltas);

    if (e.rounds) value = this.rounds(s, e.rounds, deltas, notes);

    if (e.faultIn) {
      const fi = e.faultIn;
      const uaddr = num(args[fi.userArg]);
      const size = num(args[fi.lenArg]);
      const r = faultIn(ctx, uaddr, size, fi, s.callee);
      value = r.ret;
      notes.push(r.note);
      this.facts = { ...this.facts, faultIn: { addr: uaddr, len: size, ret: r.ret, ok: r.ret === 0 } };
    }

    if (e.uaccess) {
      const u = e.uaccess;
      const uaddr = num(args[u.userArg]);
      const len = u.lenArg !== undefined ? num(args[u.lenArg]) : 8;
      const service = !u.nofault && t.pfDisabled === 0;
      const r = userCopy(ctx, uaddr, len, u.direction === 'to-user', service, what);
      const copied = len - r.notCopied;
      this.facts = { ...this.facts, copy: { asked: len, copied, serviced: service, ...(r.faultAt !== undefined ? { faultAt: r.faultAt } : {}) } };
      value = u.returns === 'bytes-done' ? copied : u.returns === 'errno' ? (r.notCopied ? -14 : 0) : r.notCopied;
      if (u.iter && copied > 0) this.assignTo(s.args[u.userArg], uaddr + copied);
      if (r.faultAt !== undefined) {
        const window = r.stoppedAt < r.faultAt ? `; stopped ${r.faultAt - r.stoppedAt} byte(s) short of it (fault window)` : '';
        notes.push(`copied ${copied} of ${len} bytes from ${hex(uaddr)}; faulted at ${hex(r.faultAt)}: ${r.reason ?? 'fault'}${window}${service ? '' : ' (page faults disabled: not serviced)'}`);
      } else notes.push(`copied ${len} bytes${service ? '' : ' with page faults disabled'}`);
    }

    if (e.refs) {
      // Older prototypes (8-argument get_user_pages...) move the arguments: `byArity` says where.
      const base = e.refs as typeof e.refs & { startArg?: number; byArity?: Record<number, Record<string, number>>; container?: boolean };
      const rf = { ...base, ...(base.byArity?.[s.args.length] ?? {}) } as typeof base;
      if (rf.op === 'acquire') {
        if (rf.single) {
          const id = this.pageArg(s.callee, args[rf.pagesArg], what);
          const p = ctx.s.pages[id];
          touch(ctx, `page:${id}`, 'w');
          const flags = rf.flagsArg !== undefined ? num(args[rf.flagsArg]) : 0;
          const pin = rf.kind === 'pin' || (rf.kind === 'flags' && !!(flags & (constantValue('FOLL_PIN', ctx.profile) ?? 0)));
          const before = p.refcount;
          if (pin) { p.refcount += GUP_PIN_COUNTING_BIAS; p.pincount++; p.gupPins++; } else { p.refcount++; p.gupGets++; }
          value = rf.returns === 'bool' ? 1 : 0;
          deltas.push(`page #${id} refcount ${before} -> ${p.refcount}`);
        } else {
          const flags = rf.flagsArg !== undefined ? num(args[rf.flagsArg]) : 0;
          const kind = rf.kind === 'flags' ? ((flags & (constantValue('FOLL_PIN', ctx.profile) ?? 0)) ? 'pin' : 'get') : rf.kind;
          // The start address is the argument before the page count in every get/pin_user_pages*
          // prototype; iov_iter_get_pages* take it from the iterator (arg 0) and a byte size.
          const fromIter = rf.returns === 'bytes-or-errno';
          const startArg = rf.startArg ?? (fromIter ? 0 : rf.countArg !== undefined ? rf.countArg - 1 : 0);
          const start = num(args[startArg]);
          const ps = ctx.profile.pageSize;
          let nr = rf.countArg !== undefined ? num(args[rf.countArg]) : 1;
          if (fromIter) {
            const maxsize = num(args[2]);
            const span = Math.ceil(((start % ps) + maxsize) / ps);
            nr = rf.countArg !== undefined ? Math.min(nr, span) : span;
          }
          const write = !!(flags & (constantValue('FOLL_WRITE', ctx.profile) ?? 1));
          const noFault = !!(flags & (constantValue('FOLL_NOFAULT', ctx.profile) ?? 0));
          const r = gupRange(ctx, start, nr, kind, write, noFault, s.callee);
          this.storeArray(s.args[rf.pagesArg], r.pages.map(pageHandle));
          value = fromIter && r.ret > 0 ? Math.min(num(args[2]), r.ret * ps - (start % ps)) : r.ret;
          notes.push(r.note);
        }
      } else if (rf.op === 'release' && rf.container) {
        notes.push(`${s.callee}: releases the pages of a container the model does not track`);
      } else if (rf.op === 'release') {
        const list: { v: Val; slot: string }[] = [];
        if (rf.single) list.push({ v: args[rf.pagesArg], slot: exprText(s.args[rf.pagesArg]) });
        else {
          const arr = args[rf.pagesArg];
          const n = Math.min(rf.countArg !== undefined ? num(args[rf.countArg]) : 1, MAX_ARRAY);
          if (n < 0) throw new Violation('underflow', `${what}: released ${n} pages (a negative GUP return passed as a count)`);
          for (let i = 0; i < n; i++) list.push({ v: Array.isArray(arr) ? (arr[i] ?? null) : null, slot: `${exprText(s.args[rf.pagesArg])}[${i}]` });
        }
        const makeDirty = rf.dirties === 'by-flag' ? num(args[(rf.countArg ?? rf.pagesArg) + 1]) !== 0 : !!rf.dirties;
        for (const { v, slot } of list) {
          const id = pageOfHandle(v);
          const page = id !== undefined ? ctx.s.pages[id] : undefined;
          // 'either' (put_user_page*, v5.3-v5.5) releases whatever the page carries.
          const kind = rf.kind === 'either' ? (page && page.gupPins > 0 && page.gupGets === 0 ? 'pin' : 'get') : rf.kind;
          if (makeDirty && page && !page.dirty) setPageDirty(ctx, page, what);
          // A single page pointer the model does not track (NULL or an expression's text: a
          // lookup, a field) is handed in too; an unfilled slot of a GUP array stays an underflow.
          const handed = (typeof v === 'number' && v !== 0) || (!!rf.single && !Array.isArray(v) && s.args[rf.pagesArg]?.kind !== 'index');
          if (id === undefined && handed && this.world.program.callerHolds && pageOfKernelAddress(v, ctx.profile) === undefined) {
            // A page this code was handed (a parameter, a field), not one its GUP call filled:
            // the reference is the caller's.
            this.assume(`a reference on ${slot} held by the caller`);
            continue;
          }
          releasePage(ctx, id, kind, what, `${slot} (${show(v)})`);
        }
      } else {
        const id = pageOfHandle(args[rf.pagesArg]);
        if (id !== undefined) {
          const p = ctx.s.pages[id];
          if (p.gupPins > 0) p.gupPins--; else if (p.gupGets > 0) p.gupGets--;
          notes.push(`page #${id} handed off to ${s.callee}`);
        }
      }
    }

    if (e.mem) {
      const m = e.mem;
      const page = m.pageArg !== undefined ? () => ctx.s.pages[this.pageArg(s.callee, args[m.pageArg!], what)] : undefined;
      const mm = ctx.s.mms[t.mm];
      switch (m.op) {
        case 'set-page-dirty': setPageDirty(ctx, page!(), what); break;
        case 'set-page-dirty-lock': {
          const p = page!();
          const ln = `page_lock(#${p.id})`;
          acquire(ctx, ln, 'page_lock', false, { what });
          setPageDirty(ctx, p, what);
          release(ctx, ln);
          break;
        }
        case 'try-to-free-buffers': {
          const p = page!();
          if (!holds(ctx.s, t.id, `page_lock(#${p.id})`)) notes.push('called without the page lock');
          const freed = tryToFreeBuffers(ctx, p);
          value = freed ? 1 : 0;
          deltas.push(freed ? `page #${p.id} buffers stripped` : `page #${p.id} keeps its buffers${p.dirty ? ' (dirty)' : ''}`);
          break;
        }
        case 'clear-page-dirty-for-io':
        case 'page-mkclean': {
          const p = page!();
          if (f.phase === 0) {
            this.beginInvalidate();
            if (this.pushNotifiers(p.id, s)) return;
          }
          const n = pageMkclean(ctx, p);
          this.endInvalidate();
          deltas.push(`${n} pte(s) of page #${p.id} write-protected and cleaned`);
          if (m.op === 'clear-page-dirty-for-io') {
            const was = writebackClean(ctx, p);
            value = was ? 1 : 0;
            deltas.push(`page #${p.id} clean, written back (disk = "${p.disk}")`);
          }
          break;
        }
        case 'inc-tlb-flush-pending': touch(ctx, `mm:${mm.id}`, 'w'); mm.tlbFlushPending++; deltas.push(`tlb_flush_pending ${mm.tlbFlushPending}`); break;
        case 'dec-tlb-flush-pending': touch(ctx, `mm:${mm.id}`, 'w'); mm.tlbFlushPending--; deltas.push(`tlb_flush_pending ${mm.tlbFlushPending}`); break;
        case 'flush-tlb-mm': deltas.push(`${flushTlb(ctx, mm.id)} TLB entries flushed`); break;
        case 'flush-tlb-range':
        case 'flush-tlb-page': {
          const a = num(args[m.addrArg!]);
          const endA = m.op === 'flush-tlb-range' ? num(args[m.lenArg!]) : a + 1;
          const vpns: number[] = [];
          for (let v = Math.floor(a / ctx.profile.pageSize); v * ctx.profile.pageSize < endA && vpns.length < MAX_ARRAY; v++) vpns.push(v);
          deltas.push(`${flushTlb(ctx, mm.id, vpns)} TLB entries flushed`);
          break;
        }
        case 'kmap': { const p = page!(); value = kmapAddress(p.id, ctx.profile); deltas.push(`page #${p.id} mapped at ${hex(value)}`); break; }
        case 'vmap': {
          const arr = args[m.pagesArg ?? 0];
          const first = Array.isArray(arr) ? arr[0] : arr;
          const id = pageOfHandle(first ?? null);
          value = id !== undefined ? kmapAddress(id, ctx.profile) : 0;
          deltas.push(id !== undefined ? `page #${id} vmapped at ${hex(value)}` : 'vmap failed');
          break;
        }
        case 'kunmap': case 'vunmap': break;
        case 'kernel-write': {
          const k = pageOfKernelAddress(args[m.addrArg ?? 0], ctx.profile);
          if (k) {
            kernelWrite(ctx, ctx.s.pages[k.page], what);
            deltas.push(`page #${k.page} written through the kernel mapping (no uaccess: tag-unchecked, no fault)`);
          }
          break;
        }
        case 'kernel-read': break;
        case 'mmu-notifier-register': {
          const cbExpr = s.args[m.callbackArg ?? 0];
          const cb = exprText(cbExpr.kind === 'unary' && cbExpr.op === '&' ? cbExpr.arg : cbExpr);
          const start = m.addrArg !== undefined ? num(args[m.addrArg]) : 0;
          const end = m.lenArg !== undefined ? start + num(args[m.lenArg]) : Number.MAX_SAFE_INTEGER;
          touch(ctx, `mm:${mm.id}`, 'w');
          mm.notifiers.push({ owner: t.id, callback: cb, start, end });
          deltas.push(`mmu notifier ${cb} registered`);
          break;
        }
        case 'mmu-notifier-unregister': {
          const cbExpr = s.args[m.callbackArg ?? 0];
          const cb = exprText(cbExpr.kind === 'unary' && cbExpr.op === '&' ? cbExpr.arg : cbExpr);
          touch(ctx, `mm:${mm.id}`, 'w');
          mm.notifiers = mm.notifiers.filter((n) => n.callback !== cb);
          break;
        }
        case 'mmu-notifier-invalidate':
          if (f.phase === 0) {
            this.beginInvalidate();
            if (this.pushNotifiers(undefined, s)) return;
          }
          this.endInvalidate();
          break;
        case 'mmu-notifier-read-begin': {
          touch(ctx, `mm:${mm.id}`, 'r');
          if (mm.invalidating > 0) throw new Blocked(`mmu_notifier_invalidate(mm${mm.id})`, false, `${what}: CPU${t.id} waits for the invalidation in progress to end`);
          value = mm.notifierSeq;
          break;
        }
        case 'mmu-notifier-read-retry': {
          touch(ctx, `mm:${mm.id}`, 'r');
          value = num(args[m.addrArg ?? 1]) !== mm.notifierSeq || mm.invalidating > 0 ? 1 : 0;
          break;
        }
        case 'clear-soft-dirty':
        case 'uffd-wp': {
          const a = num(args[m.addrArg ?? 0]);
          const len = m.lenArg !== undefined ? num(args[m.lenArg]) : 1;
          deltas.push(...writeProtect(ctx, a, len, m.op === 'uffd-wp'));
          break;
        }
      }
    }
    // The API table says when a function appeared / went away: say so when the scenario's kernel
    // does not have it (fault_in_writeable before v5.16, fault_in_pages_writeable after).
    if (e.since && versionBefore(ctx.sw.version, e.since) === true) notes.push(`${s.callee}() does not exist in ${ctx.sw.version} (since ${e.since})`);
    if (e.removed && versionBefore(ctx.sw.version, e.removed) === false) notes.push(`${s.callee}() was removed in ${e.removed}`);
    this.finishCall(s, value, deltas.join('; ') || undefined, notes.join('; ') || undefined);
  }

  /** invalidate_range_start: bump the interval sequence; readers (read_begin) wait until the end. */
  beginInvalidate(): void {
    for (const mm of this.ctx.s.mms) {
      if (!mm.notifiers.length) continue;
      touch(this.ctx, `mm:${mm.id}`, 'w');
      mm.invalidating++;
      mm.notifierSeq++;
    }
  }

  endInvalidate(): void {
    for (const mm of this.ctx.s.mms) {
      if (!mm.notifiers.length || mm.invalidating === 0) continue;
      touch(this.ctx, `mm:${mm.id}`, 'w');
      mm.invalidating--;
    }
  }

  /** Run the registered notifiers' invalidate callbacks on this thread (H): push their frames. */
  pushNotifiers(pageId: number | undefined, s: CallStmt): boolean {
    const ctx = this.ctx;
    const f = this.frame;
    const cbs: string[] = [];
    for (const mm of ctx.s.mms) {
      touch(ctx, `mm:${mm.id}`, 'r');
      for (const n of mm.notifiers) {
        const hit = pageId === undefined || Object.entries(mm.ptes).some(([k, p]) => p.page === pageId && Number(k) * ctx.profile.pageSize >= n.start && Number(k) * ctx.profile.pageSize < n.end);
        if (hit && this.world.program.functions[n.callback]) cbs.push(n.callback);
      }
    }
    if (!cbs.length) return false;
    f.phase = 1;
    f.calling = true;
    this.trace(callText(s), undefined, `mmu notifier invalidate: running ${cbs.join(', ')} on CPU${ctx.tid} before the PTEs change`, s.range);
    for (const cb of cbs.reverse()) this.t.frames.push(newFrame(this.world.program.functions[cb], []));
    return true;
  }
}

/** A transition's operation context; the store label is named from where the statement started, when asked. */
class TransitionCtx implements OpCtx {
  fp = new Map<string, Access>();
  notes: string[] = [];
  deltas: string[] = [];
  profile: ArchProfile;
  sw: KernelSwitches;
  profileUse: ProfileUse | undefined;
  atFn = '';
  atBlock = 0;
  atIdx = 0;
  constructor(private world: World, public s: SimState, public tid: number) {
    this.profile = world.profile;
    this.sw = world.sw;
    this.profileUse = world.profileUse;
  }
  get label(): string { return storeLabel(this.world, this.tid, this.atFn, this.atBlock, this.atIdx); }
  /** The statement about to run starts at frame `f`'s position (the store label names it). */
  startAt(f: Frame): void {
    this.atFn = f.fn; this.atBlock = f.block; this.atIdx = f.idx;
  }
}

/**
 * Run one transition of thread `tid` from `state`: local statements, then one statement that
 * touches shared state. Returns the new state, or `changed: false` when the thread cannot move.
 */
export function runTransition(world: World, state: SimState, tid: number, choice = 0): TransitionResult {
  // The kernel parts (mms, pages, files, locks) are copied only before the first statement that
  // may write them (mayWriteKernel); until then the new state reads the parent's own objects,
  // which nothing changes.
  const cur = SIM_CHECKS.share ? cloneThreadParts(state) : cloneState(state);
  let own = !SIM_CHECKS.share;
  const parentText = SIM_CHECKS.verifySharing ? kernelText(state) : undefined;
  const fp = new Map<string, Access>();
  const steps: TraceStep[] = [];
  let stmts = 0;
  // One context and one executor for the whole transition, reset between statements to what a
  // fresh one holds (a statement that left its footprint non-empty ends the transition).
  // The store label (what a user store writes into a page) is only read by the few statements
  // that store: it is named from where the statement started, when asked.
  const ctx = new TransitionCtx(world, cur, tid);
  const ex = new Exec(world, ctx, choice);
  for (let n = 0; n < MAX_LOCAL; n++) {
    const t = cur.threads[tid];
    if (t.done) break;
    const f0 = frameOf(t);
    const fn0 = world.program.functions[f0.fn];
    const st0 = fn0?.blocks[f0.block]?.stmts[f0.idx];
    // An adversary choice starts a transition of its own (the explorer branches over it).
    if (n > 0 && isChoiceStmt(world, st0)) break;
    if (n > 0) {
      if (ctx.notes.length) ctx.notes = [];
      if (ctx.deltas.length) ctx.deltas = [];
      if (ex.steps.length) ex.steps = [];
      ex.facts = undefined;
      ex.choice = 0;
    }
    ctx.startAt(f0);
    if (!own && mayWriteKernel(world, fn0, f0, st0)) { ownKernelParts(cur); own = true; }
    try {
      ex.stepStmt();
    } catch (err) {
      // Only calls can block: a blocked attempt leaves no partial effect. The state before the
      // call is rebuilt here (rarely needed) instead of snapshotted before every call that might.
      const blocking = !!st0 && st0.kind === 'call' && mayBlock(world, st0);
      if (err instanceof Blocked) {
        const before = blocking ? replay(world, state, tid, choice, n) : cur;
        if (before === cur && !own) { ownKernelParts(cur); own = true; }
        if (parentText !== undefined) checkParent(state, parentText);
        // Queue on the lock (a waiting writer blocks new readers): that is the only effect.
        const bt = before.threads[tid];
        const l = before.locks[err.lock] ?? (before.locks[err.lock] = { cls: 'lock', writer: -1, readers: [], waitingWriters: [] });
        let changed = n > 0;
        if (bt.waiting !== err.lock) { bt.waiting = err.lock; changed = true; }
        if (err.asWriter && !l.waitingWriters.includes(tid)) { l.waitingWriters.push(tid); changed = true; }
        fp.set(`lock:${err.lock}`, 'w');
        if (changed) steps.push({ thread: tid, operation: opText(world, before, tid), note: err.why });
        return { state: before, changed, steps, fp, stmts, blockedOn: err.why };
      }
      if (err instanceof Violation) {
        const before = blocking ? replay(world, state, tid, choice, n) : cur;
        steps.push(...ex.steps);
        steps.push({ thread: tid, operation: opText(world, before, tid), note: err.why });
        return { state: cur, changed: true, steps, fp, violation: { verdict: err.verdict, note: err.why }, stmts: stmts + 1 };
      }
      throw err;
    }
    stmts++;
    if (ex.steps.length) steps.push(...ex.steps);
    if (ctx.fp.size > 0) {
      for (const [k, a] of ctx.fp) if (fp.get(k) !== 'w') fp.set(k, a);
      break;
    }
    if (cur.threads[tid].done) break;
  }
  if (parentText !== undefined) checkParent(state, parentText);
  if (own && SIM_CHECKS.share && !writesKernel(fp)) shareKernel(cur, state);
  return { state: cur, changed: true, steps, fp, stmts };
}

/**
 * Statements that may change a kernel part: calls the API table or the intrinsics model, stores
 * through a pointer (`*p = v`, a kernel mapping), and leaving a function at the end of its exit
 * block (returnFromFrame may store the result through a pointer in the caller; a `return`
 * statement only records the value). Assignments to locals and globals, declarations, branches
 * and calls of the program's own functions (a new frame) change only the thread and the globals.
 */
function mayWriteKernel(world: World, fn: FunctionIR | undefined, f: Frame, st: Stmt | undefined): boolean {
  if (!fn) return true;
  if (!st) {
    const block = fn.blocks[f.block];
    return !block || f.block === fn.exit || block.succs.length === 0;
  }
  switch (st.kind) {
    case 'decl': case 'return': return false;
    case 'assign': return st.target.kind === 'unary';
    case 'havoc': return !!st.target && st.target.kind === 'unary';
    case 'call':
      if (world.program.functions[st.callee]) return false;
      if (world.api(st.callee) || isIntrinsic(st.callee)) return true;
      return !!st.result && st.result.kind === 'unary';
  }
}

function kernelText(s: SimState): string {
  return JSON.stringify([s.mms, s.pages, s.files, s.locks]);
}

/** Checks (SIM_CHECKS.verifySharing): the parent's kernel parts are as they were before the transition. */
function checkParent(parent: SimState, before: string): void {
  if (kernelText(parent) !== before) SIM_CHECKS.sharingMismatches.push('a transition changed the kernel parts of the state it started from');
}

/**
 * Switches for tests and the bench: `share` off copies the whole state for every transition and
 * keeps it (the bench's baseline); with `verifySharing` on, every transition checks that the
 * state it started from is unchanged (a kernel part it read without copying) and that every part
 * it shares with it (shareKernel) equals its own copy, and records each mismatch.
 */
export const SIM_CHECKS = { share: true, verifySharing: false, sharingMismatches: [] as string[] };

/** A write in the footprint to anything but a scenario global (`g:`): pages, PTEs, VMAs, TLBs, locks, files, mms. */
function writesKernel(fp: Map<string, Access>): boolean {
  for (const [k, a] of fp) if (a === 'w' && !k.startsWith('g:')) return true;
  return false;
}

const KERNEL_PARTS = ['mms', 'pages', 'files', 'locks'] as const;

/**
 * Most transitions of a kernel function change only the thread (its frames and locals) and the
 * globals. A transition that ran a statement which may write a kernel part (and so copied them)
 * but whose footprint holds no write to a page, PTE, VMA, TLB, lock or file (every kernel
 * operation records what it writes: the partial-order reduction relies on the same footprint)
 * takes the parent's kernel parts back instead of its identical copies, so the state hash reuses
 * their memoized hashes (engine/kernel/state.ts stateHash) and the explored graph keeps one copy.
 * Nothing changes a state once the explorer has it.
 */
function shareKernel(cur: SimState, parent: SimState): void {
  for (const k of KERNEL_PARTS) {
    if (SIM_CHECKS.verifySharing && JSON.stringify(cur[k]) !== JSON.stringify(parent[k])) {
      SIM_CHECKS.sharingMismatches.push(`${k} changed by a transition whose footprint writes nothing there`);
      continue;
    }
    (cur as unknown as Record<string, unknown>)[k] = parent[k];
  }
}

/**
 * The state after the first `n` statements of a transition of `tid` from `state` (what
 * runTransition would have snapshotted before its statement n): the interpreter is
 * deterministic, so running them again on a fresh copy gives the same state.
 */
function replay(world: World, state: SimState, tid: number, choice: number, n: number): SimState {
  const s = cloneState(state);
  for (let i = 0; i < n; i++) {
    const ctx = new TransitionCtx(world, s, tid);
    ctx.startAt(frameOf(s.threads[tid]));
    new Exec(world, ctx, i === 0 ? choice : 0).stepStmt();
  }
  return s;
}

/** Calls that can block (take a lock, or fault and take mmap_lock / a filesystem lock). */
function mayBlock(world: World, s: CallStmt): boolean {
  if (world.program.functions[s.callee]) return false;
  const e = world.api(s.callee);
  if (!e) return isIntrinsic(s.callee);
  if (e.lock && e.lock.op === 'acquire') return true;
  if (e.uaccess || e.faultIn || (e.refs && e.refs.op === 'acquire')) return true;
  return !!e.mem && (e.mem.op === 'set-page-dirty-lock' || e.mem.op === 'mmu-notifier-read-begin');
}

const temps = new WeakMap<FunctionIR, Map<string, string>>();

/**
 * What a reader sees instead of the lowering's names: a temporary (`$t4`) is the expression it
 * holds (`fault_in_writeable(ubuf, len)`), a renamed by-reference variable (`off@caller`,
 * `pos$ref`) its C name.
 */
export function readable(fn: FunctionIR, text: string): string {
  if (!/[$@]/.test(text)) return text;
  let done = readableTexts.get(fn);
  if (!done) { done = new Map(); readableTexts.set(fn, done); }
  let r = done.get(text);
  if (r === undefined) {
    r = readableUncached(fn, text);
    // Bounded: texts come from the IR (one per statement), but a trace note may carry values.
    if (done.size >= 4096) done.clear();
    done.set(text, r);
  }
  return r;
}

const readableTexts = new WeakMap<FunctionIR, Map<string, string>>();

function readableUncached(fn: FunctionIR, text: string): string {
  let m = temps.get(fn);
  if (!m) {
    m = new Map();
    for (const b of fn.blocks) for (const st of b.stmts) {
      if (st.kind === 'call' && st.result?.kind === 'var' && st.result.name.startsWith('$')) m.set(st.result.name, callText(st));
      if (st.kind === 'assign' && st.target.kind === 'var' && st.target.name.startsWith('$')) m.set(st.target.name, exprText(st.value));
    }
    temps.set(fn, m);
  }
  const map = m;
  return text
    .replace(/\$t\d+/g, (t) => (map.has(t) ? readable(fn, map.get(t)!) : 'the result'))
    .replace(/\b([A-Za-z_]\w*)@[A-Za-z_]\w*/g, '$1')
    .replace(/\b([A-Za-z_]\w*)\$ref\b/g, '$1');
}

const ordinals = new WeakMap<FunctionIR, Map<Stmt, number>>();
const fromCLabels = new WeakMap<Stmt, string[]>();

/** Names a user-space store by where it is: its source line (from C), else its place in the function. */
function storeLabel(world: World, tid: number, fnName: string, block: number, idx: number): string {
  const fn = world.program.functions[fnName];
  const st = fn?.blocks[block]?.stmts[idx];
  if (!fn || !st) return `CPU${tid}'s store in ${fnName}()`;
  if (world.program.fromC && st.range) {
    let byTid = fromCLabels.get(st);
    if (!byTid) { byTid = []; fromCLabels.set(st, byTid); }
    return byTid[tid] ??= `CPU${tid}'s store at line ${st.range.startRow + 1}`;
  }
  let m = ordinals.get(fn);
  if (!m) {
    m = new Map();
    let k = 0;
    for (const b of fn.blocks) for (const x of b.stmts) if (x.kind === 'call') m.set(x, ++k);
    ordinals.set(fn, m);
  }
  return `CPU${tid}'s store #${m.get(st) ?? 0} in ${fnName}()`;
}

function opText(world: World, s: SimState, tid: number): string {
  const t = s.threads[tid];
  const f = t.frames[t.frames.length - 1];
  if (!f) return 'exit';
  const fn = world.program.functions[f.fn];
  const st = fn?.blocks[f.block]?.stmts[f.idx];
  if (st && st.kind === 'call') return readable(fn, callText(st));
  if (st && st.kind === 'assign') return readable(fn, `${exprText(st.target)} = ${exprText(st.value)}`);
  return `${f.fn}`;
}
