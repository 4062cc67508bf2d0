// "The writable check" of an mmu-notifier callback that dirties GUP'd pages (thread "vhost: access
// vq metadata through kernel virtual address", 2019-03-07: calling set_page_dirty() from the
// callback "is safe only if the page was map with write permission prior to the callback"; a
// writable pte means lock_page / page_mkwrite / set_pte_with_write / unlock_page already ran, and
// the callback comes before that pte loses its write bit). In code the check is a branch the
// dirtying is reached through, whose condition holds only when the pages are writable:
//
//  - a write-permission test of the API table: a PTE/PMD write-bit test (`writeBitTest` facet:
//    pte_write(), pmd_write()...), or a flags test naming a write flag (`vma->vm_flags & VM_WRITE`,
//    `flags & FOLL_WRITE`);
//  - or the same test that chose to take the pages writable where the file took them with GUP:
//    the `write` argument of the pre-gup_flags calls (`__get_user_pages_fast(.., uaddr->write, ..)`
//    then `if (uaddr->write)` in the callback), or the condition that puts FOLL_WRITE into the flags
//    (`if (access & XX_WRITE_BIT) flags |= FOLL_WRITE` then `if (dma & XX_WRITE_BIT)`). Compared
//    on their shape with the object they hang off left out (the callback reaches the same field
//    through another pointer); a condition on a local variable alone is not comparable and does not
//    count.

import type { Expr, FunctionIR, Stmt } from '../ir';
import { lookupApi } from '../kernel/api-table';
import { WRITABLE_VMA_FLAGS, WRITE_GUP_FLAGS } from '../kernel/api/vma';
import { mentionsName } from './expr';
import { fileFact } from './file-facts';

/** A condition reduced to an atom and its polarity (`!x` -> x false, `x != 0` -> x true). */
interface Test {
  atom: Expr;
  pos: boolean;
}

function norm(e: Expr): Test {
  if (e.kind === 'unary' && e.op === '!') { const t = norm(e.arg); return { atom: t.atom, pos: !t.pos }; }
  if (e.kind === 'binary' && (e.op === '!=' || e.op === '==')) {
    const zero = (x: Expr): boolean => x.kind === 'int' && x.value === 0;
    if (zero(e.right) || zero(e.left)) {
      const t = norm(zero(e.right) ? e.left : e.right);
      return { atom: t.atom, pos: e.op === '!=' ? t.pos : !t.pos };
    }
    if (e.op === '!=') return { atom: { ...e, op: '==' }, pos: false };
  }
  return { atom: e, pos: true };
}

/**
 * The shape of a test with the objects left out: fields keep their names (`*.write`), constants
 * theirs, variables become `*`. Undefined when nothing named is left (a test of a local alone).
 */
function shape(e: Expr): string | undefined {
  let named = false;
  const walk = (x: Expr): string => {
    switch (x.kind) {
      case 'field': named = true; return `*.${x.name}`;
      case 'const': named = true; return x.name;
      case 'var': return '*';
      case 'int': return String(x.value);
      case 'index': return `${walk(x.base)}[]`;
      case 'unary': return `${x.op}${walk(x.arg)}`;
      case 'binary': return `(${walk(x.left)} ${x.op} ${walk(x.right)})`;
      case 'unknown': return '?';
    }
  };
  const s = walk(e);
  return named ? s : undefined;
}

/** A test that chose writable pages at a GUP call: its shape and polarity. */
export interface WriteSelector {
  shape: string;
  pos: boolean;
}

function selectorOf(cond: Expr): WriteSelector | undefined {
  const t = norm(cond);
  const s = shape(t.atom);
  return s ? { shape: s, pos: t.pos } : undefined;
}

/** Edges into block `id` (one CFG). */
function preds(fn: FunctionIR, id: number): { from: number; cond?: Expr }[] {
  const out: { from: number; cond?: Expr }[] = [];
  for (const b of fn.blocks) for (const e of b.succs) if (e.to === id) out.push({ from: b.id, ...(e.cond ? { cond: e.cond } : {}) });
  return out;
}

/** The branch conditions a block is entered through, looking past unconditional single entries. */
function entryConds(fn: FunctionIR, id: number): Expr[] {
  let cur = id;
  for (let depth = 0; depth < 8; depth++) {
    const ps = preds(fn, cur);
    const conds = ps.flatMap((p) => (p.cond ? [p.cond] : []));
    if (conds.length) return conds;
    if (ps.length !== 1) return [];
    cur = ps[0]!.from;
  }
  return [];
}

/** Adds `s` to `out` unless a selector of the same shape and sense is there already. */
function addSelector(out: WriteSelector[], s: WriteSelector): void {
  if (!out.some((x) => x.shape === s.shape && x.pos === s.pos)) out.push(s);
}

/** The tests with which the file's GUP calls choose writable pages (a file-wide fact). */
export const fileWriteSelectors = fileFact('gupWriteSelectors', (byName: Map<string, FunctionIR>): WriteSelector[] => {
  const out: WriteSelector[] = [];
  for (const f of byName.values()) for (const s of writeSelectorsOf(f)) addSelector(out, s);
  return out;
});

/** The tests in `fn` that decide whether its GUP calls take writable pages. */
function writeSelectorsOf(fn: FunctionIR): WriteSelector[] {
  const out: WriteSelector[] = [];
  const add = (c: Expr): void => { const s = selectorOf(c); if (s) addSelector(out, s); };
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const r = lookupApi(s.callee)?.refs;
      if (r?.op !== 'acquire') continue;
      const w = r.writeArg !== undefined ? s.args[r.writeArg] : undefined;
      if (w && w.kind !== 'int') add(w);
      const fa = r.byArity?.[s.args.length]?.flagsArg ?? r.flagsArg;
      const flags = fa !== undefined ? s.args[fa] : undefined;
      if (!flags) continue;
      const vars = new Set<string>();
      const collect = (x: Expr): void => { if (x.kind === 'var') vars.add(x.name); else if (x.kind === 'binary') { collect(x.left); collect(x.right); } };
      collect(flags);
      // Assignments that put a write flag into a flags variable, and the branches they sit under.
      for (const ab of fn.blocks) {
        for (const a of ab.stmts) {
          if (a.kind !== 'assign' || a.target.kind !== 'var' || !vars.has(a.target.name)) continue;
          if (!WRITE_GUP_FLAGS.some((f) => mentionsName(a.value, f))) continue;
          for (const c of entryConds(fn, ab.id)) add(c);
        }
      }
    }
  }
  return out;
}

/** `cond` holds only when the pages are writable (see the header). */
function assertsWritable(fn: FunctionIR, cond: Expr, selectors: readonly WriteSelector[]): boolean {
  const t = norm(cond);
  if (!t.pos) return false;
  if ([...WRITABLE_VMA_FLAGS, ...WRITE_GUP_FLAGS].some((f) => mentionsName(t.atom, f))) return true;
  // `if (pte_write(pte))`: the lowering tests the call's result (a temporary).
  if (t.atom.kind === 'var') {
    const name = t.atom.name;
    const def = fn.blocks.flatMap((b) => b.stmts).find((s) => s.kind === 'call' && s.result?.kind === 'var' && s.result.name === name);
    if (def?.kind === 'call' && lookupApi(def.callee)?.writeBitTest) return true;
  }
  const s = shape(t.atom);
  return !!s && selectors.some((x) => x.shape === s && x.pos);
}

/**
 * Every path from the function's entry to `st` goes through a branch whose condition asserts that
 * the pages are writable.
 */
export function writableGuarded(fn: FunctionIR, st: Stmt, selectors: readonly WriteSelector[]): boolean {
  const target = fn.blocks.find((b) => b.stmts.includes(st));
  if (!target) return false;
  const byId = new Map(fn.blocks.map((b) => [b.id, b] as const));
  const seen = new Set<number>([fn.entry]);
  const work = [fn.entry];
  while (work.length) {
    const id = work.pop()!;
    if (id === target.id) return false;
    for (const e of byId.get(id)?.succs ?? []) {
      if (seen.has(e.to) || (e.cond && assertsWritable(fn, e.cond, selectors))) continue;
      seen.add(e.to);
      work.push(e.to);
    }
  }
  return true;
}
