// Recognition of fault-in / uaccess retry loops (rule uaccess-livelock; threads "Avoid live-lock in
// fault-in+uaccess loops with sub-page faults" and "gfs2: Fix mmap + page fault deadlocks";
// fs/btrfs/ioctl.c search_ioctl()): a loop — while (1), for (;;), do/while or a backward `goto
// again` — that copies to or from user memory with page faults disabled (a nofault/inatomic API, a
// copy inside a pagefault_disable() region, an atomic iov_iter copy, or a same-file helper doing
// one of those) and calls a fault_in_*() function, so a short copy is retried after faulting in.
// Everything here is static and cheap; the simulator (engine/sim/from-c) proves the live-lock.

import type { AssignStmt, CallStmt, Expr, FunctionIR, LoopInfo, SourceRange, Stmt } from '../../ir';
import type { ApiEntry } from '../../kernel/api-schema';
import type { FaultInEffect, UaccessEffect } from '../../kernel/api/mm-schema';
import { lookupApi } from '../../kernel/api-table';
import { exprKey, renderExpr, varsOf } from '../expr';
import { PagefaultAnalysis } from './pagefault';

const MAX_HELPER_DEPTH = 3;

/** How a fault_in_*() result is read by the code (fault-in-result-ignored). */
export type ResultUse =
  /** Not stored, or stored and never read. */
  | 'ignored'
  /** `if (r)`, `if (!r)`, `r != 0`, `r == 0`: all or nothing. */
  | 'truth-test'
  /** `r < 0`, `r == -EFAULT`: read as an errno. */
  | 'errno-test'
  /** Compared with something other than 0 (`r == len`, `r < size`). */
  | 'compared'
  /** Arithmetic on it (`window -= r`, `done = len - r`), returned, passed on. */
  | 'arithmetic';

export interface CopySite {
  /** The call in the loop's function: the uaccess itself or the helper call. */
  call: CallStmt;
  block: number;
  /** The uaccess call (inside the helper when `helper` is set). */
  copyCall: CallStmt;
  copyFn: string;
  api: ApiEntry;
  uaccess: UaccessEffect;
  helper?: string;
  /** Why the copy cannot fault: 'nofault' API (nofault/inatomic/atomic iter) or a disabled region. */
  how: 'nofault-api' | 'pagefault-disabled';
  /** User address and length expressions as written at the uaccess (helper-relative when via a helper). */
  user?: Expr;
  len?: Expr;
  /**
   * What the helper does with the caller's offset it was handed by address (`*off`): moves it
   * back (`*off -= hdr` / `*off = start`: a short copy is retried from a record boundary, btrfs
   * copy_to_sk()) or only forward. Undefined for direct copies.
   */
  onShortCopy?: 'rewinds' | 'keeps-progress';
}

export interface FaultInSite {
  call: CallStmt;
  block: number;
  faultCall: CallStmt;
  faultFn: string;
  api: ApiEntry;
  faultIn: FaultInEffect;
  helper?: string;
  user?: Expr;
  len?: Expr;
  use: ResultUse;
}

export interface FaultInLoop {
  fn: FunctionIR;
  loop: LoopInfo;
  /** First line of the loop (the `while`, `for`, `do` or the `again:` label). */
  head: SourceRange;
  /** "the while loop at line 12", "the goto again loop at line 9". */
  label: string;
  copies: CopySite[];
  faultIns: FaultInSite[];
  /** Lvalue keys the loop changes (assignments, call results, `&x` arguments, advanced iterators). */
  advanced: Set<string>;
  /** Variables of the copy's address/length the loop advances (the progress variable). */
  progress: string[];
}

interface HelperFacts {
  copy?: { call: CallStmt; fn: string; api: ApiEntry; u: UaccessEffect; how: CopySite['how'] } & { anyCopy: boolean };
  anyCopy?: { call: CallStmt; fn: string; api: ApiEntry; u: UaccessEffect };
  faultIn?: { call: CallStmt; fn: string; api: ApiEntry; f: FaultInEffect };
}

export class FaultInLoopFinder {
  readonly pagefault: PagefaultAnalysis;
  private helperMemo = new Map<string, HelperFacts>();
  private helperBusy = new Set<string>();

  constructor(readonly functionsByName: Map<string, FunctionIR>, private readonly cancelled: () => boolean = () => false) {
    this.pagefault = new PagefaultAnalysis(functionsByName, cancelled);
  }

  /** Cheap pre-filter: a function that never reaches a fault_in_* call has no such loop. */
  private mentionsFaultIn(fn: FunctionIR, level = 0): boolean {
    for (const b of fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      if (lookupApi(s.callee)?.faultIn) return true;
      const h = this.functionsByName.get(s.callee);
      if (h && h !== fn && level < MAX_HELPER_DEPTH && !lookupApi(s.callee) && this.helper(h, level + 1).faultIn) return true;
    }
    return false;
  }

  /** What a same-file helper does: a copy with faults disabled, any copy, a fault-in. */
  helper(fn: FunctionIR, level = 0): HelperFacts {
    const hit = this.helperMemo.get(fn.name);
    if (hit) return hit;
    if (this.helperBusy.has(fn.name) || level > MAX_HELPER_DEPTH) return {};
    this.helperBusy.add(fn.name);
    const facts: HelperFacts = {};
    const pf = this.pagefault.facts(fn);
    for (const b of fn.blocks) {
      b.stmts.forEach((s, idx) => {
        if (s.kind !== 'call') return;
        const api = lookupApi(s.callee);
        if (api?.uaccess) {
          const disabled = (pf.beforeCall.get(`${b.id}:${idx}`) ?? []).some((d) => d > 0);
          facts.anyCopy ??= { call: s, fn: fn.name, api, u: api.uaccess };
          if ((api.uaccess.nofault || disabled) && !facts.copy) {
            facts.copy = { call: s, fn: fn.name, api, u: api.uaccess, how: api.uaccess.nofault ? 'nofault-api' : 'pagefault-disabled', anyCopy: true };
          }
        } else if (api?.faultIn) {
          facts.faultIn ??= { call: s, fn: fn.name, api, f: api.faultIn };
        } else if (!api) {
          const h = this.functionsByName.get(s.callee);
          if (h && h !== fn) {
            const inner = this.helper(h, level + 1);
            const disabled = (pf.beforeCall.get(`${b.id}:${idx}`) ?? []).some((d) => d > 0);
            if (inner.copy && !facts.copy) facts.copy = inner.copy;
            else if (inner.anyCopy && disabled && !facts.copy) facts.copy = { ...inner.anyCopy, how: 'pagefault-disabled', anyCopy: true };
            facts.anyCopy ??= inner.anyCopy;
            facts.faultIn ??= inner.faultIn;
          }
        }
      });
    }
    this.helperBusy.delete(fn.name);
    this.helperMemo.set(fn.name, facts);
    return facts;
  }

  /** Every fault-in retry loop of `fn` (innermost loop when nested loops both qualify). */
  loops(fn: FunctionIR): FaultInLoop[] {
    if (!fn.loops.length || !this.mentionsFaultIn(fn)) return [];
    const pf = this.pagefault.facts(fn);
    const found: FaultInLoop[] = [];
    for (const loop of fn.loops) {
      if (this.cancelled()) break;
      const body = new Set(loop.body);
      const copies: CopySite[] = [];
      const faultIns: FaultInSite[] = [];
      for (const id of loop.body) {
        const b = fn.blocks[id];
        if (!b) continue;
        b.stmts.forEach((s, idx) => {
          if (s.kind !== 'call') return;
          const api = lookupApi(s.callee);
          const disabled = (pf.beforeCall.get(`${id}:${idx}`) ?? []).some((d) => d > 0);
          if (api?.uaccess) {
            const u = api.uaccess;
            if (u.nofault || disabled) {
              copies.push({ call: s, block: id, copyCall: s, copyFn: fn.name, api, uaccess: u, how: u.nofault ? 'nofault-api' : 'pagefault-disabled',
                user: s.args[u.userArg], ...(u.lenArg !== undefined ? { len: s.args[u.lenArg] } : {}) });
            }
          } else if (api?.faultIn) {
            const f = api.faultIn;
            faultIns.push({ call: s, block: id, faultCall: s, faultFn: fn.name, api, faultIn: f, user: s.args[f.userArg], len: s.args[f.lenArg], use: resultUse(fn, s) });
          } else if (!api) {
            const h = this.functionsByName.get(s.callee);
            if (!h || h === fn) return;
            const hf = this.helper(h);
            const c = hf.copy ?? (disabled && hf.anyCopy ? { ...hf.anyCopy, how: 'pagefault-disabled' as const } : undefined);
            if (c) {
              const rw = rewinds(h, s);
              copies.push({ call: s, block: id, copyCall: c.call, copyFn: c.fn, api: c.api, uaccess: c.u, helper: h.name, how: c.how,
                user: c.call.args[c.u.userArg], ...(c.u.lenArg !== undefined ? { len: c.call.args[c.u.lenArg] } : {}),
                ...(rw !== undefined ? { onShortCopy: rw ? 'rewinds' as const : 'keeps-progress' as const } : {}) });
            }
            if (hf.faultIn) {
              const f = hf.faultIn.f;
              faultIns.push({ call: s, block: id, faultCall: hf.faultIn.call, faultFn: hf.faultIn.fn, api: hf.faultIn.api, faultIn: f, helper: h.name,
                user: hf.faultIn.call.args[f.userArg], len: hf.faultIn.call.args[f.lenArg], use: resultUse(fn, s) });
            }
          }
        });
      }
      if (!copies.length || !faultIns.length) continue;
      const advanced = advancedIn(fn, body);
      for (const c of copies) if (c.uaccess.iter && !c.helper && c.user) advanced.add(exprKey(c.user));
      const progress = new Set<string>();
      for (const c of copies) {
        // Through a helper, the offsets it is handed by address are the progress (`&sk_offset`);
        // failing those, whatever advanced value it is passed.
        const byRef = c.helper ? c.call.args.filter((a) => a.kind === 'unary' && a.op === '&').map((a) => (a as { arg: Expr }).arg) : [];
        const refKeys = byRef.flatMap(keysOf).filter((v) => advanced.has(v));
        const exprs = c.helper ? (refKeys.length ? byRef : c.call.args) : [c.user, c.len].filter((e): e is Expr => !!e);
        for (const e of exprs) for (const v of keysOf(e)) if (advanced.has(v)) progress.add(v);
      }
      found.push({ fn, loop, head: headRange(loop), label: loopLabel(fn, loop), copies, faultIns, advanced, progress: [...progress].sort() });
    }
    // Nested loops that both qualify: keep the innermost (its body is contained in the outer's).
    return found.filter((l) => !found.some((o) => o !== l && o.loop.body.length < l.loop.body.length && o.loop.body.every((b) => l.loop.body.includes(b))));
  }
}

/**
 * Does the helper move an offset it was handed by address backwards? `*off -= n`, `*off = x`
 * with x not derived from `*off` going up. Undefined when it is handed no offset it writes.
 */
function rewinds(h: FunctionIR, call: CallStmt): boolean | undefined {
  const byRef = new Set<string>();
  call.args.forEach((a, i) => { if (a.kind === 'unary' && a.op === '&' && h.params[i]) byRef.add(h.params[i].name); });
  if (!byRef.size) return undefined;
  let wrote = false;
  for (const b of h.blocks) for (const s of b.stmts) {
    if (s.kind !== 'assign' || s.target.kind !== 'unary' || s.target.op !== '*' || s.target.arg.kind !== 'var' || !byRef.has(s.target.arg.name)) continue;
    wrote = true;
    const v = s.value;
    const self = (e: Expr): boolean => e.kind === 'unary' && e.op === '*' && e.arg.kind === 'var' && e.arg.name === (s.target as { arg: { name: string } }).arg.name;
    if (v.kind === 'binary' && v.op === '-' && self(v.left)) return true;
    if (v.kind === 'var' || (v.kind === 'binary' && v.op === '+' && !self(v.left) && !self(v.right))) return true;
  }
  return wrote ? false : undefined;
}

function headRange(loop: LoopInfo): SourceRange {
  const r = loop.range;
  return { start: r.start, end: r.start, startRow: r.startRow, startCol: r.startCol, endRow: r.startRow, endCol: r.startCol };
}

function loopLabel(fn: FunctionIR, loop: LoopInfo): string {
  const line = loop.range.startRow + 1;
  const label = loop.kind === 'goto' ? fn.blocks[loop.header]?.label : undefined;
  if (loop.kind === 'goto') return `the \`goto ${label ?? 'again'}\` retry loop at line ${line}`;
  if (loop.kind === 'macro') return `the ${loop.macro ?? 'macro'} loop at line ${line}`;
  return `the ${loop.kind === 'do' ? 'do/while' : loop.kind} loop at line ${line}`;
}

/** `x`, `p->off`, `*off` and their roots: what an assignment or `&x` argument can change. */
export function keysOf(e: Expr): string[] {
  const out = new Set<string>(varsOf(e));
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case 'field': out.add(exprKey(x)); walk(x.base); break;
      case 'index': walk(x.base); walk(x.index); break;
      case 'unary': if (x.op === '*') out.add(exprKey(x.arg)); walk(x.arg); break;
      case 'binary': walk(x.left); walk(x.right); break;
      default: break;
    }
  };
  walk(e);
  return [...out];
}

function lvalueKeys(e: Expr): string[] {
  if (e.kind === 'unary' && (e.op === '*' || e.op === '&')) return lvalueKeys(e.arg);
  if (e.kind === 'var') return [e.name];
  // Writing `req->done` or `buf[i]` changes that lvalue, not the pointer it hangs off.
  if (e.kind === 'field' || e.kind === 'index') return [exprKey(e)];
  return [];
}

/** Lvalues the loop body changes: assignment targets, call results, `&x` / pointer arguments to calls. */
function advancedIn(fn: FunctionIR, body: Set<number>): Set<string> {
  const out = new Set<string>();
  for (const id of body) {
    for (const s of fn.blocks[id]?.stmts ?? []) {
      if (s.kind === 'assign') for (const k of lvalueKeys(s.target)) out.add(k);
      else if (s.kind === 'havoc' && s.target) for (const k of lvalueKeys(s.target)) out.add(k);
      else if (s.kind === 'call') {
        if (s.result) for (const k of lvalueKeys(s.result)) out.add(k);
        // A helper handed `&sk_offset` (or a pointer it was given) can advance it.
        for (const a of s.args) if (a.kind === 'unary' && a.op === '&') for (const k of lvalueKeys(a.arg)) out.add(k);
      }
    }
  }
  for (const k of [...out]) if (k.startsWith('$')) out.delete(k);
  return out;
}

function isZero(e: Expr): boolean {
  return e.kind === 'int' && e.value === 0;
}

function isNegConst(e: Expr): boolean {
  return (e.kind === 'unary' && e.op === '-') || (e.kind === 'int' && e.value < 0);
}

/**
 * Where each name is read in a function, built once per function: resultUse() then looks only at
 * the statements and branch conditions that mention the result's names, instead of scanning the
 * whole function for every fault-in call (200 retry labels, each with a fault-in, made that
 * quadratic: robustness issue, item 4).
 */
interface UseIndex {
  /** `x = v` copies by the name of v, with their position in block order. */
  copies: Map<string, { s: AssignStmt; at: number }[]>;
  /** Statements and branch conditions whose expressions mention a key (keysOf or exprKey). */
  byKey: Map<string, ({ s: Stmt } | { cond: Expr })[]>;
}

const useIndexes = new WeakMap<FunctionIR, UseIndex>();

function useIndex(fn: FunctionIR): UseIndex {
  let idx = useIndexes.get(fn);
  if (idx) return idx;
  const copies = new Map<string, { s: AssignStmt; at: number }[]>();
  const byKey = new Map<string, ({ s: Stmt } | { cond: Expr })[]>();
  const add = (item: { s: Stmt } | { cond: Expr }, exprs: Expr[]) => {
    const keys = new Set<string>();
    for (const e of exprs) {
      keys.add(exprKey(e));
      for (const k of keysOf(e)) keys.add(k);
    }
    for (const k of keys) {
      const l = byKey.get(k);
      if (l) l.push(item);
      else byKey.set(k, [item]);
    }
  };
  let at = 0;
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      at++;
      if (s.kind === 'assign') {
        if (s.value.kind === 'var') {
          const l = copies.get(s.value.name);
          if (l) l.push({ s, at });
          else copies.set(s.value.name, [{ s, at }]);
        }
        add({ s }, [s.value]);
      } else if (s.kind === 'call') add({ s }, s.args);
      else if (s.kind === 'return' && s.value) add({ s }, [s.value]);
    }
    for (const e of b.succs) if (e.cond) add({ cond: e.cond }, [e.cond]);
  }
  idx = { copies, byKey };
  useIndexes.set(fn, idx);
  return idx;
}

/** Classify how the function reads the result of a fault-in call (following one copy `x = r`). */
export function resultUse(fn: FunctionIR, call: CallStmt): ResultUse {
  if (!call.result) return 'ignored';
  const index = useIndex(fn);
  const names = new Set<string>([exprKey(call.result)]);
  // One level of aliasing: `ret = $t1;` / `left = nr;`. A copy counts when the name it reads was
  // known at that point of the function (block order), as a scan in that order would find it.
  const known = new Map<string, number>([[exprKey(call.result), -1]]);
  const work = [exprKey(call.result)];
  const candidates: { s: AssignStmt; at: number }[] = [];
  const queued = new Set<AssignStmt>();
  while (work.length) {
    for (const c of index.copies.get(work.pop()!) ?? []) {
      if (queued.has(c.s)) continue;
      queued.add(c.s);
      candidates.push(c);
      for (const k of lvalueKeys(c.s.target)) if (!known.has(k)) { known.set(k, Infinity); work.push(k); }
    }
  }
  candidates.sort((x, y) => x.at - y.at);
  for (const c of candidates) {
    if (c.s.value.kind !== 'var' || !names.has(c.s.value.name)) continue;
    for (const k of lvalueKeys(c.s.target)) names.add(k);
  }
  const uses: ResultUse[] = [];
  const mentions = (e: Expr): boolean => keysOf(e).some((k) => names.has(k)) || names.has(exprKey(e));
  const isR = (e: Expr): boolean => names.has(exprKey(e));
  const classifyCond = (c: Expr): void => {
    if (!mentions(c)) return;
    if (isR(c)) return void uses.push('truth-test');
    if (c.kind === 'unary' && c.op === '!' && isR(c.arg)) return void uses.push('truth-test');
    if (c.kind === 'binary' && ['==', '!=', '<', '<=', '>', '>='].includes(c.op)) {
      const [r, other] = isR(c.left) ? [c.left, c.right] : isR(c.right) ? [c.right, c.left] : [undefined, undefined];
      if (r && other) {
        if (isZero(other) && (c.op === '==' || c.op === '!=')) return void uses.push('truth-test');
        if (isZero(other) && (c.op === '<' || c.op === '>=')) return void uses.push('errno-test');
        if (isNegConst(other)) return void uses.push('errno-test');
        if (isZero(other)) return void uses.push('truth-test');
        return void uses.push('compared');
      }
    }
    uses.push('arithmetic');
  };
  const seen = new Set<object>();
  for (const name of names) {
    for (const item of index.byKey.get(name) ?? []) {
      if (seen.has(item)) continue;
      seen.add(item);
      if ('cond' in item) {
        classifyCond(item.cond);
        continue;
      }
      const s = item.s;
      if (s === call) continue;
      if (s.kind === 'assign') {
        if (s.value.kind === 'var' && names.has(s.value.name)) continue;
        if (mentions(s.value)) {
          // `ret = (r != 0)`-style values are conditions written as values.
          if (s.value.kind === 'binary' && ['==', '!=', '<', '<=', '>', '>='].includes(s.value.op)) classifyCond(s.value);
          else uses.push('arithmetic');
        }
      } else if (s.kind === 'call') {
        if (s.args.some(mentions)) uses.push('arithmetic');
      } else if (s.kind === 'return' && s.value && mentions(s.value)) uses.push('arithmetic');
    }
  }
  if (!uses.length) return 'ignored';
  for (const u of ['arithmetic', 'compared', 'errno-test', 'truth-test'] as const) if (uses.includes(u)) return u;
  return 'arithmetic';
}

/** An argument as the user wrote it (source text, spaces collapsed), else rendered from the IR. */
export function argSource(call: CallStmt, index: number, text?: string): string {
  const r = call.argRanges[index];
  if (text && r && r.end > r.start && r.end <= text.length) return text.slice(r.start, r.end).replace(/\s+/g, ' ').trim();
  return showExpr(call.args[index]);
}

/** `ubuf + sk_offset` for messages. */
export function showExpr(e: Expr | undefined): string {
  return e ? renderExpr(e) : '?';
}
