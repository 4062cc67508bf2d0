// Building a simulation from a lowered C function (issues 4 and 8): the program (the function and
// the same-file helpers it reaches), the arguments (the user buffer from the pointer and length
// expressions the copies and fault-ins use), the buffer lengths the code tests (`size < 512`
// gives 511, 512 and 513), the adversary's memory layouts, and the results of calls nobody knows
// (not in the API table, not in the file) as adversary choices the explorer branches over at the
// call: error, zero, one, the constants the result is compared with (each side of them), and a
// partial and a full length when it is compared with a variable.

import type { CallStmt, Expr, FunctionIR, Stmt } from '../../ir';
import type { ChoiceSite } from '../interp';
import { constantValue } from '../constants';
import { PROFILES } from '../../kernel/profiles';
import type { Layout, Val } from '../../kernel/state';
import { lookupApi } from '../../kernel/api-table';
import type { ApiEntry } from '../../kernel/api-schema';
import { isIntrinsic } from '../intrinsics';
import { exprKey, rootVar, varsOf } from '../../analysis/expr';
import { exprText } from '../builder';

/** Base of the user buffer's VMA: two anonymous pages. */
export const USER_VMA = 0x7f0000010000;
/** Length handed to the function's length parameters when the code tests no bound (bytes). */
export const USER_LEN = 0x100;
/** Buffer lengths tried at most (from the guards the code tests, plus USER_LEN). */
const MAX_LENGTHS = 4;
/** Functions pulled into one program (the function plus helpers it reaches). */
const MAX_FUNCTIONS = 32;
/** Values one adversary choice ranges over at most. */
const MAX_CHOICE_VALUES = 6;
/** Base of the distinct non-NULL kernel objects an unknown pointer-returning call gives. */
const OBJECT_BASE = 0x200000;

export interface UserLayout {
  label: string;
  /** Where the user buffer starts. */
  start: number;
  layout: Layout;
}

/**
 * The adversary's user buffers (arch/arm64/lib/copy_to_user.S; fs/btrfs/ioctl.c search_ioctl()): a
 * buffer crossing a page boundary with everything present; the same with an MTE tag mismatch a few
 * granules into the first page (the search_ioctl live-lock: fault-in probes one byte per page, the
 * copy faults inside a present page); the second page not present (fault-in must fail or make
 * progress); and a buffer 8 bytes short of an unmapped page (a copy with a fault window may stop
 * short of the fault).
 *
 * `subpageFaults`: whether the profile has sub-page faults (an MTE granule). Without them a tag
 * mismatch is invisible (kernel/ops.ts: neither the copy nor the fault-in reads a page's bad
 * granules there), so each tag-mismatch layout would be the all-present run again, state for
 * state: they are left out (on x86_64 and arm64 the same function costs half the states, and the
 * arm64-mte runs are no longer starved of the function's budget by those repeats).
 */
export function userLayouts(len = USER_LEN, subpageFaults = true): UserLayout[] {
  const cross = USER_VMA + 0x1000 - 0x80;
  const edge = USER_VMA + 0x1000 - 8;
  // Enough pages for the whole buffer from `cross` (lengths come from the code's guards).
  const pages = 2 + Math.ceil(Math.max(0, len - 0x80) / 0x1000);
  const vma = (present?: number[]) => ({ start: USER_VMA, pages, kind: 'anon' as const, ...(present ? { present } : {}) });
  const out: UserLayout[] = [{ label: 'buffer crossing a page boundary, all present', start: cross, layout: { vmas: [vma()] } }];
  // A tag mismatch inside the first record (+0x10), past one (+0x30), further on (+0x50): only
  // where the buffer reaches.
  for (const off of subpageFaults ? [0x10, 0x30, 0x50] : []) {
    if (off < len) out.push({ label: `MTE tag mismatch at granule +0x${off.toString(16)} of the buffer`, start: cross, layout: { vmas: [vma()], badGranules: [cross + off] } });
  }
  if (len > 0x80) out.push({ label: 'second page of the buffer not present (unmapped)', start: cross, layout: { vmas: [{ ...vma(), pages: 1 }] } });
  out.push({ label: 'buffer starting 8 bytes before an unmapped page', start: edge, layout: { vmas: [{ ...vma(), pages: 1 }] } });
  return out;
}

export interface UnknownSite {
  /** Global holding the site's result for one run (`demo_next_item()`, `demo_next_item()#2`). */
  key: string;
  callee: string;
  fn: string;
  call: CallStmt;
  /** The result decides a branch somewhere (worth varying). */
  decides: boolean;
}

export interface BuiltProgram {
  functions: FunctionIR[];
  /** Globals the program needs declared up front (locals passed by address, see byReference). */
  globals: Record<string, Val>;
  unknowns: UnknownSite[];
  /** Unknown sites the adversary varies (their result decides a branch). */
  varied: UnknownSite[];
  /** The adversary's values per unknown call site, for a buffer of `len` bytes. */
  choices(len: number): Map<CallStmt, ChoiceSite>;
  /** Buffer lengths to try: the code's guards on the length (each side), else USER_LEN. */
  lengths: number[];
  /** Entry arguments per parameter role. */
  args(start: number, len?: number): Val[];
  /** Struct fields of the parameters that hold the buffer or its length (`req->ubuf`), as globals. */
  fieldGlobals(start: number, len?: number): Record<string, Val>;
  roles: { user: string[]; len: string[] };
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Functions of the file `fn` reaches through direct calls (bounded), `fn` first. */
export function reachable(fn: FunctionIR, byName: Map<string, FunctionIR>): FunctionIR[] {
  const out: FunctionIR[] = [fn];
  const seen = new Set([fn.name]);
  for (let i = 0; i < out.length && out.length < MAX_FUNCTIONS; i++) {
    for (const b of out[i].blocks) for (const s of b.stmts) {
      if (s.kind !== 'call' || seen.has(s.callee) || lookupApi(s.callee)) continue;
      const h = byName.get(s.callee);
      if (h && out.length < MAX_FUNCTIONS) { seen.add(s.callee); out.push(h); }
    }
  }
  return out;
}

/**
 * Parameters that are the user buffer (the root of a uaccess / fault-in user address, or an
 * iov_iter the copy walks) and the length (variables of the length expressions), followed
 * through same-file helpers' parameters.
 */
function paramRoles(fns: FunctionIR[], byName: Map<string, FunctionIR>): Map<string, { user: Set<number>; len: Set<number> }> {
  const roles = new Map<string, { user: Set<number>; len: Set<number> }>();
  for (const f of fns) roles.set(f.name, { user: new Set(), len: new Set() });
  const mark = (f: FunctionIR, e: Expr | undefined, what: 'user' | 'len'): boolean => {
    if (!e) return false;
    const names = sources(f, what === 'user' ? [rootVar(e)].filter((x): x is string => !!x) : [...varsOf(e)], what);
    let changed = false;
    const r = roles.get(f.name)!;
    for (const n of names) {
      const i = f.params.findIndex((p) => p.name === n);
      if (i >= 0 && !r[what].has(i)) { r[what].add(i); changed = true; }
    }
    return changed;
  };
  // Fixpoint over the (small, bounded) program: helpers' roles flow back to their call sites.
  for (let round = 0; round < 6; round++) {
    let changed = false;
    for (const f of fns) for (const b of f.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const api = lookupApi(s.callee);
      if (api?.uaccess) {
        changed = mark(f, s.args[api.uaccess.userArg], 'user') || changed;
        if (api.uaccess.lenArg !== undefined) changed = mark(f, s.args[api.uaccess.lenArg], 'len') || changed;
      } else if (api?.faultIn) {
        changed = mark(f, s.args[api.faultIn.userArg], 'user') || changed;
        changed = mark(f, s.args[api.faultIn.lenArg], 'len') || changed;
      } else if (!api && byName.has(s.callee) && roles.has(s.callee)) {
        const hr = roles.get(s.callee)!;
        for (const i of hr.user) changed = mark(f, s.args[i], 'user') || changed;
        for (const i of hr.len) changed = mark(f, s.args[i], 'len') || changed;
      }
    }
    if (!changed) break;
  }
  return roles;
}

/**
 * Follow local copies back to what they were computed from: `bytes = count; copy(..., bytes, i)`
 * makes `count` a length, `p = ubuf + off; copy(p, ...)` makes `ubuf` the buffer (bounded rounds).
 */
function sources(f: FunctionIR, names: string[], what: 'user' | 'len'): string[] {
  const out = new Set(names);
  for (let round = 0; round < 4; round++) {
    let grew = false;
    for (const b of f.blocks) for (const s of b.stmts) {
      if (s.kind !== 'assign' || s.target.kind !== 'var' || !out.has(s.target.name)) continue;
      const from = what === 'user' ? [rootVar(s.value)].filter((x): x is string => !!x) : [...varsOf(s.value)];
      for (const v of from) if (!out.has(v) && !v.startsWith('$')) { out.add(v); grew = true; }
    }
    if (!grew) break;
  }
  return [...out];
}

function leftmost(e: Expr): Expr {
  let x = e;
  while (x.kind === 'binary' && (x.op === '+' || x.op === '-')) x = x.left;
  return x;
}

function fieldsOf(e: Expr, out: Expr[] = []): Expr[] {
  switch (e.kind) {
    case 'field': out.push(e); break;
    case 'unary': fieldsOf(e.arg, out); break;
    case 'binary': fieldsOf(e.left, out); fieldsOf(e.right, out); break;
    default: break;
  }
  return out;
}

/**
 * Buffers and lengths kept in structs the function is handed (`req->ubuf + req->done`,
 * `sk->buf_size - off`): the interpreter reads a field by its text, so those become globals.
 */
function fieldRoles(fn: FunctionIR): { user: Set<string>; len: Set<string> } {
  // Parameters, and locals the function fills from user memory (`copy_from_user(&args, ...)`).
  const params = new Set([...fn.params.map((p) => p.name), ...userFilled(fn).keys()]);
  const user = new Set<string>();
  const len = new Set<string>();
  const ofParam = (e: Expr): boolean => e.kind === 'field' && params.has(rootVar(e) ?? '');
  // `p = req->ubuf + off; copy(p, ...)`: look through one local copy.
  const assigned = new Map<string, Expr>();
  for (const b of fn.blocks) for (const s of b.stmts) if (s.kind === 'assign' && s.target.kind === 'var') assigned.set(s.target.name, s.value);
  const through = (e: Expr): Expr => {
    const l = leftmost(e);
    return l.kind === 'var' && assigned.has(l.name) ? leftmost(assigned.get(l.name)!) : l;
  };
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind !== 'call') continue;
    const api = lookupApi(s.callee);
    const u = api?.uaccess ?? api?.faultIn;
    if (!u) continue;
    const ue = s.args[u.userArg];
    if (ue) {
      const l = through(ue);
      if (ofParam(l)) user.add(exprText(l));
    }
    const le = u.lenArg !== undefined ? s.args[u.lenArg] : undefined;
    if (le) for (const f of fieldsOf(le)) if (ofParam(f)) len.add(exprText(f));
  }
  for (const k of user) len.delete(k);
  // A field the function advances (`req->done += n`) is progress, not the buffer's size.
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind === 'assign' && s.target.kind === 'field') { len.delete(exprText(s.target)); user.delete(exprText(s.target)); }
  }
  return { user, len };
}

/**
 * Locals the function fills from user memory: the kernel-side argument of a from-user copy
 * (`copy_from_user(&args, uargs, sizeof(args))`, `get_user(n, &uargs->n)`), with the call that
 * fills them (their fields are the caller's input from there on).
 */
function userFilled(fn: FunctionIR): Map<string, CallStmt> {
  const out = new Map<string, CallStmt>();
  const locals = new Set(Object.keys(fn.locals));
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind !== 'call') continue;
    const u = lookupApi(s.callee)?.uaccess;
    if (!u || u.direction !== 'from-user' || u.iter) continue;
    s.args.forEach((a, i) => {
      if (i === u.userArg || i === u.lenArg) return;
      const x = a.kind === 'unary' && a.op === '&' ? a.arg : a;
      if (x.kind === 'var' && locals.has(x.name) && !out.has(x.name)) out.set(x.name, s);
    });
  }
  return out;
}

/** Input fields the adversary chooses at most (each multiplies the states explored). */
const MAX_INPUT_FIELDS = 2;
/** Values one input field ranges over at most. */
const MAX_INPUT_VALUES = 3;

interface InputField {
  expr: Expr;
  /** Choose before this statement of the entry (a from-user copy's successor), else at entry. */
  after?: CallStmt;
  values: Val[];
  why: string;
}

/**
 * Struct fields the code tests that come from its caller or from user memory (`sk->nr_items`,
 * `args.flags` after copy_from_user(&args, ...)): like an unknown call's result, each is an
 * adversary choice over what the code compares it with (each side of a constant; none, one or
 * many against a variable; zero or not when only tested for truth). Read by their text in the
 * entry and in helpers that name them the same way. Buffer and length fields are set from the
 * layout instead (fieldRoles).
 */
function inputFields(fns: FunctionIR[], entry: FunctionIR, roles: { user: Set<string>; len: Set<string> }): InputField[] {
  const filled = userFilled(entry);
  const roots = new Set([...entry.params.map((p) => p.name), ...filled.keys()]);
  const found = new Map<string, { expr: Expr; consts: number[]; vsVar: boolean; root: string }>();
  // A field the program advances (`req->done += n`) is progress it keeps, not an input to choose.
  const advanced = new Set<string>();
  for (const f of fns) for (const b of f.blocks) for (const st of b.stmts) {
    if (st.kind !== 'assign' || st.target.kind !== 'field') continue;
    const t = exprText(st.target);
    if (fieldsOf(st.value).some((x) => exprText(x) === t)) advanced.add(t);
  }
  // A field the entry block sets (`req->done = 0;`) is state the function starts, not an input.
  for (const st of entry.blocks[entry.entry]?.stmts ?? []) {
    if (st.kind === 'assign' && st.target.kind === 'field' && !fieldsOf(st.value).some((x) => exprText(x) === exprText(st.target))) advanced.add(exprText(st.target));
  }
  const fieldExprs = (e: Expr, out: Expr[] = []): Expr[] => {
    if (e.kind === 'field') out.push(e);
    else if (e.kind === 'unary') fieldExprs(e.arg, out);
    else if (e.kind === 'binary') { fieldExprs(e.left, out); fieldExprs(e.right, out); }
    return out;
  };
  for (const f of fns) for (const b of f.blocks) for (const e of b.succs) {
    if (!e.cond) continue;
    for (const x of fieldExprs(e.cond)) {
      const root = rootVar(x);
      // A helper's parameter named like the entry's stands for it (the interpreter reads fields by text).
      if (!root || !roots.has(root)) continue;
      const t = exprText(x);
      if (roles.user.has(t) || roles.len.has(t) || advanced.has(t)) continue;
      if (!found.has(t)) found.set(t, { expr: x, consts: [], vsVar: false, root });
      const k = found.get(t)!;
      for (const other of comparedWith(e.cond, (y) => y.kind === 'field' && exprText(y) === t)) {
        const c = constOf(other);
        if (c !== undefined) k.consts.push(c); else k.vsVar = true;
      }
    }
  }
  const out: InputField[] = [];
  for (const [, k] of found) {
    const vals: number[] = [];
    const add = (v: number): void => { if (Number.isFinite(v) && v >= 0 && !vals.includes(v)) vals.push(v); };
    let why: string;
    if (k.consts.length) {
      for (const c of k.consts) { add(c - 1); add(c); add(c + 1); }
      why = `each side of ${[...new Set(k.consts)].join(', ')}`;
    } else if (k.vsVar) {
      add(0); add(1); add(2);
      why = 'none, one or many';
    } else {
      add(0); add(1);
      why = 'zero or not';
    }
    const after = filled.get(k.root);
    out.push({ expr: k.expr, ...(after ? { after } : {}), values: vals.slice(0, MAX_INPUT_VALUES), why });
    if (out.length >= MAX_INPUT_FIELDS) break;
  }
  return out;
}

function condVars(fns: FunctionIR[]): Set<string> {
  const out = new Set<string>();
  for (const f of fns) for (const b of f.blocks) for (const e of b.succs) if (e.cond) for (const v of varsOf(e.cond)) out.add(`${f.name}:${v}`);
  return out;
}

/**
 * An iov_iter_count() (API table `iterCursor`) of an iterator the model did not hand the user
 * buffer: a local `struct iov_iter` the function builds, a field, a helper's result. The model
 * does not know how many bytes it holds, so its count stays what it was before the cursor was
 * modelled, an adversary choice; the count of the user buffer's own iterator (a parameter that
 * reaches a copy or a fault-in as the user address) is computed.
 */
function countsUnknownIterator(f: FunctionIR, s: CallStmt, api: ApiEntry, roles: Map<string, { user: Set<number> }>): boolean {
  if (api.iterCursor?.op !== 'count') return false;
  const arg = s.args[api.iterCursor.iterArg];
  const root = arg && rootVar(arg);
  return !root || ![...roles.get(f.name)?.user ?? []].some((i) => f.params[i]?.name === root);
}

/**
 * The program the explorer runs: copies of the functions where each call nobody knows (no API
 * entry, no definition in the file, no simulator intrinsic) reads its result from a global the
 * adversary sets — the interpreter's havoc is "0"; here a run may pick another value.
 */
export function buildProgram(fn: FunctionIR, byName: Map<string, FunctionIR>, loopBlocks?: Set<number>): BuiltProgram {
  const fns = reachable(fn, byName);
  const inProgram = new Set(fns.map((f) => f.name));
  const cv = condVars(fns);
  const unknowns: UnknownSite[] = [];
  const count = new Map<string, number>();
  const copies = fns.map((f) => clone(f));
  const globals = byReference(copies, fn);
  const allRoles = paramRoles(fns, byName);
  // After byReference (it renames locals): the unknown sites of the program the explorer runs.
  copies.forEach((c) => {
    for (const b of c.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call' || inProgram.has(s.callee) || isIntrinsic(s.callee) || !s.result) continue;
      const api = lookupApi(s.callee);
      if (api && !countsUnknownIterator(c, s, api, allRoles)) continue;
      const n = (count.get(s.callee) ?? 0) + 1;
      count.set(s.callee, n);
      const key = n === 1 ? `${s.callee}()` : `${s.callee}()#${n}`;
      const res = s.result;
      const decides = res.kind === 'var' && cv.has(`${c.name}:${res.name}`);
      const inLoop = c.name === fn.name && (loopBlocks?.has(b.id) ?? false);
      unknowns.push({ key, callee: s.callee, fn: c.name, call: s, decides: decides || inLoop });
    }
  });
  const varied = unknowns.filter((u) => u.decides);
  const roles = allRoles.get(fn.name)!;
  const args = (start: number, len = USER_LEN): Val[] => fn.params.map((p, i) => {
    if (roles.user.has(i)) return start;
    if (roles.len.has(i)) return len;
    // Other pointers: distinct non-NULL kernel objects; other integers: 0 (like a havoc).
    return p.type.includes('*') ? 0x100000 + 0x1000 * i : 0;
  });
  const fields = fieldRoles(fn);
  // The input fields the code tests become choices made where the input arrives (entry, or just
  // after the copy from user memory): a call with no callee the interpreter resolves by its site.
  const entryCopy = copies[0];
  const inputs: { call: CallStmt; site: ChoiceSite }[] = [];
  for (const inp of inputFields(fns, fn, fields)) {
    const range = inp.after?.range ?? entryCopy.nameRange;
    const call: CallStmt = { kind: 'call', callee: '', args: [], argRanges: [], result: inp.expr, calleeRange: range, range };
    let placed = false;
    if (inp.after) {
      const at = inp.after;
      for (const b of entryCopy.blocks) {
        const i = b.stmts.findIndex((x) => x.kind === 'call' && x.range.start === at.range.start && x.callee === at.callee);
        if (i >= 0) { b.stmts.splice(i + 1, 0, call); placed = true; break; }
      }
    }
    if (!placed) entryCopy.blocks[entryCopy.entry].stmts.unshift(call);
    inputs.push({ call, site: { label: exprText(inp.expr), values: inp.values, why: `caller's input: ${inp.why}` } });
  }
  const fieldGlobals = (start: number, len = USER_LEN): Record<string, Val> => ({
    ...Object.fromEntries([...fields.len].map((k) => [k, len])),
    ...Object.fromEntries([...fields.user].map((k) => [k, start])),
  });
  const byFn = new Map(copies.map((c) => [c.name, c] as const));
  const choices = (len: number): Map<CallStmt, ChoiceSite> => {
    const m = new Map<CallStmt, ChoiceSite>();
    for (const x of inputs) if (x.site.values.length) m.set(x.call, x.site);
    unknowns.forEach((u, i) => {
      const f = byFn.get(u.fn)!;
      const res = u.call.result!;
      const type = res.kind === 'var' ? f.locals[res.name] ?? f.params.find((p) => p.name === res.name)?.type : undefined;
      if (type?.includes('*')) {
        m.set(u.call, u.decides ? { label: u.key, values: [0, OBJECT_BASE + 0x1000 * i], why: 'NULL or an object' } : { label: u.key, values: [OBJECT_BASE + 0x1000 * i] });
        return;
      }
      if (!u.decides) return;
      const { values, why } = resultValues(f, res, type, len);
      m.set(u.call, { label: u.key, values, why });
    });
    return m;
  };
  const lengths = guardLengths(fns, roles, fields, fn);
  return {
    functions: copies, globals, unknowns, varied, choices, lengths, args, fieldGlobals,
    roles: {
      user: [...[...roles.user].map((i) => fn.params[i].name), ...fields.user],
      len: [...[...roles.len].map((i) => fn.params[i].name), ...fields.len],
    },
  };
}

function mapExpr(e: Expr, f: (x: Expr) => Expr | undefined): Expr {
  const hit = f(e);
  if (hit) return hit;
  switch (e.kind) {
    case 'field': return { ...e, base: mapExpr(e.base, f) };
    case 'index': return { ...e, base: mapExpr(e.base, f), index: mapExpr(e.index, f) };
    case 'unary': return { ...e, arg: mapExpr(e.arg, f) };
    case 'binary': return { ...e, left: mapExpr(e.left, f), right: mapExpr(e.right, f) };
    default: return e;
  }
}

function mapStmts(fn: FunctionIR, f: (x: Expr) => Expr | undefined): void {
  for (const b of fn.blocks) {
    b.stmts = b.stmts.map((s): Stmt => {
      switch (s.kind) {
        case 'assign': return { ...s, target: mapExpr(s.target, f), value: mapExpr(s.value, f) };
        case 'call': return { ...s, args: s.args.map((a) => mapExpr(a, f)), ...(s.result ? { result: mapExpr(s.result, f) } : {}) };
        case 'havoc': return s.target ? { ...s, target: mapExpr(s.target, f) } : s;
        case 'return': return s.value ? { ...s, value: mapExpr(s.value, f) } : s;
        default: return s;
      }
    });
    b.succs = b.succs.map((e) => (e.cond ? { ...e, cond: mapExpr(e.cond, f) } : e));
  }
}

/**
 * The interpreter passes values, not references: `demo_copy_records(..., &sk_offset)` would
 * advance a copy of the offset, and the caller would never see progress (a false live-lock).
 * A scalar local whose address is handed to a same-file helper becomes a global the caller
 * and the helper's `*param` both name — how btrfs' copy_to_sk() rewinds sk_offset (thread "Avoid
 * live-lock in fault-in+uaccess loops with sub-page faults").
 */
/**
 * The interpreter passes values, not references: `demo_copy_records(..., &sk_offset)` would
 * advance a copy of the offset, and the caller would never see progress (a false live-lock).
 * A scalar local whose address is handed to a same-file helper becomes a global the caller
 * and the helper's `*param` both name — how btrfs' copy_to_sk() rewinds sk_offset (thread "Avoid
 * live-lock in fault-in+uaccess loops with sub-page faults").
 * The global keeps the local's name unless another function uses that name for something else.
 */
function byReference(fns: FunctionIR[], entry: FunctionIR): Record<string, Val> {
  const globals: Record<string, Val> = {};
  const byName = new Map(fns.map((f) => [f.name, f] as const));
  const sites: { f: FunctionIR; x: string; h: FunctionIR; i: number }[] = [];
  for (const f of fns) for (const b of f.blocks) for (const s of b.stmts) {
    const h = s.kind === 'call' ? byName.get(s.callee) : undefined;
    if (!h || s.kind !== 'call') continue;
    s.args.forEach((a, i) => {
      if (a.kind !== 'unary' || a.op !== '&' || a.arg.kind !== 'var' || i >= h.params.length) return;
      const x = a.arg.name;
      const type = f.locals[x] ?? f.params.find((p) => p.name === x)?.type;
      if (type === undefined || /struct|union|\[/.test(type)) return;
      sites.push({ f, x, h, i });
    });
  }
  const globalOf = new Map<string, string>(); // `${caller}:${x}` -> global
  for (const { f, x } of sites) {
    const key = `${f.name}:${x}`;
    if (globalOf.has(key)) continue;
    const bound = new Set(sites.filter((t) => t.f === f && t.x === x).map((t) => `${t.h.name}#${t.i}`));
    const clash = f.params.some((p) => p.name === x) || fns.some((g) => g !== f && (x in g.locals
      || g.params.some((p, i) => p.name === x && !bound.has(`${g.name}#${i}`))));
    globalOf.set(key, clash ? `${x}@${f.name}` : x);
  }
  const binding = new Map<string, string | null>(); // `${helper}#${param index}` -> global
  for (const { f, x, h, i } of sites) {
    const g = globalOf.get(`${f.name}:${x}`)!;
    const k = `${h.name}#${i}`;
    const prev = binding.get(k);
    binding.set(k, prev === undefined || prev === g ? g : null);
    globals[g] = 0;
  }
  for (const f of fns) {
    const locals = new Map<string, string>();
    for (const [k, g] of globalOf) if (k.startsWith(`${f.name}:`)) locals.set(k.slice(f.name.length + 1), g);
    const params = new Map<string, string>();
    f.params.forEach((p, i) => {
      const g = binding.get(`${f.name}#${i}`);
      if (g) params.set(p.name, g);
    });
    if (!locals.size && !params.size) continue;
    // The renamed locals' declarations would create a frame-local shadow of the global; a
    // by-reference parameter named like its global is renamed (`sk_offset$ref`) for the same reason.
    for (const b of f.blocks) b.stmts = b.stmts.filter((s) => !(s.kind === 'decl' && locals.has(s.name)));
    const shadow = new Map<string, string>();
    for (const [p, g] of params) if (p === g) shadow.set(p, `${p}$ref`);
    f.params = f.params.map((p) => (shadow.has(p.name) ? { ...p, name: shadow.get(p.name)! } : p));
    mapStmts(f, (e) => {
      if (e.kind === 'unary' && e.op === '*' && e.arg.kind === 'var' && params.has(e.arg.name)) return { kind: 'var', name: params.get(e.arg.name)! };
      if (e.kind === 'var' && shadow.has(e.name)) return { kind: 'var', name: shadow.get(e.name)! };
      if (e.kind === 'var' && locals.has(e.name) && locals.get(e.name) !== e.name) return { kind: 'var', name: locals.get(e.name)! };
      return undefined;
    });
    // A parameter passed on by address starts with the argument's value.
    if (f === entry) for (const p of f.params) {
      const g = locals.get(p.name);
      if (g) f.blocks[f.entry].stmts.unshift({ kind: 'assign', target: { kind: 'var', name: g }, value: { kind: 'var', name: p.name }, range: f.nameRange });
    }
  }
  return globals;
}

export { exprKey };

const PROFILE_FOR_CONSTANTS = PROFILES.x86_64;

/** The integer value of a constant expression (`512`, `-EFAULT`, `PAGE_SIZE`, `sizeof(...)`), if it is one. */
function constOf(e: Expr): number | undefined {
  switch (e.kind) {
    case 'int': return e.value;
    case 'const': return constantValue(e.name, PROFILE_FOR_CONSTANTS);
    case 'unary': {
      const v = constOf(e.arg);
      if (v === undefined) return undefined;
      return e.op === '-' ? -v : e.op === '~' ? ~v : e.op === '!' ? (v ? 0 : 1) : undefined;
    }
    case 'binary': {
      const a = constOf(e.left);
      const b = constOf(e.right);
      if (a === undefined || b === undefined) return undefined;
      switch (e.op) { case '+': return a + b; case '-': return a - b; case '*': return a * b; case '<<': return a * 2 ** b; default: return undefined; }
    }
    case 'unknown': return /^sizeof\b/.test(e.text.trim()) ? sizeofGuess(e.text) : undefined;
    default: return undefined;
  }
}

function sizeofGuess(text: string): number {
  return /\b(char|u8|s8|bool)\b/.test(text) ? 1 : /\b(int|u32|s32|unsigned)\b/.test(text) && !/\b(long|u64)\b/.test(text) ? 4
    : /\b(long|u64|s64|size_t|loff_t)\b/.test(text) ? 8 : 32;
}

const COMPARE = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** Comparisons in `e` with one side mentioning `is(side)`: the other side. */
function comparedWith(e: Expr, is: (x: Expr) => boolean, out: Expr[] = []): Expr[] {
  if (e.kind === 'binary') {
    if (COMPARE.has(e.op)) {
      if (is(e.left)) out.push(e.right);
      else if (is(e.right)) out.push(e.left);
    }
    comparedWith(e.left, is, out);
    comparedWith(e.right, is, out);
  } else if (e.kind === 'unary') comparedWith(e.arg, is, out);
  return out;
}

/** `x`, `*x`, `x + k`: the expression is the variable (up to a deref or an offset). */
function isVarLike(e: Expr, names: Set<string>): boolean {
  if (e.kind === 'var') return names.has(e.name);
  if (e.kind === 'unary' && e.op === '*') return isVarLike(e.arg, names);
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) return isVarLike(e.left, names) && constOf(e.right) !== undefined;
  return false;
}

function unsignedType(type: string | undefined): boolean {
  return !!type && /\b(unsigned|u8|u16|u32|u64|size_t|bool|__u32|__u64)\b/.test(type);
}

/**
 * What an unknown call's result ranges over, from what the code tests: a result only tested for
 * truth is 0 or 1; compared with constants, each side of every constant (an error code for the
 * negative side of 0 when the result is signed); compared with a variable, 0, 1 and 2 (none, one,
 * many); a result deciding nothing the code tests directly (it only feeds the loop), error, 0, 1.
 */
function resultValues(f: FunctionIR, res: Expr, type: string | undefined, len: number): { values: Val[]; why: string } {
  void len;
  const names = new Set<string>(res.kind === 'var' ? [res.name] : []);
  const consts: number[] = [];
  let vsVar = false;
  let tested = false;
  if (names.size) {
    for (const b of f.blocks) for (const e of b.succs) {
      if (!e.cond) continue;
      if (varsOf(e.cond).has(res.kind === 'var' ? res.name : '')) tested = true;
      for (const other of comparedWith(e.cond, (x) => isVarLike(x, names))) {
        const c = constOf(other);
        if (c !== undefined) consts.push(c); else vsVar = true;
      }
    }
  }
  const unsigned = unsignedType(type);
  const errno = -(constantValue('EINVAL', PROFILE_FOR_CONSTANTS) ?? 22);
  const vals: number[] = [];
  const add = (v: number): void => { if (Number.isFinite(v) && !vals.includes(v) && !(unsigned && v < 0)) vals.push(v); };
  let why: string;
  if (consts.length || vsVar) {
    for (const c of consts) { add(c === 0 ? errno : c - 1); add(c); add(c + 1); }
    if (vsVar) { add(0); add(1); add(2); }
    why = [consts.length ? `each side of ${[...new Set(consts)].join(', ')}` : '', vsVar ? 'none, one or many' : ''].filter(Boolean).join('; ');
  } else if (tested) {
    add(0); add(1);
    why = 'zero or not';
  } else {
    add(errno); add(0); add(1);
    why = 'error, 0 or 1';
  }
  return { values: vals.slice(0, MAX_CHOICE_VALUES), why };
}

/**
 * Buffer lengths to try: each side of every constant a length is compared with in the program
 * (`size < 512`, `len > PAGE_SIZE`, `*buf_size < sizeof(...)`), at most MAX_LENGTHS (the larger
 * ones first: they pass the guards), and USER_LEN when nothing is tested.
 */
function guardLengths(fns: FunctionIR[], roles: { user: Set<number>; len: Set<number> }, fields: { len: Set<string> }, entry: FunctionIR): number[] {
  const lenNames = new Set<string>([...roles.len].map((i) => entry.params[i].name));
  const consts = new Set<number>();
  const isLen = (x: Expr): boolean => isVarLike(x, lenNames) || (x.kind === 'field' && fields.len.has(exprText(x)));
  for (const f of fns) {
    // Helpers see the length under their own parameter names only through the entry's; the
    // entry's guards are the ones that decide whether the loop is reached.
    if (f !== entry) continue;
    for (const b of f.blocks) for (const e of b.succs) {
      if (!e.cond) continue;
      for (const other of comparedWith(e.cond, isLen)) {
        const c = constOf(other);
        if (c !== undefined && c > 0 && c <= 0x4000) consts.add(c);
      }
    }
  }
  const out = new Set<number>();
  for (const c of [...consts].sort((a, b) => b - a)) for (const v of [c + 1, c, c - 1]) if (v > 0) out.add(v);
  const list = [...out].slice(0, MAX_LENGTHS - 1);
  if (!list.length || Math.max(...list) < USER_LEN) list.unshift(USER_LEN);
  return [...new Set(list)].slice(0, MAX_LENGTHS);
}
