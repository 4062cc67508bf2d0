// Page-fault-disabled regions over a function's CFG (include/linux/uaccess.h pagefault_disable():
// with page faults disabled a user access is never serviced, the copy returns short). Used to tell
// which uaccess calls run with faults disabled (uaccess-livelock's loop recognition) and which
// paths leave the function with a region still open (pagefault-disable-unbalanced).
//
// A path carries the regions it has open, each a *token*: where it was opened, which lvalues
// hold its mapping (the handle kmap_atomic() returned, and the variables and fields it was copied
// into), and whether that handle left the function (returned, stored into an object the caller
// can reach). A disable with a handle is closed by the enable whose argument names the handle; a
// plain pagefault_enable() closes the newest region. The API table's `pagefault` and
// `pagefaultHandle` facets say what opens, what closes, and where the handle goes.
//
// Same-file helpers are summarised (FunctionSummary): "balanced", "opens" (a region the caller
// now holds: pure, returned as a handle, or kept in an object), "closes" (what the caller
// opened) or "unknown". An unknown summary changes nothing in the caller, and a region opened by
// a helper that keeps it in an object is never reported in the caller: the caller does not
// inherit a callee's doubt.
//
// Branches are correlated: a path remembers what the conditions it took said (`if (atomic)`,
// `if (vaddr)`, a re-tested predicate such as `if (PageHighMem(page))`) until a variable or field
// they read is written, so `if (p) kunmap_atomic(p)` after `p = NULL; if (x) p = kmap_atomic()`
// does not take the unmap without the map.

import type { CallStmt, Edge, Expr, FunctionIR, ReturnStmt, Stmt } from '../../ir';
import type { ApiEntry } from '../../kernel/api-schema';
import { exprKey } from '../expr';
import { lookupApi } from '../../kernel/api-table';
import { fileFact } from '../file-facts';
import { functionsReaching, type ReachMemo } from '../reaching';

/**
 * Names of the file's functions that call a page-fault toggle, themselves or through same-file
 * helpers, at any depth: the callers of those naming a toggle, transitively. Linear; once per
 * function map (a file-wide fact for the language server's session, engine/analysis/file-facts.ts).
 */
const togglingMemo: ReachMemo = new WeakMap();
const togglingFunctions = fileFact('pagefaultToggling', (byName: Map<string, FunctionIR>): ReadonlySet<FunctionIR> =>
  functionsReaching(byName, togglingMemo, (fn) => {
    const callees: string[] = [];
    let direct = false;
    for (const b of fn.blocks) for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const api = lookupApi(s.callee);
      if (api?.pagefault) direct = true;
      else if (!api) callees.push(s.callee);
    }
    return { direct, callees };
  }));

/** Helper nesting followed for summaries (helpers of helpers...). */
const MAX_HELPER_DEPTH = 4;
/** The same open site counted at most this many times on one path (a disable in a loop). */
const MAX_PER_ORIGIN = 2;
/** Regions open at once on one path; beyond that the analysis stops (and says so). */
const MAX_TOKENS = 6;
/** Condition facts a path keeps; newer ones are dropped beyond that. */
const MAX_FACTS = 8;
/** Distinct path states per block before facts are forgotten (sound for the depth, less precise). */
const MAX_STATES_PER_BLOCK = 32;
/** Aliases remembered per handle. */
const MAX_HANDLES = 4;

export interface ReturnDepth {
  block: number;
  /** The `return` statement that ends the path (absent when falling off the end). */
  stmt?: ReturnStmt;
  /** Open regions (page faults disabled, depth) with which this return can be reached. */
  depths: number[];
}

/** A return reached with a region the function opened itself, closes elsewhere, and did not hand off. */
export interface LeakPath {
  block: number;
  stmt?: ReturnStmt;
  /** Regions open on the shortest such path (the reported depth). */
  depth: number;
  /** Longer paths (another loop turn) leave more open. */
  more: boolean;
  /**
   * No path closes this region and its mapping was neither returned, stored where the caller can
   * reach it, nor passed to a function we cannot see: nobody can ever unmap it.
   */
  lost?: boolean;
  /** The call that opened the leaked region. */
  opener: CallStmt;
}

/** What a same-file helper does to its caller's page-fault state. */
export type FunctionSummary =
  | { kind: 'balanced' }
  /**
   * Leaves a region open on some path: `pure` (pagefault_disable() for the caller), `handle`
   * (returns the mapping), `object` (keeps the mapping in an object reachable from a parameter or
   * a global: `handles` are its lvalues in the helper's terms).
   */
  | { kind: 'opens'; how: 'pure' | 'handle' | 'object'; handles: string[]; nonNull?: boolean }
  /** Closes a region the caller (or an object) holds: `args` are the keys of the closed handles, empty for a plain enable. */
  | { kind: 'closes'; args: string[][] }
  | { kind: 'unknown' };

export interface PagefaultFacts {
  /** Open regions possible just before each call statement, keyed `block:index`. */
  beforeCall: Map<string, number[]>;
  returns: ReturnDepth[];
  /** Open regions with which the function can return, starting from none. */
  exitDepths: number[];
  /** Returns that leave a region open which other paths close (pagefault-disable-unbalanced). */
  leaks: LeakPath[];
  /** Direct enables reached with nothing open on a path where other paths close a region this function opened. */
  enableWithoutDisable: { block: number; call: CallStmt }[];
  /** The function itself calls a disable or enable (directly or through a helper). */
  touchesDepth: boolean;
  summary: FunctionSummary;
  /** Analysis ran out of budget: results are partial (rules stay silent and say so). */
  partial: boolean;
  /** Which bound stopped the analysis, for the note the rule reports. */
  bound?: string;
}

interface Token {
  /** `block:index` of the opening call in this function. */
  origin: string;
  /** direct: an API disable here; pure/handle/object: a helper's region (see FunctionSummary). */
  kind: 'direct' | 'pure' | 'handle' | 'object';
  /** Keys of the lvalues holding the mapping (sorted). */
  handles: string[];
  /** The handle was stored where the caller can reach it (a parameter's object, a global). */
  escaped: boolean;
  /** Lvalues holding exactly the pointer the map call returned (no offset added): their NULL test is the map's. */
  exact: string[];
  /** The handle was passed to a function we cannot see (it may have unmapped or kept it). */
  passed: boolean;
  /** The handle is never NULL (kmap_atomic(), a helper returning its non-NULL result). */
  nonNull: boolean;
  n: number;
}

interface PathState {
  toks: Token[];
  facts: Map<string, Fact>;
}

interface Fact {
  v: boolean;
  /** Access paths the condition reads: a write to one of them (or a prefix) drops the fact. */
  deps: string[];
  /** The temporary whose call produced it: re-running that call re-evaluates it. */
  temp?: string;
}

function stateKey(p: PathState): string {
  const t = p.toks.map((k) => `${k.origin}/${k.kind}/${k.n}/${k.escaped ? 'e' : ''}${k.passed ? 'p' : ''}${k.nonNull ? 'n' : ''}/${k.handles.join('+')}/${k.exact.join('+')}`).join(';');
  const f = [...p.facts].map(([k, x]) => `${x.v ? '' : '!'}${k}`).sort().join(',');
  return `${t}|${f}`;
}

const clone = (p: PathState): PathState => ({ toks: p.toks.map((t) => ({ ...t, handles: [...t.handles], exact: [...t.exact] })), facts: new Map(p.facts) });
const depthOf = (p: PathState): number => p.toks.reduce((a, t) => a + t.n, 0);

/** Key of an access path: `a`, `a->b.c`, `a[]` (indexes ignored); undefined for other shapes. */
function pathKey(e: Expr): string | undefined {
  switch (e.kind) {
    case 'var': return e.name;
    case 'field': {
      const b = pathKey(e.base);
      return b === undefined ? undefined : `${b}${e.arrow ? '->' : '.'}${e.name}`;
    }
    case 'index': {
      const b = pathKey(e.base);
      return b === undefined ? undefined : `${b}[]`;
    }
    case 'unary':
      if (e.op === '*' && e.arg.kind === 'unary' && e.arg.op === '&') return pathKey(e.arg.arg);
      if (e.op === '*') {
        const b = pathKey(e.arg);
        return b === undefined ? undefined : `${b}->*`;
      }
      return undefined;
    default: return undefined;
  }
}

/** Every access path an expression reads (`buf - off` → buf, off; `d.addr` → d.addr). */
function accessPaths(e: Expr, out: Set<string> = new Set()): Set<string> {
  const k = pathKey(e);
  if (k !== undefined) {
    out.add(k);
    if (e.kind === 'index') accessPaths(e.index, out);
    return out;
  }
  switch (e.kind) {
    case 'field': accessPaths(e.base, out); break;
    case 'index': accessPaths(e.base, out); accessPaths(e.index, out); break;
    case 'unary': accessPaths(e.arg, out); break;
    case 'binary': accessPaths(e.left, out); accessPaths(e.right, out); break;
    default: break;
  }
  return out;
}

const rootOf = (key: string): string => key.match(/^[^-.[]+/)?.[0] ?? key;

/** A write to `w` changes the value read through access path `d`. */
function clobbers(w: string, d: string): boolean {
  if (w.startsWith('=')) return d === w.slice(1);
  if (d === w) return true;
  if (!d.startsWith(w)) return false;
  const rest = d.slice(w.length);
  return rest.startsWith('->') || rest.startsWith('.') || rest.startsWith('[');
}

const isNull = (e: Expr): boolean => e.kind === 'int' && e.value === 0;

/** A static view of the function: call temporaries, locals. */
interface FnInfo {
  /** `$tN` produced by exactly one call to a non-API function: its canonical text and what it reads. */
  temps: Map<string, { key: string; deps: string[] }>;
  locals: Set<string>;
  params: string[];
  /** Condition atoms and how many branch blocks test them: only re-tested ones are worth a fact. */
  tested: Map<string, number>;
}

function fnInfo(fn: FunctionIR): FnInfo {
  const count = new Map<string, number>();
  const calls = new Map<string, CallStmt>();
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind === 'call' && s.result?.kind === 'var' && s.result.name.startsWith('$')) {
      count.set(s.result.name, (count.get(s.result.name) ?? 0) + 1);
      calls.set(s.result.name, s);
    } else if ((s.kind === 'assign' || s.kind === 'havoc') && s.target?.kind === 'var' && s.target.name.startsWith('$')) {
      count.set(s.target.name, (count.get(s.target.name) ?? 0) + 2);
    }
  }
  const temps = new Map<string, { key: string; deps: string[] }>();
  for (const [t, c] of calls) {
    const api = lookupApi(c.callee);
    // Calls with an effect the table knows (a lock, a pin, a copy) are not re-testable predicates.
    if (count.get(t) !== 1 || (api && (api.refs || api.lock || api.pagefault || api.faultIn || api.uaccess || api.mem))) continue;
    const deps = new Set<string>();
    for (const a of c.args) accessPaths(a.kind === 'unary' && a.op === '&' ? a.arg : a, deps);
    temps.set(t, { key: `${c.callee}(${c.args.map(exprKey).join(', ')})`, deps: [...deps] });
  }
  const locals = new Set<string>(Object.keys(fn.locals));
  for (const b of fn.blocks) for (const s of b.stmts) if (s.kind === 'decl') locals.add(s.name);
  const info: FnInfo = { temps, locals, params: fn.params.map((p) => p.name), tested: new Map() };
  for (const b of fn.blocks) {
    const keys = new Set<string>();
    for (const e of b.succs) for (const f of edgeFacts(e, info)) keys.add(f.key);
    for (const k of keys) info.tested.set(k, (info.tested.get(k) ?? 0) + 1);
  }
  return info;
}

/** The condition of an edge as (atom, polarity, deps): `!x`, `x == NULL` → (x, false). */
function condFact(c: Expr, info: FnInfo): { key: string; v: boolean; deps: string[]; temp?: string } | undefined {
  if (c.kind === 'unary' && c.op === '!') {
    const inner = condFact(c.arg, info);
    return inner ? { ...inner, v: !inner.v } : undefined;
  }
  if (c.kind === 'binary' && (c.op === '&&' || c.op === '||')) return undefined;
  if (c.kind === 'binary' && (c.op === '==' || c.op === '!=') && (isNull(c.right) || isNull(c.left))) {
    const inner = condFact(isNull(c.right) ? c.left : c.right, info);
    return inner ? { ...inner, v: c.op === '!=' ? inner.v : !inner.v } : undefined;
  }
  if (c.kind === 'var' && info.temps.has(c.name)) {
    const t = info.temps.get(c.name)!;
    return { key: t.key, v: true, deps: t.deps, temp: c.name };
  }
  const FLIP: Record<string, string> = { '!=': '==', '>=': '<', '<=': '>' };
  if (c.kind === 'binary' && FLIP[c.op]) return { key: exprKey({ ...c, op: FLIP[c.op]! }), v: false, deps: [...accessPaths(c)] };
  const deps = [...accessPaths(c)];
  if (!deps.length) return undefined;
  return { key: exprKey(c), v: true, deps };
}

type EdgeFact = { key: string; v: boolean; deps: string[]; temp?: string };

/** What taking an edge says: its condition, and the preprocessor conditions of an `#if` branch. */
function edgeFacts(e: Edge, info: FnInfo): EdgeFact[] {
  const out: EdgeFact[] = [];
  const c = e.cond ? condFact(e.cond, info) : undefined;
  if (c) out.push(c);
  for (const p of e.preproc ?? []) out.push({ key: `#if ${p.key}`, v: p.value, deps: [] });
  return out;
}

/** Access paths a statement writes (a whole variable for shapes we cannot name). */
function writes(s: Stmt): string[] {
  const target = (e: Expr | undefined): string[] => {
    if (!e) return [];
    const k = pathKey(e);
    if (k !== undefined) return [k];
    const vars = [...accessPaths(e)];
    return vars.length ? [rootOf(vars[0]!)] : [];
  };
  switch (s.kind) {
    case 'assign': return target(s.target);
    case 'havoc': return target(s.target);
    // `f(&x)` may change x itself; the fields of a struct passed by address are kept, like the
    // fields behind any pointer argument (a re-tested flag in a setup struct stays correlated).
    case 'call': return [...target(s.result), ...s.args.filter((a) => a.kind === 'unary' && a.op === '&').flatMap((a) => target((a as { arg: Expr }).arg).map((k) => `=${k}`))];
    case 'decl': return [s.name];
    default: return [];
  }
}

/**
 * Where a handle stored at `key` lives: in this frame (a local, a temporary, a field of a local
 * struct, or a parameter variable itself, which the caller cannot see), or where the caller can
 * reach it (behind a pointer, a global). `ownOnly`: parameters count as the caller's (an unmap
 * of a parameter undoes the caller's mapping).
 */
function isLocalPath(key: string, info: FnInfo, ownOnly = false): boolean {
  const root = rootOf(key);
  const own = root.startsWith('$') || info.locals.has(root);
  if (!own && (ownOnly || !info.params.includes(root) || key !== root)) return false;
  return !key.slice(root.length).includes('->');
}

interface ApiPf {
  op: 'disable' | 'enable';
  /** The result is the mapping (kmap_atomic). */
  result: boolean;
  /** Argument holding the mapping to undo (kunmap_atomic). */
  arg?: number;
  nonNull: boolean;
}

function apiPf(api: ApiEntry | undefined): ApiPf | undefined {
  if (!api?.pagefault) return undefined;
  const h = api.pagefaultHandle;
  return { op: api.pagefault, result: !!h?.result, ...(h?.arg !== undefined ? { arg: h.arg } : {}), nonNull: !!h?.nonNull };
}

/** A helper's handle key rewritten into its caller's terms (`walk->addr` with `walk` ← `&w` → `w.addr`). */
function translate(key: string, helper: FunctionIR, args: Expr[]): string[] {
  if (key === '?') return [];
  const root = rootOf(key);
  const i = helper.params.findIndex((p) => p.name === root);
  if (i < 0) return root.startsWith('$') ? [] : [key]; // a global keeps its name
  const a = args[i];
  if (!a) return [];
  const rest = key.slice(root.length);
  if (a.kind === 'unary' && a.op === '&') {
    const b = pathKey(a.arg);
    if (b === undefined) return [];
    if (rest.startsWith('->')) return [`${b}.${rest.slice(2)}`];
    return rest ? [] : [...accessPaths(a.arg)];
  }
  const b = pathKey(a);
  if (b !== undefined) return [b + rest];
  return rest ? [] : [...accessPaths(a)];
}

export class PagefaultAnalysis {
  private memo = new Map<FunctionIR, PagefaultFacts>();
  private inProgress = new Set<FunctionIR>();
  private touchMemo = new Map<FunctionIR, boolean>();

  constructor(private readonly functionsByName: Map<string, FunctionIR>, private readonly cancelled: () => boolean = () => false) {}

  /** Cheap scan: does the function (or a helper it calls) disable or enable page faults at all? */
  touches(fn: FunctionIR, level = 0): boolean {
    const hit = this.touchMemo.get(fn);
    if (hit !== undefined) return hit;
    this.touchMemo.set(fn, false); // recursion guard
    let found = false;
    for (const b of fn.blocks) {
      for (const s of b.stmts) {
        if (s.kind !== 'call') continue;
        const api = lookupApi(s.callee);
        if (api?.pagefault) { found = true; break; }
        const h = api ? undefined : this.functionsByName.get(s.callee);
        if (h && h !== fn && level < MAX_HELPER_DEPTH && this.touches(h, level + 1)) { found = true; break; }
      }
      if (found) break;
    }
    this.touchMemo.set(fn, found);
    return found;
  }

  /**
   * Whether the function calls a page-fault toggle itself or through same-file helpers, at any
   * depth (no bound: unlike touches(), whose answer is cut at the helper nesting bound). A
   * declared file-wide fact (togglingFunctions), asked each time so that every check that relies
   * on it records the read.
   */
  private reachesToggle(fn: FunctionIR): boolean {
    if (this.functionsByName.get(fn.name) !== fn) return true;
    return togglingFunctions(this.functionsByName).has(fn);
  }

  /**
   * The summary of a same-file helper as its caller sees it (unknown past the nesting bound or in
   * recursion). A helper that touches no region is balanced at any depth: that is what facts()
   * says of it, and it is what a call to a function that is not in the text reads as (no region
   * opened or closed, the handles it is given not passed on), so the batch path may leave such a
   * helper out (pagefault-disable-unbalanced keeps no callees that reach no toggle).
   */
  summaryOf(helper: FunctionIR, level: number): FunctionSummary {
    if (!this.reachesToggle(helper)) return { kind: 'balanced' };
    if (level >= MAX_HELPER_DEPTH || this.inProgress.has(helper)) return { kind: 'unknown' };
    return this.facts(helper, level + 1).summary;
  }

  facts(fn: FunctionIR, level = 0): PagefaultFacts {
    const hit = this.memo.get(fn);
    if (hit) return hit;
    if (!this.touches(fn)) {
      // Nothing open anywhere: nothing to compute (most functions of a real file).
      const flat: PagefaultFacts = { beforeCall: new Map(), returns: [], exitDepths: [0], leaks: [], enableWithoutDisable: [],
        touchesDepth: false, summary: { kind: 'balanced' }, partial: false };
      this.memo.set(fn, flat);
      return flat;
    }
    this.inProgress.add(fn);
    const res = this.compute(fn, level);
    this.inProgress.delete(fn);
    this.memo.set(fn, res);
    return res;
  }

  /** Does this call open or close a region (an API facet, or a helper that touches the depth)? */
  private isPfCall(s: Stmt, fn: FunctionIR, level: number): boolean {
    if (s.kind !== 'call') return false;
    const api = lookupApi(s.callee);
    if (api) return !!api.pagefault;
    const h = this.functionsByName.get(s.callee);
    return !!h && h !== fn && level < MAX_HELPER_DEPTH && this.touches(h, level + 1);
  }

  /**
   * Condition atoms worth remembering: those of branches whose two sides reach different
   * open/close calls within a few blocks (`if (vaddr) kunmap_atomic(vaddr)`, `if (atomic)
   * pagefault_disable()`), and what they read. Facts about other conditions would only multiply
   * the path states.
   */
  private guardingAtoms(fn: FunctionIR, info: FnInfo, level: number): Set<string> {
    const near = (from: number, avoid: number): string => {
      const seen = new Set<number>([avoid]);
      const found: string[] = [];
      let frontier = [from];
      for (let hop = 0; hop < 4 && frontier.length; hop++) {
        const next: number[] = [];
        for (const id of frontier) {
          if (seen.has(id)) continue;
          seen.add(id);
          const b = fn.blocks[id];
          if (!b) continue;
          b.stmts.forEach((s, i) => { if (this.isPfCall(s, fn, level)) found.push(`${id}:${i}`); });
          for (const e of b.succs) next.push(e.to);
        }
        frontier = next;
      }
      return found.sort().join(',');
    };
    const out = new Set<string>();
    for (const b of fn.blocks) {
      if (b.succs.length < 2) continue;
      const sides = new Set(b.succs.map((e) => near(e.to, b.id)));
      if (sides.size < 2) continue;
      for (const e of b.succs) for (const f of edgeFacts(e, info)) out.add(f.key);
    }
    return out;
  }

  private compute(fn: FunctionIR, level: number): PagefaultFacts {
    const info = fnInfo(fn);
    /** Atoms tested inside a loop body: the next iteration tests them again. */
    const inLoop = new Set<string>();
    for (const l of fn.loops) for (const id of l.body) for (const e of fn.blocks[id]?.succs ?? []) for (const f of edgeFacts(e, info)) inLoop.add(f.key);
    const relevant = this.guardingAtoms(fn, info, level);
    const blockIn = new Map<number, Map<string, PathState>>();
    const outOf = new Map<number, PathState[]>();
    /** States of blockIn already stepped through each block. */
    const processed = new Map<number, number>();
    const beforeCall = new Map<string, Set<number>>();
    /** Origins some path closes: only those can leak (a region never closed here is the caller's). */
    const closedOrigins = new Set<string>();
    /** Direct enables reached with nothing open (candidates), and those that closed a direct region. */
    const unmatchedAt = new Map<string, { block: number; call: CallStmt }>();
    const closedDirectAt = new Set<string>();
    /** Closes of regions this function did not open (its summary says it closes for the caller). */
    const foreignCloses: string[][] = [];
    const foreignSeen = new Set<string>();
    const openers = new Map<string, CallStmt>();
    let touches = false;
    let partial = false;
    let bound: string | undefined;
    const stop = (why: string): void => { partial = true; bound ??= why; };

    const entry: PathState = { toks: [], facts: new Map() };
    blockIn.set(fn.entry, new Map([[stateKey(entry), entry]]));
    const work = [fn.entry];
    const queued = new Set(work);
    const stepLimit = (fn.blocks.length + 1) * MAX_STATES_PER_BLOCK * 8;
    let steps = 0;

    // A fact is kept only if a later branch can read it: an assignment's fact if the atom is tested
    // somewhere, a branch's fact if the atom is tested again (or in a loop, again on the next turn).
    const setFact = (p: PathState, key: string, f: Fact, fromBranch = false): void => {
      const n = info.tested.get(key) ?? 0;
      if (n === 0 || !relevant.has(key) || (fromBranch && n < 2 && !inLoop.has(key))) return;
      if (p.facts.has(key) || p.facts.size < MAX_FACTS) p.facts.set(key, f);
    };
    const clobber = (p: PathState, w: string): void => {
      for (const [k, f] of [...p.facts]) if (f.deps.some((d) => clobbers(w, d)) || f.temp === w) p.facts.delete(k);
    };
    const open = (p: PathState, tok: Omit<Token, 'n'>): void => {
      const same = p.toks.find((t) => t.origin === tok.origin);
      if (same) {
        same.n = Math.min(MAX_PER_ORIGIN, same.n + 1);
        for (const h of tok.handles) if (!same.handles.includes(h) && same.handles.length < MAX_HANDLES) same.handles.push(h);
        same.handles.sort();
        same.escaped ||= tok.escaped;
        same.nonNull &&= tok.nonNull;
        same.passed ||= tok.passed;
        for (const h of tok.exact) if (!same.exact.includes(h)) same.exact.push(h);
        return;
      }
      if (p.toks.length >= MAX_TOKENS) { stop(`${MAX_TOKENS} regions open at once`); return; }
      p.toks.push({ ...tok, handles: [...tok.handles].sort(), n: 1 });
    };
    const dropOne = (p: PathState, i: number): Token => {
      const t = p.toks[i]!;
      if (t.n > 1) { t.n--; return t; }
      p.toks.splice(i, 1);
      return t;
    };
    /**
     * Close the region whose handle `argKeys` names; a plain enable (no keys) closes the newest
     * region without a handle, else the newest. Returns the closed token, or undefined when the
     * close undoes a region the function did not open (`foreign`: the argument is the caller's).
     */
    const close = (p: PathState, argKeys: string[] | undefined, anyNewest = false): Token | 'foreign' | undefined => {
      if (argKeys && argKeys.length) {
        for (let i = p.toks.length - 1; i >= 0; i--) if (p.toks[i]!.handles.some((h) => argKeys.includes(h))) return dropOne(p, i);
        if (argKeys.every((k) => !isLocalPath(k, info, true))) return 'foreign';
      }
      if (!p.toks.length) return undefined;
      let i = p.toks.length - 1;
      if (!anyNewest && (!argKeys || !argKeys.length)) {
        for (let j = p.toks.length - 1; j >= 0; j--) if (!p.toks[j]!.handles.length) { i = j; break; }
      }
      return dropOne(p, i);
    };

    const step = (cur: PathState[], st: Stmt, id: number, idx: number): PathState[] => {
      for (const w of writes(st)) for (const p of cur) clobber(p, w);
      if (st.kind === 'assign') {
        const target = pathKey(st.target);
        const reads = accessPaths(st.value);
        for (const p of cur) {
          if (target !== undefined && isNull(st.value)) setFact(p, target, { v: false, deps: [target] });
          else if (target !== undefined && st.value.kind === 'int') setFact(p, target, { v: true, deps: [target] });
          if (target === undefined) continue;
          const copied = pathKey(st.value);
          for (const t of p.toks) {
            // The mapping copied elsewhere (`vaddr = $t2 + off`, `walk->addr = vaddr`).
            if (t.exact.includes(target) && !(copied !== undefined && t.exact.includes(copied))) t.exact = t.exact.filter((h) => h !== target);
            else if (copied !== undefined && t.exact.includes(copied) && !t.exact.includes(target) && t.exact.length < MAX_HANDLES) t.exact.push(target);
            if (t.handles.includes(target)) { if (![...reads].some((r) => t.handles.includes(r))) t.handles = t.handles.filter((h) => h !== target); continue; }
            if (![...reads].some((r) => t.handles.includes(r))) continue;
            if (t.handles.length < MAX_HANDLES) t.handles = [...t.handles, target].sort();
            if (!isLocalPath(target, info)) t.escaped = true;
            setFact(p, target, { v: true, deps: [target] });
          }
        }
        return cur;
      }
      if (st.kind !== 'call') return cur;
      const key = `${id}:${idx}`;
      const seen = beforeCall.get(key) ?? new Set<number>();
      for (const p of cur) seen.add(depthOf(p));
      beforeCall.set(key, seen);
      const api = lookupApi(st.callee);
      const pf = apiPf(api);
      const resultKey = st.result ? pathKey(st.result) : undefined;
      if (resultKey !== undefined) for (const p of cur) for (const t of p.toks) if (t.handles.includes(resultKey)) { t.handles = t.handles.filter((h) => h !== resultKey); t.exact = t.exact.filter((h) => h !== resultKey); }
      if (pf?.op === 'disable') {
        touches = true;
        openers.set(key, st);
        for (const p of cur) {
          const handles = pf.result && resultKey !== undefined ? [resultKey] : [];
          open(p, { origin: key, kind: 'direct', handles, exact: [...handles], passed: false, escaped: handles.some((h) => !isLocalPath(h, info)), nonNull: pf.nonNull });
          if (pf.nonNull && resultKey !== undefined) setFact(p, resultKey, { v: true, deps: [resultKey] });
        }
        return cur;
      }
      if (pf?.op === 'enable') {
        touches = true;
        const a = pf.arg !== undefined ? st.args[pf.arg] : undefined;
        const argKeys = a ? [...accessPaths(a)] : undefined;
        for (const p of cur) {
          const r = close(p, argKeys);
          if (r === 'foreign' || r === undefined) {
            const fk = (argKeys ?? []).join(',');
            if (!foreignSeen.has(fk)) { foreignSeen.add(fk); foreignCloses.push(argKeys ?? []); }
            // Only a plain enable, or an unmap of a local handle, can underflow this function's own count.
            if (r === undefined) unmatchedAt.set(key, { block: id, call: st });
          } else {
            closedOrigins.add(r.origin);
            if (r.kind === 'direct' && !r.escaped) closedDirectAt.add(key);
          }
        }
        return cur;
      }
      const helper = api ? undefined : this.functionsByName.get(st.callee);
      const sum: FunctionSummary = helper && helper !== fn ? this.summaryOf(helper, level) : { kind: 'unknown' };
      if (!api && helper && helper !== fn && sum.kind !== 'balanced' && sum.kind !== 'closes') {
        // The mapping handed to a same-file helper whose effect is unknown: it may unmap or keep
        // it. Other calls borrow (memcpy, a checksum): a call that unmaps for us is in the API
        // table (scsi_kunmap_atomic_sg) or is a same-file helper with a summary.
        const reads = new Set<string>();
        for (const a of st.args) accessPaths(a, reads);
        for (const p of cur) for (const t of p.toks) if (t.handles.some((h) => reads.has(h))) t.passed = true;
      }
      if (!helper || helper === fn) return cur;
      if (sum.kind === 'balanced' || sum.kind === 'unknown') {
        if (sum.kind === 'unknown' && this.touches(helper, level + 1)) touches = true;
        return cur;
      }
      touches = true;
      if (sum.kind === 'opens') {
        openers.set(key, st);
        const handles = sum.how === 'handle' ? (resultKey !== undefined ? [resultKey] : [])
          : sum.how === 'object' ? sum.handles.flatMap((h) => translate(h, helper, st.args)) : [];
        for (const p of cur) {
          open(p, { origin: key, kind: sum.how, handles, exact: sum.how === 'handle' ? [...handles] : [], passed: false, escaped: sum.how === 'object' || handles.some((h) => !isLocalPath(h, info)), nonNull: !!sum.nonNull });
          if (sum.how === 'handle' && sum.nonNull && resultKey !== undefined) setFact(p, resultKey, { v: true, deps: [resultKey] });
        }
        return cur;
      }
      // closes: each of the helper's closes, in the caller's terms.
      for (const p of cur) {
        for (const argKeysH of sum.args) {
          const argKeys = argKeysH.flatMap((k) => translate(k, helper, st.args));
          // Untranslatable handle (a local of the helper, an expression argument): the newest region.
          const r = close(p, argKeys, argKeysH.length > 0 && !argKeys.length);
          if (r === 'foreign' || r === undefined) {
            const fk = argKeys.join(',');
            if (!foreignSeen.has(fk)) { foreignSeen.add(fk); foreignCloses.push(argKeys); }
          } else closedOrigins.add(r.origin);
        }
      }
      return cur;
    };

    while (work.length) {
      if (++steps > stepLimit) { stop(`${stepLimit} block visits`); break; }
      if ((steps & 63) === 0 && this.cancelled()) { stop('cancelled'); break; }
      const id = work.shift()!;
      queued.delete(id);
      const block = fn.blocks[id];
      if (!block) continue;
      // Only the states that reached the block since its last visit: step() maps each state on
      // its own (what it records on the side only grows), and a state sent on before finds its
      // successors' keys there already, so the earlier ones would only be stepped again to the
      // same results. The block's outgoing states accumulate in arrival order, as the last full
      // visit listed them.
      const incoming = [...(blockIn.get(id)?.values() ?? [])];
      const from = processed.get(id) ?? 0;
      processed.set(id, incoming.length);
      let cur: PathState[] = incoming.slice(from).map(clone);
      block.stmts.forEach((st, idx) => { cur = step(cur, st, id, idx); });
      const out = outOf.get(id);
      if (out) out.push(...cur);
      else outOf.set(id, cur.slice());
      for (const e of block.succs) {
        const facts = edgeFacts(e, info);
        const tgt = blockIn.get(e.to) ?? new Map<string, PathState>();
        let changed = !blockIn.has(e.to);
        for (const p of cur) {
          let q = p;
          // An edge that contradicts an earlier branch is not taken on this path.
          if (facts.some((f) => { const known = p.facts.get(f.key); return known !== undefined && known.v !== f.v; })) continue;
          if (facts.length) {
            q = clone(p);
            for (const f of facts) setFact(q, f.key, { v: f.v, deps: f.deps, ...(f.temp ? { temp: f.temp } : {}) }, true);
            // `if (!p)` after `p = helper_map()` that may return NULL: on this edge nothing was mapped.
            const nulls = facts.filter((f) => !f.v).map((f) => f.key);
            if (nulls.length) q.toks = q.toks.filter((t) => t.kind === 'object' || t.kind === 'pure' || t.nonNull || !t.exact.some((h) => nulls.includes(h)));
          }
          const k = stateKey(q);
          if (tgt.has(k)) continue;
          if (tgt.size >= MAX_STATES_PER_BLOCK) {
            // Too many paths: forget the facts (sound for the regions, less precise).
            const plain: PathState = { toks: q.toks, facts: new Map() };
            const pk = stateKey(plain);
            if (tgt.has(pk)) continue;
            tgt.set(pk, plain);
          } else tgt.set(k, q);
          changed = true;
        }
        blockIn.set(e.to, tgt);
        if (changed && !queued.has(e.to)) { work.push(e.to); queued.add(e.to); }
      }
    }

    const returns: ReturnDepth[] = [];
    const leaks: LeakPath[] = [];
    const exit = new Set<number>();
    let opensAtExit = false;
    let returnedMaybeNull = false;
    const exitHow = new Set<'pure' | 'handle' | 'object'>();
    const exitHandles = new Set<string>();
    for (const b of fn.blocks) {
      if (b.id === fn.exit || !b.succs.some((e) => e.to === fn.exit)) continue;
      const out = outOf.get(b.id);
      if (!out) continue;
      const ret = [...b.stmts].reverse().find((s): s is ReturnStmt => s.kind === 'return');
      const retReads = ret?.value ? accessPaths(ret.value) : new Set<string>();
      const depths = new Set<number>();
      let worst: LeakPath | undefined;
      for (const p of out) {
        // A path that returns no mapping (NULL, an error) makes the helper's result maybe-NULL.
        if (!p.toks.some((t) => t.handles.some((h) => retReads.has(h)))) returnedMaybeNull = true;
        const d = depthOf(p);
        depths.add(d);
        exit.add(d);
        for (const t of p.toks) {
          const returned = t.handles.some((h) => retReads.has(h));
          opensAtExit = true;
          if (returned) { exitHow.add('handle'); if (!t.nonNull) returnedMaybeNull = true; }
          else if (t.escaped || t.kind === 'object') {
            exitHow.add('object');
            for (const h of t.handles) if (!isLocalPath(h, info)) exitHandles.add(h);
          } else if (t.handles.length && t.kind !== 'pure') exitHow.add('object'); // a mapping kept where we cannot see: the caller's doubt, not an error
          else exitHow.add('pure');
          const kept = t.kind === 'object' || t.escaped || returned;
          const lost = !kept && !closedOrigins.has(t.origin) && t.kind === 'direct' && t.handles.length > 0 && !t.passed;
          const mine = !kept && (closedOrigins.has(t.origin) || lost);
          if (!mine) continue;
          if (!worst) worst = { block: b.id, ...(ret ? { stmt: ret } : {}), depth: d, more: false, opener: openers.get(t.origin)!, ...(lost ? { lost } : {}) };
          else if (d !== worst.depth) { worst.more = true; if (d < worst.depth) { worst.depth = d; worst.opener = openers.get(t.origin)!; } }
        }
      }
      returns.push({ block: b.id, ...(ret ? { stmt: ret } : {}), depths: [...depths].sort((a, c) => a - c) });
      if (worst) leaks.push(worst);
    }

    const enableWithoutDisable = [...unmatchedAt].filter(([k]) => closedDirectAt.has(k)).map(([, v]) => v);
    let summary: FunctionSummary;
    if (partial) summary = { kind: 'unknown' };
    else if (!opensAtExit && !foreignCloses.length) summary = { kind: 'balanced' };
    else if (opensAtExit && foreignCloses.length) summary = { kind: 'unknown' };
    else if (opensAtExit) {
      const how = exitHow.has('handle') ? 'handle' : exitHow.has('object') ? 'object' : 'pure';
      summary = { kind: 'opens', how, handles: [...exitHandles].sort(), ...(how === 'handle' && !returnedMaybeNull ? { nonNull: true } : {}) };
    } else {
      // In the caller's terms only parameters' and globals' paths mean something.
      const outside = (k: string): boolean => { const r = rootOf(k); return info.params.includes(r) || !(r.startsWith('$') || info.locals.has(r)); };
      summary = { kind: 'closes', args: foreignCloses.map((ks) => (ks.length && !ks.some(outside) ? ['?'] : ks.filter(outside))) };
    }
    return {
      beforeCall: new Map([...beforeCall].map(([k, v]) => [k, [...v].sort((a, c) => a - c)])),
      returns,
      exitDepths: [...exit].sort((a, c) => a - c),
      leaks,
      enableWithoutDisable,
      touchesDepth: touches,
      summary,
      partial,
      ...(bound ? { bound } : {}),
    };
  }
}
