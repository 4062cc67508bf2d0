// Building a simulation from a lowered C function (issue 4): the program (the function and the
// same-file helpers it reaches), the arguments (the user buffer from the pointer and length
// expressions the copies and fault-ins use), the adversary's memory layouts, and the results of
// calls nobody knows (not in the API table, not in the file) as nondeterministic choices in a
// small return range. The interpreter and explorer of engine/sim run it unchanged.

import type { CallStmt, Expr, FunctionIR, Stmt } from '../../ir';
import type { Layout, Val } from '../../kernel/state';
import { lookupApi } from '../../kernel/api-table';
import { isIntrinsic } from '../intrinsics';
import { exprKey, rootVar, varsOf } from '../../analysis/expr';
import { exprText } from '../builder';

/** Base of the user buffer's VMA: two anonymous pages. */
export const USER_VMA = 0x7f0000010000;
/** Length handed to the function's length parameters (bytes). */
export const USER_LEN = 0x100;
/** Functions pulled into one program (the function plus helpers it reaches). */
const MAX_FUNCTIONS = 32;
/** Unknown call sites whose result the adversary varies (the rest return 0, like the interpreter's havoc). */
export const MAX_VARIED_SITES = 3;

export interface UserLayout {
  label: string;
  /** Where the user buffer starts. */
  start: number;
  layout: Layout;
}

/**
 * The adversary's user buffers (SEMANTICS B.1-B.3, G): a buffer crossing a page boundary with
 * everything present; the same with an MTE tag mismatch a few granules into the first page (the
 * search_ioctl live-lock: fault-in probes one byte per page, the copy faults inside a present
 * page); the second page not present (fault-in must fail or make progress); and a buffer 8 bytes
 * short of an unmapped page (a copy with a fault window may stop short of the fault).
 */
export function userLayouts(): UserLayout[] {
  const cross = USER_VMA + 0x1000 - 0x80;
  const edge = USER_VMA + 0x1000 - 8;
  const vma = (present?: number[]) => ({ start: USER_VMA, pages: 2, kind: 'anon' as const, ...(present ? { present } : {}) });
  return [
    { label: 'buffer crossing a page boundary, all present', start: cross, layout: { vmas: [vma()] } },
    { label: 'MTE tag mismatch at granule +0x30 of the buffer', start: cross, layout: { vmas: [vma()], badGranules: [cross + 0x30] } },
    { label: 'MTE tag mismatch at granule +0x50 of the buffer', start: cross, layout: { vmas: [vma()], badGranules: [cross + 0x50] } },
    { label: 'second page of the buffer not present (unmapped)', start: cross, layout: { vmas: [{ ...vma(), pages: 1 }] } },
    { label: 'buffer starting 8 bytes before an unmapped page', start: edge, layout: { vmas: [{ ...vma(), pages: 1 }] } },
  ];
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
  /** Unknown sites the adversary varies (at most MAX_VARIED_SITES). */
  varied: UnknownSite[];
  /** Entry arguments per parameter role. */
  args(start: number): Val[];
  /** Struct fields of the parameters that hold the buffer or its length (`req->ubuf`), as globals. */
  fieldGlobals(start: number): Record<string, Val>;
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
  const params = new Set(fn.params.map((p) => p.name));
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

function condVars(fns: FunctionIR[]): Set<string> {
  const out = new Set<string>();
  for (const f of fns) for (const b of f.blocks) for (const e of b.succs) if (e.cond) for (const v of varsOf(e.cond)) out.add(`${f.name}:${v}`);
  return out;
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
  const copies = fns.map((f) => {
    const c = clone(f);
    for (const b of c.blocks) {
      b.stmts = b.stmts.map((s): Stmt => {
        if (s.kind !== 'call' || inProgram.has(s.callee) || lookupApi(s.callee) || isIntrinsic(s.callee) || !s.result) return s;
        const n = (count.get(s.callee) ?? 0) + 1;
        count.set(s.callee, n);
        const key = n === 1 ? `${s.callee}()` : `${s.callee}()#${n}`;
        const res = s.result;
        const decides = res.kind === 'var' && cv.has(`${f.name}:${res.name}`);
        const inLoop = f === fn && (loopBlocks?.has(b.id) ?? false);
        unknowns.push({ key, callee: s.callee, fn: f.name, call: s, decides: decides || inLoop });
        return { kind: 'assign', target: res, value: { kind: 'var', name: key }, range: s.range };
      });
    }
    return c;
  });
  const globals = byReference(copies, fn);
  // Vary the sites that decide branches, helpers and the loop first, in source order.
  const varied = unknowns.filter((u) => u.decides).slice(0, MAX_VARIED_SITES);
  const roles = paramRoles(fns, byName).get(fn.name)!;
  const args = (start: number): Val[] => fn.params.map((p, i) => {
    if (roles.user.has(i)) return start;
    if (roles.len.has(i)) return USER_LEN;
    // Other pointers: distinct non-NULL kernel objects; other integers: 0 (like a havoc).
    return p.type.includes('*') ? 0x100000 + 0x1000 * i : 0;
  });
  const fields = fieldRoles(fn);
  const fieldGlobals = (start: number): Record<string, Val> => ({
    ...Object.fromEntries([...fields.len].map((k) => [k, USER_LEN])),
    ...Object.fromEntries([...fields.user].map((k) => [k, start])),
  });
  return {
    functions: copies, globals, unknowns, varied, args, fieldGlobals,
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
 * and the helper's `*param` both name — how btrfs' copy_to_sk() rewinds sk_offset (seed 000).
 */
/**
 * The interpreter passes values, not references: `demo_copy_records(..., &sk_offset)` would
 * advance a copy of the offset, and the caller would never see progress (a false live-lock).
 * A scalar local whose address is handed to a same-file helper becomes a global the caller
 * and the helper's `*param` both name — how btrfs' copy_to_sk() rewinds sk_offset (seed 000).
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

/** Every assignment of the varied sites' results (0 or 1 each; the rest stay 0). */
export function unknownCombos(b: BuiltProgram): { label: string; globals: Record<string, Val> }[] {
  const base: Record<string, Val> = { ...b.globals, ...Object.fromEntries(b.unknowns.map((u) => [u.key, 0])) };
  let out: { label: string; globals: Record<string, Val> }[] = [{ label: '', globals: base }];
  for (const u of b.varied) {
    out = out.flatMap((c) => [0, 1].map((v) => ({
      label: [c.label, `${u.key} returns ${v}`].filter(Boolean).join(', '),
      globals: { ...c.globals, [u.key]: v },
    })));
  }
  return out;
}

export { exprKey };
