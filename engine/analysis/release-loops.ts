// Release loops: `for (i = 0; i < ret; i++) put_page(pages[i]);`, `while (i--) put_page(pages[i]);`,
// `for (i = ret - 1; i >= 0; i--) ...`, with or without a NULL-slot check. The loop as a whole
// releases "bound" entries of the array; the GUP analysis applies that effect once, where the loop
// is entered, instead of once per iteration (thread "Keep track of GUPed pages in fs and block":
// "for(numpages) put_page()").

import type { AssignStmt, CallStmt, Expr, FunctionIR, LoopInfo } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { gupPageAliases, gupPageCarriers } from '../kernel/api/gup';
import { exprKey, isIntValue, renderExpr } from './expr';

export interface ReleaseLoop {
  loop: LoopInfo;
  /** The per-page release inside the loop (put_page / unpin_user_page ...). */
  call: CallStmt;
  api: string;
  /** The array whose entries are released (`pages`, `obj->pages`). */
  array: Expr;
  /** The loop counter used as the index. */
  index: string;
  direction: 'up' | 'down' | 'unknown';
  /**
   * The release is guarded by a NULL test of the slot (`if (pages[i]) put_page(pages[i])`):
   * the loop relies on a zeroed array, so walking past the taken count is harmless.
   */
  nullChecked: boolean;
}

export interface LoopBound {
  key: string;
  text: string;
}

export function pageIndexOf(e: Expr): { array: Expr; index: string } | undefined {
  if (e.kind === 'index') {
    const ix = e.index;
    if (ix.kind === 'var') return { array: e.base, index: ix.name };
    // pages[i - 1] in a count-down loop
    if (ix.kind === 'binary' && (ix.op === '-' || ix.op === '+') && ix.left.kind === 'var' && ix.right.kind === 'int') {
      return { array: e.base, index: ix.left.name };
    }
  }
  if (e.kind === 'unary' && e.op === '*' && e.arg.kind === 'binary' && e.arg.op === '+' && e.arg.right.kind === 'var') {
    return { array: e.arg.left, index: e.arg.right.name };
  }
  return undefined;
}

/** `p`, `p != NULL`, `p != 0`, `!!p` for the slot key. */
function testsSlot(c: Expr, key: string): boolean {
  if (exprKey(c) === key) return true;
  if (c.kind === 'unary' && c.op === '!' && c.arg.kind === 'unary' && c.arg.op === '!') return testsSlot(c.arg.arg, key);
  if (c.kind === 'binary' && c.op === '!=' && exprKey(c.left) === key && isIntValue(c.right, 0)) return true;
  if (c.kind === 'binary' && c.op === '&&') return testsSlot(c.left, key) || testsSlot(c.right, key);
  return false;
}

/** Locals a loop loads entries into: `p = pages[i]`, `folio = page_folio(pages[i])`. */
function pageVarsIn(fn: FunctionIR, loop: LoopInfo): Map<string, { array: Expr; index: string }> {
  const pageVars = new Map<string, { array: Expr; index: string }>();
  for (const b of loop.body) {
    for (const s of fn.blocks[b]?.stmts ?? []) {
      if (s.kind === 'assign' && s.target.kind === 'var') {
        const pi = pageIndexOf(s.value) ?? (s.value.kind === 'var' ? pageVars.get(s.value.name) : undefined);
        if (pi) pageVars.set(s.target.name, pi);
      } else if (s.kind === 'call' && s.result?.kind === 'var' && gupPageAliases[s.callee] !== undefined) {
        const arg = s.args[gupPageAliases[s.callee]];
        const pi = arg ? pageIndexOf(arg) ?? (arg.kind === 'var' ? pageVars.get(arg.name) : undefined) : undefined;
        if (pi) pageVars.set(s.result.name, pi);
      }
    }
  }
  return pageVars;
}

function assignsIn(fn: FunctionIR, blocks: number[]): AssignStmt[] {
  const out: AssignStmt[] = [];
  for (const b of blocks) for (const s of fn.blocks[b]?.stmts ?? []) if (s.kind === 'assign') out.push(s);
  return out;
}

function stepDirection(fn: FunctionIR, loop: LoopInfo, v: string): 'up' | 'down' | 'unknown' {
  const steps: Expr[] = [];
  if (loop.induction && loop.induction.variable === v) steps.push(loop.induction.step);
  for (const a of assignsIn(fn, loop.body)) if (a.target.kind === 'var' && a.target.name === v) steps.push(a.value);
  for (const s of steps) {
    if (s.kind === 'binary' && s.left.kind === 'var' && s.left.name === v && s.right.kind === 'int') {
      if (s.op === '+') return s.right.value > 0 ? 'up' : 'down';
      if (s.op === '-') return s.right.value > 0 ? 'down' : 'up';
    }
    // A step recorded as the assignment itself: `i = i + 1`.
    if (s.kind === 'unknown' && /\+\+|\+=/.test(s.text)) return 'up';
    if (s.kind === 'unknown' && /--|-=/.test(s.text)) return 'down';
  }
  return 'unknown';
}

/** All release loops of a function, found once per function. */
export function findReleaseLoops(fn: FunctionIR): ReleaseLoop[] {
  const out: ReleaseLoop[] = [];
  // Innermost loops first so a release is attributed to the loop that walks its index.
  const loops = [...fn.loops].sort((a, b) => a.body.length - b.body.length);
  const taken = new Set<CallStmt>();
  for (const loop of loops) {
    const pageVars = pageVarsIn(fn, loop);
    // A loop that also hands entries on (bio_add_page(bio, pages[i]...), a call we cannot see)
    // walks the array giving each entry to one owner or another: its releases are per entry,
    // not "release them all" (a transfer loop, findTransferLoops()).
    if (handsEntriesOn(fn, loop, pageVars)) continue;
    for (const b of loop.body) {
      for (const s of fn.blocks[b]?.stmts ?? []) {
        if (s.kind !== 'call' || taken.has(s)) continue;
        const r = lookupApi(s.callee)?.refs;
        if (!r || r.op !== 'release' || !r.single) continue;
        const arg = s.args[r.pagesArg];
        if (!arg) continue;
        const pi = pageIndexOf(arg) ?? (arg.kind === 'var' ? pageVars.get(arg.name) : undefined);
        if (!pi) continue;
        const counter = loop.induction?.variable;
        if (counter !== undefined && counter !== pi.index) continue;
        taken.add(s);
        // Two releases of the entry on exclusive branches of one iteration (`if (busy) { put;
        // continue; } if (!claim) put;`) are alternatives: the loop releases each entry once.
        // A release reachable from another within the iteration still counts twice.
        const argKeyOf = (x: ReleaseLoop): string => `${exprKey(x.array)}[${x.index}]`;
        if (out.some((o) => o.loop === loop && argKeyOf(o) === `${exprKey(pi.array)}[${pi.index}]` && o.api === s.callee
          && exclusiveInIteration(fn, loop, blockOf(fn, loop, o.call), b))) continue;
        const argKey = exprKey(arg);
        const nullChecked = loop.body.some((lb) => (fn.blocks[lb]?.succs ?? []).some((e) => e.cond !== undefined && e.to === b && testsSlot(e.cond, argKey)));
        out.push({ loop, call: s, api: s.callee, array: pi.array, index: pi.index, direction: stepDirection(fn, loop, pi.index), nullChecked });
      }
    }
  }
  return out;
}

function blockOf(fn: FunctionIR, loop: LoopInfo, c: CallStmt): number | undefined {
  return loop.body.find((b) => (fn.blocks[b]?.stmts ?? []).includes(c));
}

/** Neither block reaches the other inside one iteration (paths stop at the loop header). */
function exclusiveInIteration(fn: FunctionIR, loop: LoopInfo, a: number | undefined, b: number): boolean {
  if (a === undefined || a === b) return false;
  const body = new Set(loop.body);
  const reaches = (from: number, to: number): boolean => {
    const seen = new Set<number>([from]);
    const work = [from];
    while (work.length) {
      const x = work.pop()!;
      for (const e of fn.blocks[x]?.succs ?? []) {
        if (e.to === to) return true;
        if (e.to === loop.header || !body.has(e.to) || seen.has(e.to)) continue;
        seen.add(e.to);
        work.push(e.to);
      }
    }
    return false;
  };
  return !reaches(a, b) && !reaches(b, a);
}

function loopConds(fn: FunctionIR, loop: LoopInfo): Expr[] {
  if (loop.induction) return [loop.induction.cond];
  const body = new Set(loop.body);
  const out: Expr[] = [];
  for (const e of fn.blocks[loop.header]?.succs ?? []) if (e.cond && body.has(e.to)) out.push(e.cond);
  return out;
}

function conjuncts(e: Expr, out: Expr[] = []): Expr[] {
  if (e.kind === 'binary' && e.op === '&&') {
    conjuncts(e.left, out);
    conjuncts(e.right, out);
  } else out.push(e);
  return out;
}

/**
 * How many entries the loop releases, as the key of an expression: the upper bound of a
 * count-up loop from 0, or the start value of a count-down loop. `valueOf` gives what the
 * path state knows about a variable at loop entry (copy propagation). Undefined = unknown.
 */
/** The loop's conditions split at `&&`, per loop (they depend on the CFG only). */
const condsOfLoop = new WeakMap<LoopInfo, Expr[]>();

export function releaseLoopBound(fn: FunctionIR, rl: ReleaseLoop, valueOf: (v: string) => string | undefined): LoopBound | undefined {
  const v = rl.index;
  // Asked once per path state entering the loop; the conditions do not depend on the state.
  let conds = condsOfLoop.get(rl.loop);
  if (!conds) condsOfLoop.set(rl.loop, (conds = loopConds(fn, rl.loop).flatMap((c) => conjuncts(c))));
  const init = rl.loop.induction && rl.loop.induction.variable === v ? rl.loop.induction.init : undefined;
  const initKey = init ? exprKey(init) : valueOf(v);
  if (rl.direction !== 'down') {
    for (const c of conds) {
      if (c.kind !== 'binary') continue;
      let bound: Expr | undefined;
      if ((c.op === '<' || c.op === '!=') && c.left.kind === 'var' && c.left.name === v) bound = c.right;
      else if (c.op === '>' && c.right.kind === 'var' && c.right.name === v) bound = c.left;
      if (bound && initKey === '0') return { key: exprKey(bound), text: renderExpr(bound) };
    }
  }
  if (rl.direction !== 'up') {
    // for (i = n - 1; i >= 0; i--): n entries.
    if (init && init.kind === 'binary' && init.op === '-' && isIntValue(init.right, 1)) {
      return { key: exprKey(init.left), text: renderExpr(init.left) };
    }
    // while (i--) / while (--i >= 0) / for (; i > 0; i--) with pages[i - 1]: as many as i was.
    if (rl.direction === 'down') {
      const k = initKey ?? v;
      return { key: k, text: k };
    }
  }
  return undefined;
}

/**
 * Loops that pass the entries of an array on to an owner (`bio_add_page(bio, pages[i], ...)`,
 * `sg_set_page(sg, pages[i], ...)`, `priv->pages[i] = pages[i]`) or to code we cannot see. The
 * analysis applies the transfer when the loop is entered, so the path that runs zero iterations
 * (the count is 0, so nothing was taken) is not mistaken for a leak.
 */
export interface TransferLoop {
  loop: LoopInfo;
  array: Expr;
  effect: 'handed' | 'escaped';
}

export function findTransferLoops(
  fn: FunctionIR, isSameFile: (name: string) => boolean,
  /** A same-file helper that stores, hands on or releases what it gets in argument `i`. */
  helperTakes: (name: string, i: number) => boolean = () => false,
): TransferLoop[] {
  const out: TransferLoop[] = [];
  for (const loop of fn.loops) {
    const pageVars = pageVarsIn(fn, loop);
    const elem = (e: Expr | undefined): Expr | undefined => {
      if (!e) return undefined;
      const pi = pageIndexOf(e) ?? (e.kind === 'var' ? pageVars.get(e.name) : undefined);
      return pi?.array;
    };
    for (const b of loop.body) {
      for (const s of fn.blocks[b]?.stmts ?? []) {
        if (s.kind === 'assign') {
          const arr = elem(s.value);
          if (arr && s.target.kind !== 'var') out.push({ loop, array: arr, effect: 'handed' });
        } else if (s.kind === 'call') {
          const api = lookupApi(s.callee);
          const r = api?.refs;
          if (r && r.op === 'handoff') {
            const arr = elem(s.args[r.pagesArg]);
            if (arr) out.push({ loop, array: arr, effect: 'handed' });
          } else if (api && gupPageCarriers[s.callee] !== undefined && s.result && handleOutlivesLoop(fn, loop, s.result)) {
            // Each entry turned into a handle (its PFN, its address) that outlives the
            // iteration: the references are carried by those handles from now on.
            const arr = elem(s.args[gupPageCarriers[s.callee]]);
            if (arr) out.push({ loop, array: arr, effect: 'handed' });
          } else if (!api && !isSameFile(s.callee)) {
            for (const x of s.args) {
              const arr = elem(x);
              if (arr) out.push({ loop, array: arr, effect: 'escaped' });
            }
          } else if (!api) {
            s.args.forEach((x, i) => {
              const arr = elem(x);
              if (arr && helperTakes(s.callee, i)) out.push({ loop, array: arr, effect: 'handed' });
            });
          }
        }
      }
    }
  }
  return out;
}

/**
 * The handle a loop computed is kept: stored into non-local memory inside the loop, or read
 * (itself or a local it was copied to) outside the loop.
 */
function handleOutlivesLoop(fn: FunctionIR, loop: LoopInfo, result: Expr): boolean {
  if (result.kind !== 'var') return true;
  const body = new Set(loop.body);
  const names = new Set([result.name]);
  const mentions = (e: Expr): boolean => {
    switch (e.kind) {
      case 'var': return names.has(e.name);
      case 'field': return mentions(e.base);
      case 'index': return mentions(e.base) || mentions(e.index);
      case 'unary': return mentions(e.arg);
      case 'binary': return mentions(e.left) || mentions(e.right);
      default: return false;
    }
  };
  for (let round = 0; round < 4; round++) {
    for (const b of loop.body) for (const s of fn.blocks[b]?.stmts ?? []) {
      if (s.kind !== 'assign' || !mentions(s.value)) continue;
      if (s.target.kind !== 'var') return true;
      names.add(s.target.name);
    }
  }
  for (const b of fn.blocks) {
    if (body.has(b.id)) continue;
    for (const s of b.stmts) {
      if (s.kind === 'assign' && mentions(s.value)) return true;
      if (s.kind === 'call' && s.args.some(mentions)) return true;
      if (s.kind === 'return' && s.value && mentions(s.value)) return true;
    }
  }
  return false;
}

function handsEntriesOn(fn: FunctionIR, loop: LoopInfo, pageVars: Map<string, { array: Expr; index: string }>): boolean {
  const isEntry = (e: Expr | undefined): boolean => !!e && (pageIndexOf(e) !== undefined || (e.kind === 'var' && pageVars.has(e.name)));
  for (const b of loop.body) for (const s of fn.blocks[b]?.stmts ?? []) {
    if (s.kind !== 'call') continue;
    const r = lookupApi(s.callee)?.refs;
    if (r && r.op === 'handoff' && isEntry(s.args[r.pagesArg])) return true;
  }
  return false;
}
