// Page references already dropped (thread "vhost: access vq metadata through kernel virtual
// address", 2019: "it is ok to call set_page_dirty from the mmu notifier (but not after)"; the
// v5.3-rc1 code took the pages with GUP, dropped them at once with release_pages() and dirtied them
// later from the invalidate callback). Once a release of the API table (`refs.op == 'release'`:
// put_page, release_pages, unpin_user_page(s)...) has run on a page or array, nothing holds the
// page: it may be freed and reused, and dirtying it (locked or not) touches a page nobody owns.
//
// A forward may-analysis over one function: which page expressions (a page `pg`, an element
// `pages[i]`, an array `pages` / `obj->pages`) were released on some path to each statement, and
// by which call. A new acquisition into the same place, or any assignment to the expression or to
// a variable it reads (the loop counter of `pages[i]`, the cursor of a list walk), forgets it.
// Stores of a released array or page into a struct field are recorded too, so a file-wide fact can
// tell that what a field holds was released before it was stored.

import type { CallStmt, Expr, FunctionIR, Stmt } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { exprKey, varsOf } from './expr';
import { strip } from './gup-pages';

export interface DroppedFacts {
  /** Per dirtying-relevant statement: released page keys reaching it (key -> the release). */
  before: Map<Stmt, Map<string, CallStmt>>;
  /** `obj->field = <released pages>`: the field name, the store and the release before it. */
  stores: { field: string; store: Stmt; release: CallStmt }[];
}

type State = Map<string, { expr: Expr; release: CallStmt }>;

/** Forget every released key that `target` (an lvalue being written) is, contains, or reads. */
function kill(state: State, target: Expr): void {
  const t = strip(target);
  const key = exprKey(t);
  const name = t.kind === 'var' ? t.name : undefined;
  for (const [k, v] of state) {
    if (k === key || k.startsWith(`${key}[`) || k.startsWith(`${key}->`) || k.startsWith(`${key}.`) || (name !== undefined && varsOf(v.expr).has(name))) state.delete(k);
  }
}

/** The release recorded for page expression `e`: itself, or the array it is an element of. */
export function releasedAt(state: ReadonlyMap<string, CallStmt>, e: Expr): CallStmt | undefined {
  return releaseOf((k) => state.get(k), e);
}

function releaseOf(get: (key: string) => CallStmt | undefined, e: Expr): CallStmt | undefined {
  const s = strip(e);
  const own = get(exprKey(s));
  if (own) return own;
  if (s.kind === 'index') return get(exprKey(strip(s.base)));
  if (s.kind === 'unary' && s.op === '*') return get(exprKey(strip(s.arg)));
  return undefined;
}

function transfer(state: State, s: Stmt, stores: DroppedFacts['stores'] | undefined): void {
  if (s.kind === 'call') {
    const r = lookupApi(s.callee)?.refs;
    if (r?.op === 'acquire') {
      const arity = r.byArity?.[s.args.length];
      // Into `pages`, `pages + done` or `&pages[done]`: the array holds new pages (some of them).
      let a = s.args[arity?.pagesArg ?? r.pagesArg];
      while (a && ((a.kind === 'binary' && (a.op === '+' || a.op === '-')) || (a.kind === 'unary' && a.op === '&') || (a.kind === 'index' && !r.single))) a = a.kind === 'binary' ? a.left : a.kind === 'unary' ? a.arg : a.base;
      if (a) kill(state, a);
    } else if (!lookupApi(s.callee)) {
      // A call out of sight given `&x` may store a new page there.
      for (const a of s.args) if (a.kind === 'unary' && a.op === '&') kill(state, a.arg);
    }
    if (s.result) kill(state, s.result);
    if (r?.op === 'release' && !r.container) {
      const a = s.args[r.pagesArg];
      if (a) {
        const e = strip(a);
        const k = exprKey(e);
        if (!state.has(k)) state.set(k, { expr: e, release: s });
      }
    }
    return;
  }
  if (s.kind === 'assign') {
    const v = strip(s.value);
    const rel = releaseOf((k) => state.get(k)?.release, v);
    kill(state, s.target);
    if (rel && s.op === undefined) {
      // A copy of a released array or page (`m->pages = pg`, `p = pages[i]`) is released too.
      state.set(exprKey(s.target), { expr: s.target, release: rel });
      if (stores && s.target.kind === 'field') stores.push({ field: s.target.name, store: s, release: rel });
    }
    return;
  }
  if (s.kind === 'havoc' && s.target) kill(state, s.target);
  if (s.kind === 'decl') kill(state, { kind: 'var', name: s.name });
}

const memo = new WeakMap<object, DroppedFacts>();

/**
 * Released page expressions before each statement of `fn` that is a call or an assignment (a
 * may-analysis: released on some path). Memoised per lowered body.
 */
export function droppedFacts(fn: FunctionIR): DroppedFacts {
  const hit = memo.get(fn.blocks);
  if (hit) return hit;
  const out: DroppedFacts = { before: new Map(), stores: [] };
  const hasRelease = fn.blocks.some((b) => b.stmts.some((s) => s.kind === 'call' && lookupApi(s.callee)?.refs?.op === 'release'));
  if (!hasRelease) { memo.set(fn.blocks, out); return out; }
  const byId = new Map(fn.blocks.map((b) => [b.id, b] as const));
  const entryState = new Map<number, State>();
  entryState.set(fn.entry, new Map());
  const work = [fn.entry];
  // A block is revisited only when its entry state gained a key, and keys are statements' operands:
  // the loop ends after at most (blocks x statements) visits; the bound below is that, never hit.
  let visits = fn.blocks.length * (fn.blocks.reduce((n, b) => n + b.stmts.length, 0) + 2);
  while (work.length && visits-- > 0) {
    const id = work.shift()!;
    const b = byId.get(id);
    if (!b) continue;
    const st: State = new Map(entryState.get(id));
    for (const s of b.stmts) transfer(st, s, undefined);
    for (const e of b.succs) {
      const prev = entryState.get(e.to);
      let changed = !prev;
      const next: State = new Map(prev);
      for (const [k, v] of st) if (!next.has(k)) { next.set(k, v); changed = true; }
      if (changed) { entryState.set(e.to, next); if (!work.includes(e.to)) work.push(e.to); }
    }
  }
  // One last pass per block over the fixpoint, recording what reaches each statement.
  for (const b of fn.blocks) {
    const st: State = new Map(entryState.get(b.id));
    for (const s of b.stmts) {
      if (st.size && (s.kind === 'call' || s.kind === 'assign')) out.before.set(s, new Map([...st].map(([k, x]) => [k, x.release])));
      transfer(st, s, out.stores);
    }
  }
  memo.set(fn.blocks, out);
  return out;
}
