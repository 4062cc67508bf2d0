// Same-file helper summaries for the GUP analysis: what a function does with each parameter
// that carries pages (releases them, and with which kind / count parameter; stores them; lets
// them escape to code we cannot see). Computed once per file, bottom-up through same-file calls,
// recursion-safe (a call back into a function being summarized counts as an escape).
//
// Summaries are flow-insensitive on purpose: a helper that releases on some path counts as a
// releasing helper, which keeps the caller silent (the rule catalog: prefer silence to false
// alarms). The "Keep track of GUPed pages in fs and block" thread's `foo_bi_end_io_common(bio,
// gup)` split is the motivating shape: a helper that picks put_page or the GUP release by a flag
// releases with kind 'either'.

import type { CallStmt, Expr, FileIR, FunctionIR } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { exprKey, rootVar } from './expr';
import { noteFunctionRead } from './file-facts';
import { findReleaseLoops, releaseLoopBound } from './release-loops';

export type ReleaseKind = 'get' | 'pin' | 'either';

export interface ParamEffect {
  /** Released by the helper (on some path). */
  release?: {
    kind: ReleaseKind;
    /** Parameter index holding how many entries are released, when it is a parameter. */
    countParam?: number;
    /** The count as a field of a parameter (`bo->pgnr`): the parameter and the field path after it. */
    countField?: { param: number; suffix: string };
    /** The release calls, for related locations and messages. */
    calls: CallStmt[];
    /** Released on every path through the helper (otherwise only on some, e.g. an error path). */
    always: boolean;
  };
  /** Stored into a struct / global, returned, or handed to a sink: the helper owns it. */
  handoff?: boolean;
  /** Passed to code we cannot see: no verdict about it. */
  escape?: boolean;
}

export interface FunctionRefSummary {
  name: string;
  params: ParamEffect[];
  /**
   * File globals the helper releases itself (`put_page(zero_page)` in a module's exit helper),
   * by name: a caller holding a reference kept in that global releases it by calling the helper.
   */
  globals: Map<string, NonNullable<ParamEffect['release']>>;
}

const cache = new WeakMap<FileIR, Map<string, FunctionRefSummary>>();
const byNameCache = new WeakMap<FileIR, Map<string, FunctionIR>>();

/** The file's functions by name (the first definition wins), built once per file. */
export function fileFunction(file: FileIR, name: string): FunctionIR | undefined {
  noteFunctionRead(name);
  let m = byNameCache.get(file);
  if (!m) {
    m = new Map();
    for (const f of file.functions) if (!m.has(f.name)) m.set(f.name, f);
    byNameCache.set(file, m);
  }
  return m.get(name);
}

function mergeKind(a: ReleaseKind | undefined, b: ReleaseKind): ReleaseKind {
  if (!a || a === b) return b;
  return 'either';
}

/** Summary of a same-file function by name, or undefined if the file does not define it. */
export function helperSummary(file: FileIR, name: string): FunctionRefSummary | undefined {
  noteFunctionRead(name);
  let m = cache.get(file);
  if (!m) {
    m = new Map();
    cache.set(file, m);
  }
  const hit = m.get(name);
  if (hit) return hit;
  const fn = fileFunction(file, name);
  if (!fn) return undefined;
  return summarize(file, fn, m, new Set());
}

function summarize(file: FileIR, fn: FunctionIR, memo: Map<string, FunctionRefSummary>, active: Set<string>): FunctionRefSummary {
  const hit = memo.get(fn.name);
  if (hit) return hit;
  active.add(fn.name);
  const params: ParamEffect[] = fn.params.map(() => ({}));
  const paramIndex = new Map(fn.params.map((p, i) => [p.name, i] as const));

  // Which locals carry (part of) a parameter: `struct page **pages = obj->pages;`. A small
  // fixpoint over the assignments, bounded by the number of locals.
  const carrier = new Map<string, number>();
  for (const [n, i] of paramIndex) carrier.set(n, i);
  const assigns = fn.blocks.flatMap((b) => b.stmts.filter((s) => s.kind === 'assign'));
  for (let round = 0; round < 8; round++) {
    let changed = false;
    for (const a of assigns) {
      if (a.kind !== 'assign' || a.target.kind !== 'var' || carrier.has(a.target.name)) continue;
      const r = rootVar(a.value);
      if (r !== undefined && carrier.has(r)) {
        carrier.set(a.target.name, carrier.get(r)!);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const paramOf = (e: Expr | undefined): number | undefined => {
    if (!e) return undefined;
    const r = rootVar(e);
    return r !== undefined ? carrier.get(r) : undefined;
  };
  const countParamOf = (e: Expr | undefined): number | undefined =>
    e && e.kind === 'var' ? paramIndex.get(e.name) : undefined;

  const loops = findReleaseLoops(fn);
  const loopCalls = new Map(loops.map((l) => [l.call, l] as const));
  // Blocks that release a parameter (for a release loop: its header, which every path through
  // the loop crosses), to tell "always releases" from "releases on some path".
  const releaseBlocks: Set<number>[] = fn.params.map(() => new Set<number>());
  const globals = new Map<string, NonNullable<ParamEffect['release']>>();
  const globalBlocks = new Map<string, Set<number>>();

  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind === 'assign') {
        const p = paramOf(s.value);
        if (p === undefined) continue;
        const t = s.target;
        const storesAway = t.kind !== 'var' || file.globals.includes(t.name);
        if (storesAway) params[p].handoff = true;
      } else if (s.kind === 'return') {
        const p = paramOf(s.value);
        if (p !== undefined) params[p].handoff = true;
      } else if (s.kind === 'havoc') {
        for (const [n, i] of carrier) if (new RegExp(`(^|[^A-Za-z0-9_$])${n.replace(/[$]/g, "\\$")}([^A-Za-z0-9_]|$)`).test(s.text)) params[i].escape = true;
      } else if (s.kind === 'call') {
        const api = lookupApi(s.callee);
        const r = api?.refs;
        if (r && r.op === 'release') {
          // A call short of its pages argument (`unpin_user_pages()` while typing, or a
          // mangled line) releases nothing we can name.
          const pagesArg = s.args[r.pagesArg] as Expr | undefined;
          if (!pagesArg) continue;
          const p = paramOf(pagesArg);
          const g = rootVar(pagesArg);
          if (p === undefined && g !== undefined && file.globals.includes(g) && fn.locals[g] === undefined) {
            const prev = globals.get(g);
            globals.set(g, { kind: mergeKind(prev?.kind, r.kind), calls: [...(prev?.calls ?? []), s], always: false });
            globalBlocks.set(g, (globalBlocks.get(g) ?? new Set<number>()).add(b.id));
            continue;
          }
          if (p === undefined) continue;
          const rl = loopCalls.get(s);
          let countParam: number | undefined;
          let countKey: string | undefined;
          if (r.countArg !== undefined) {
            countParam = countParamOf(s.args[r.countArg]);
            if (s.args[r.countArg]) countKey = exprKey(s.args[r.countArg]);
          } else if (rl) {
            const bound = releaseLoopBound(fn, rl, () => undefined);
            if (bound) {
              countParam = paramIndex.get(bound.key);
              countKey = bound.key;
            }
          }
          const countField = countParam === undefined && countKey !== undefined ? fieldOfParam(countKey, paramIndex) : undefined;
          const prev = params[p].release;
          const sameField = (a?: { param: number; suffix: string }, b?: { param: number; suffix: string }): boolean =>
            a !== undefined && b !== undefined && a.param === b.param && a.suffix === b.suffix;
          params[p].release = {
            kind: mergeKind(prev?.kind, r.kind),
            countField: prev ? (sameField(prev.countField, countField) ? countField : undefined) : countField,
            countParam: prev ? (prev.countParam === countParam ? countParam : undefined) : countParam,
            calls: [...(prev?.calls ?? []), s],
            always: false,
          };
          releaseBlocks[p].add(rl ? rl.loop.header : b.id);
        } else if (r && r.op === 'handoff') {
          const p = paramOf(s.args[r.pagesArg]);
          if (p !== undefined) params[p].handoff = true;
        } else if (api) {
          // A known non-owning user (kmap, set_page_dirty_lock, kfree of the array...).
        } else {
          const callee = fileFunction(file, s.callee);
          s.args.forEach((arg, ai) => {
            const p = paramOf(arg);
            if (p === undefined) return;
            if (!callee || active.has(callee.name)) {
              params[p].escape = true;
              return;
            }
            const sub = summarize(file, callee, memo, active).params[ai];
            if (!sub) {
              params[p].escape = true;
              return;
            }
            if (sub.handoff) params[p].handoff = true;
            if (sub.escape) params[p].escape = true;
            if (sub.release) {
              const prev = params[p].release;
              const cp = sub.release.countParam !== undefined ? countParamOf(s.args[sub.release.countParam]) : undefined;
              params[p].release = {
                kind: mergeKind(prev?.kind, sub.release.kind),
                countParam: prev ? (prev.countParam === cp ? cp : undefined) : cp,
                calls: [...(prev?.calls ?? []), ...sub.release.calls],
                always: false,
              };
              if (sub.release.always) releaseBlocks[p].add(b.id);
            }
          });
        }
      }
    }
  }
  params.forEach((eff, i) => {
    if (eff.release) eff.release.always = !exitAvoiding(fn, releaseBlocks[i]);
  });
  for (const [g, eff] of globals) eff.always = !exitAvoiding(fn, globalBlocks.get(g)!);
  active.delete(fn.name);
  const summary = { name: fn.name, params, globals };
  memo.set(fn.name, summary);
  return summary;
}

/** True when the exit is reachable from the entry without entering any of `avoid`. */
function exitAvoiding(fn: FunctionIR, avoid: Set<number>): boolean {
  if (avoid.has(fn.entry)) return false;
  const seen = new Set<number>([fn.entry]);
  const work = [fn.entry];
  while (work.length) {
    const b = work.pop()!;
    if (b === fn.exit) return true;
    for (const e of fn.blocks[b]?.succs ?? []) {
      if (avoid.has(e.to) || seen.has(e.to)) continue;
      seen.add(e.to);
      work.push(e.to);
    }
  }
  return false;
}

/** `bo->pgnr` with `bo` a parameter: that parameter and the path after it (`->pgnr`). */
function fieldOfParam(key: string, paramIndex: Map<string, number>): { param: number; suffix: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)((?:->|\.)[A-Za-z_][A-Za-z0-9_]*(?:(?:->|\.)[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(key);
  if (!m) return undefined;
  const i = paramIndex.get(m[1]);
  return i === undefined ? undefined : { param: i, suffix: m[2] };
}
