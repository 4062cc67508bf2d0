// Path feasibility in loops: facts a path learns from the loop's shape, recorded with the
// other remembered conditions of a path (`conds`: condition key -> truth) so that a later test
// that contradicts them is not explored.
//
//  - Switch cases. Taking `case K:` of `switch (x)` says `x == K` and, the case values of one
//    switch being distinct (C requires it), `x != K'` for every other case; taking `default:`
//    (or no case at all) says `x != K` for every case. On a subject the loop never changes
//    (`switch (cmd)` in a loop filling an array), the next round takes the same case: a round
//    cannot take the default's early exit after an earlier round took a case that pinned pages.
//  - Conditions tested inside a loop. A test over values nothing writes in the loop gives the
//    same answer on every round: it is remembered per path like a test repeated in two places.
//  - Counting loops. A counter that starts at a non-negative constant (or is unsigned) and only
//    goes up (`i++`, `i += n` with n > 0), incremented on every path of a round, is at least 1
//    after a back edge: `if (i == 0)` / `if (!i)` (the first round's work) is false from the
//    second round on.
//
// Only the structure of the function is read here (blocks, edges, loops); the interpreter owns
// the path state and asks.

import type { Edge, Expr, FunctionIR, Stmt } from '../ir';
import { exprKey, isIntValue } from './expr';

/** A condition key (as the interpreter normalizes conditions) and its truth on a path. */
export interface CondFact {
  key: string;
  truth: boolean;
}

/**
 * Record `facts` on a path's remembered conditions. False when one contradicts what the path
 * already knows (the edge is infeasible); the conditions may then be partly updated, so the
 * caller drops the state.
 */
export function applyFacts(conds: Record<string, boolean>, facts: readonly CondFact[]): boolean {
  for (const f of facts) {
    const prev = conds[f.key];
    if (prev !== undefined && prev !== f.truth) return false;
    conds[f.key] = f.truth;
  }
  return true;
}

/** Key under which a counter's "at least 1" is remembered (forgotten when the counter is written). */
export function counterKey(name: string): string {
  return `${name} >= 1`;
}

export class LoopPathFacts {
  private switchCache?: Map<Edge, CondFact[]>;
  private loopCondCache?: Set<string>;
  private counterCache?: Map<Edge, CondFact[]>;
  private blocksInLoops?: Set<number>;

  constructor(
    private readonly fn: FunctionIR,
    private readonly globals: ReadonlySet<string>,
    /** The interpreter's normalization of a condition over values only visible writes change. */
    private readonly stableCond: (e: Expr) => CondFact | undefined,
    /** Keys the interpreter remembers anyway (tested in more than one place). */
    private readonly repeated: (key: string) => boolean,
  ) {}

  /** Facts taking this edge out of a switch dispatch establishes; undefined when none. */
  switchFacts(e: Edge): CondFact[] | undefined {
    if (!this.switchCache) this.switchCache = this.findSwitchFacts();
    return this.switchCache.get(e);
  }

  /** The stable condition (by key) is tested in a block inside a loop. */
  testedInLoop(key: string): boolean {
    if (!this.loopCondCache) {
      const inLoop = this.loopBlocks();
      const out = new Set<string>();
      for (const b of this.fn.blocks) {
        if (!inLoop.has(b.id)) continue;
        for (const e of b.succs) {
          if (!e.cond) continue;
          const sc = this.stableCond(e.cond);
          if (sc) out.add(sc.key);
        }
      }
      this.loopCondCache = out;
    }
    return this.loopCondCache.has(key);
  }

  /** Counters this back edge leaves at 1 or more (undefined when it is no such back edge). */
  counterFacts(e: Edge): CondFact[] | undefined {
    if (!this.counterCache) this.counterCache = this.findCounters();
    return this.counterCache.get(e);
  }

  /**
   * Truth of `cond` on a path that remembers which counters are at least 1: `i`, `i != 0`,
   * `i > 0`, `i >= 1` are true, their negations false. Undefined when `cond` is not such a test
   * or the counter is not known to be at least 1.
   */
  counterTruth(cond: Expr, conds: Readonly<Record<string, boolean>>): boolean | undefined {
    let e = cond;
    let truth = true;
    while (e.kind === 'unary' && e.op === '!') { e = e.arg; truth = !truth; }
    let name: string | undefined;
    let positive: boolean | undefined;
    if (e.kind === 'var') { name = e.name; positive = true; }
    else if (e.kind === 'binary' && e.left.kind === 'var' && e.right.kind === 'int') {
      const n = e.right.value;
      name = e.left.name;
      // What `v >= 1` makes of `v OP n`, for the comparisons a first-round test uses.
      switch (e.op) {
        case '==': positive = n < 1 ? false : undefined; break;
        case '!=': positive = n < 1 ? true : undefined; break;
        case '>': positive = n < 1 ? true : undefined; break;
        case '>=': positive = n <= 1 ? true : undefined; break;
        case '<': positive = n <= 1 ? false : undefined; break;
        case '<=': positive = n < 1 ? false : undefined; break;
        default: positive = undefined;
      }
    }
    if (name === undefined || positive === undefined || conds[counterKey(name)] !== true) return undefined;
    return positive === truth;
  }

  /** Counter facts to forget when the path leaves their loop by this edge (the loop's tests are behind it). */
  counterExit(e: Edge): string[] | undefined {
    if (!this.counterCache) this.counterCache = this.findCounters();
    return this.exitCache.get(e);
  }

  private readonly exitCache = new Map<Edge, string[]>();

  // ---- pre-passes ----------------------------------------------------------------------

  private loopBlocks(): Set<number> {
    if (!this.blocksInLoops) {
      this.blocksInLoops = new Set();
      for (const l of this.fn.loops) for (const b of l.body) this.blocksInLoops.add(b);
    }
    return this.blocksInLoops;
  }

  private findSwitchFacts(): Map<Edge, CondFact[]> {
    const out = new Map<Edge, CondFact[]>();
    const inLoop = this.loopBlocks();
    for (const b of this.fn.blocks) {
      const cases = b.succs.filter((e) => e.label !== undefined && e.label.startsWith('case ') && e.cond?.kind === 'binary' && e.cond.op === '==');
      if (!cases.length) continue;
      const rest = b.succs.filter((e) => !cases.includes(e));
      // A dispatch: case edges, and at most one edge without a condition (default / no case).
      if (rest.length > 1 || rest.some((e) => e.cond !== undefined)) continue;
      const facts = cases.map((e) => this.stableCond(e.cond!));
      // Worth remembering only where something reads it again: the same switch on the next
      // round of a loop, or the same test elsewhere.
      const keep = (f: CondFact | undefined): f is CondFact => !!f && (inLoop.has(b.id) || this.repeated(f.key));
      cases.forEach((e, i) => {
        const mine = facts[i];
        const list: CondFact[] = [];
        if (keep(mine)) list.push(mine);
        facts.forEach((f, j) => {
          if (j !== i && keep(f) && (!mine || f.key !== mine.key)) list.push({ key: f.key, truth: !f.truth });
        });
        if (list.length) out.set(e, list);
      });
      for (const e of rest) {
        const list = facts.filter(keep).map((f) => ({ key: f.key, truth: !f.truth }));
        if (list.length) out.set(e, list);
      }
    }
    return out;
  }

  /** Back edges, each with the counters it leaves at 1 or more. */
  private findCounters(): Map<Edge, CondFact[]> {
    const out = new Map<Edge, CondFact[]>();
    const fn = this.fn;
    const addrTaken = addressTaken(fn);
    for (const loop of fn.loops) {
      const body = new Set(loop.body);
      // Every write of a candidate inside the loop is `v = v + k` (k a positive constant).
      const incs = new Map<string, Set<number>>();
      const bad = new Set<string>();
      for (const id of loop.body) {
        for (const s of fn.blocks[id]?.stmts ?? []) {
          const w = written(s);
          if (w === undefined) continue;
          if (s.kind === 'assign' && isIncrement(s.target, s.value)) {
            const l = incs.get(w) ?? new Set<number>();
            l.add(id);
            incs.set(w, l);
          } else bad.add(w);
        }
      }
      // Only a counter the round tests (`if (!i)` past the loop condition) is worth the
      // fact: remembering it elsewhere would only keep paths apart.
      const tested = new Set<string>();
      for (const id of loop.body) {
        if (id === loop.header) continue;
        for (const e of fn.blocks[id]?.succs ?? []) {
          const name = e.cond ? counterTestVar(e.cond) : undefined;
          if (name !== undefined) tested.add(name);
        }
      }
      const counters = [...incs.keys()].filter((v) => tested.has(v) && !bad.has(v) && !addrTaken.has(v) && !this.globals.has(v)
        && (this.unsigned(v) || this.startsNonNegative(v, loop.header, body)));
      if (!counters.length) continue;
      for (const id of loop.body) for (const e of fn.blocks[id]?.succs ?? []) {
        if (body.has(e.to)) continue;
        const l = this.exitCache.get(e) ?? [];
        for (const v of counters) if (!l.includes(counterKey(v))) l.push(counterKey(v));
        this.exitCache.set(e, l);
      }
      for (const v of counters) {
        const through = this.mustPass(loop.header, body, incs.get(v)!);
        for (const src of loop.body) {
          if (!through.has(src)) continue;
          for (const e of fn.blocks[src]?.succs ?? []) {
            if (e.to !== loop.header) continue;
            const l = out.get(e) ?? [];
            if (!l.some((f) => f.key === counterKey(v))) l.push({ key: counterKey(v), truth: true });
            out.set(e, l);
          }
        }
      }
    }
    return out;
  }

  /** Blocks of the loop left only by paths (from the header, in one round) that ran one of `incBlocks`. */
  private mustPass(header: number, body: Set<number>, incBlocks: Set<number>): Set<number> {
    const fn = this.fn;
    // Predecessors within one round: back edges to the header do not count; a way in from
    // outside the loop other than through the header (a goto into it) never passed anything.
    const preds = new Map<number, number[]>();
    for (const b of fn.blocks) for (const e of b.succs) {
      if (!body.has(e.to) || e.to === header) continue;
      const l = preds.get(e.to) ?? [];
      l.push(b.id);
      preds.set(e.to, l);
    }
    // Greatest fixpoint: start from "every block passed an increment", remove what a path refutes.
    const passed = new Set<number>(body);
    let changed = true;
    for (let round = 0; changed && round < body.size + 2; round++) {
      changed = false;
      for (const id of body) {
        if (!passed.has(id)) continue;
        if (incBlocks.has(id)) continue;
        const ps = id === header ? [] : preds.get(id) ?? [];
        if (id === header || ps.length === 0 || ps.some((p) => !passed.has(p))) {
          passed.delete(id);
          changed = true;
        }
      }
    }
    return passed;
  }

  private unsigned(name: string): boolean {
    const t = this.fn.locals[name] ?? this.fn.params.find((p) => p.name === name)?.type;
    return t !== undefined && !/\*/.test(t) && /\bunsigned\b|\bsize_t\b|\bu(8|16|32|64)\b|\b__u(8|16|32|64)\b|\bpgoff_t\b/.test(t);
  }

  /** Every way into the loop from outside sets `name` to a non-negative constant last (straight-line code before it). */
  private startsNonNegative(name: string, header: number, body: Set<number>): boolean {
    const fn = this.fn;
    const preds = new Map<number, number[]>();
    for (const b of fn.blocks) for (const e of b.succs) {
      const l = preds.get(e.to) ?? [];
      l.push(b.id);
      preds.set(e.to, l);
    }
    const entries = (preds.get(header) ?? []).filter((p) => !body.has(p));
    if (!entries.length) return false;
    return entries.every((start) => {
      let block = start;
      for (let hop = 0; hop < 8; hop++) {
        const stmts = fn.blocks[block]?.stmts ?? [];
        for (let i = stmts.length - 1; i >= 0; i--) {
          const s = stmts[i];
          if (written(s) !== name) continue;
          return s.kind === 'assign' && s.value.kind === 'int' && s.value.value >= 0;
        }
        const ps = preds.get(block) ?? [];
        if (ps.length !== 1) return false;
        block = ps[0];
      }
      return false;
    });
  }
}

/** The variable a first-round test reads (`i`, `!i`, `i == 0`, `i > 0`...). */
function counterTestVar(cond: Expr): string | undefined {
  let e = cond;
  while (e.kind === 'unary' && e.op === '!') e = e.arg;
  if (e.kind === 'var') return e.name;
  if (e.kind === 'binary' && e.left.kind === 'var' && e.right.kind === 'int' && e.right.value <= 1) return e.left.name;
  return undefined;
}

/** The local a statement writes (a plain variable), if any. */
function written(s: Stmt): string | undefined {
  if (s.kind === 'assign' && s.target.kind === 'var') return s.target.name;
  if (s.kind === 'call' && s.result?.kind === 'var') return s.result.name;
  if (s.kind === 'decl') return s.name;
  if (s.kind === 'havoc' && s.target?.kind === 'var') return s.target.name;
  return undefined;
}

/** `v = v + k` / `v = k + v` with k a positive integer constant. */
function isIncrement(target: Expr, value: Expr): boolean {
  if (target.kind !== 'var' || value.kind !== 'binary' || value.op !== '+') return false;
  const t = exprKey(target);
  const pos = (x: Expr): boolean => x.kind === 'int' && x.value > 0 && !isIntValue(x, 0);
  return (exprKey(value.left) === t && pos(value.right)) || (exprKey(value.right) === t && pos(value.left));
}

/** Variables whose address the function takes (`&v`, `&v.f`): a callee may write them. */
function addressTaken(fn: FunctionIR): Set<string> {
  const out = new Set<string>();
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'unary': {
        if (e.op === '&') {
          let x = e.arg;
          while (x.kind === 'field' && !x.arrow) x = x.base;
          if (x.kind === 'var') out.add(x.name);
        }
        visit(e.arg);
        break;
      }
      case 'binary': visit(e.left); visit(e.right); break;
      case 'field': visit(e.base); break;
      case 'index': visit(e.base); visit(e.index); break;
      default: break;
    }
  };
  for (const b of fn.blocks) for (const s of b.stmts) {
    if (s.kind === 'call') s.args.forEach(visit);
    else if (s.kind === 'assign') { visit(s.value); visit(s.target); }
    else if (s.kind === 'return' && s.value) visit(s.value);
    else if (s.kind === 'havoc') for (const m of s.text.matchAll(/&\s*([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(m[1]);
  }
  return out;
}

/** `!x`, `x == NULL`, `x == 0` (isNull) and `x`, `x != NULL` (not): a NULL test of a local. */
export function nullTestOf(cond: Expr): { name: string; isNull: boolean } | undefined {
  let e = cond;
  let isNull = false;
  while (e.kind === 'unary' && e.op === '!') { e = e.arg; isNull = !isNull; }
  if (e.kind === 'binary' && (e.op === '==' || e.op === '!=') && (isIntValue(e.right, 0) || (e.right.kind === 'const' && e.right.name === 'NULL'))) {
    if (e.op === '==') isNull = !isNull;
    e = e.left;
  }
  return e.kind === 'var' ? { name: e.name, isNull } : undefined;
}
