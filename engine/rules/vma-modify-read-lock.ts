// vma-modify-read-lock (the locking discussion in thread "fs/task_mmu: acquire mmap_lock for write
// on soft-dirty cleanup"; include/linux/mmap_lock.h): vm_start, vm_end
// or vm_flags of a VMA written while mmap_lock is held only for read. Readers of the VMA tree
// (page faults, GUP, /proc walkers) run concurrently under the same read lock and see the VMA
// change under them. Silent under mmap_write_lock, and before v6.5 in stack expansion (the function
// tests the VMA's growth flag: expand_downwards/upwards serialised on their own locks under the
// read lock until v6.5, which made stack expansion take the write lock).

import type { Finding } from '../findings';
import type { Expr, FunctionIR, SourceRange, Stmt } from '../ir';
import type { Rule, RuleMeta } from './types';
import { lookupApi } from '../kernel/api-table';
import { STACK_GROWTH_FIELDS, STACK_GROWTH_FLAGS, VMA_LOCKED_FIELDS } from '../kernel/api/vma';
import { heldOfClass, lockAnalysisFor, lockOf } from '../analysis/locksets';
import { varsOf } from '../analysis/expr';
import { kernelSwitches } from '../kernel/versions';
import { mmapLockOp, mmapOrRwsemLock } from './facets';
import { RWSEM_CLASS_BY_FIELD } from '../kernel/api/locks';
import { fileFact } from '../analysis/file-facts';
import { functionsReaching, type ReachMemo } from '../analysis/reaching';
import { writeLockFix } from '../analysis/lock-upgrade';

const meta: RuleMeta = {
  id: 'vma-modify-read-lock',
  severity: 'warning',
  title: 'VMA bounds or flags changed under mmap_read_lock',
  docs: 'docs/rules/vma-modify-read-lock.md',
  description:
    'vm_start, vm_end or vm_flags of a VMA is written while mmap_lock is held only for read: page faults, GUP and other readers run concurrently under the same read lock and see the VMA change under them. Take mmap_write_lock (vm_flags_set() asserts it since v6.3). Stack expansion (VM_GROWSDOWN / VM_GROWSUP) is the historical exception.',
};

interface VmaWrite {
  stmt: Stmt;
  field: string;
  /** Through a call of the API table (vm_flags_set, expand_downwards) on a VMA already in the tree. */
  api?: string;
  /** The table says it is stack expansion (allowed under the read lock before v6.5). */
  stackExpansion?: boolean;
  fn: string;
  range: SourceRange;
  chain: string[];
}

const MAX_DEPTH = 4;

/** testsGrowth per function (a pure function of the lowered function; the rule asks it per caller). */
const growthMemo = new WeakMap<FunctionIR, boolean>();

function testsGrowth(fn: FunctionIR): boolean {
  const hit = growthMemo.get(fn);
  if (hit !== undefined) return hit;
  const flags = new Set(STACK_GROWTH_FLAGS);
  const mentions = (e: Expr | undefined): boolean => !!e && [...varsOf(e)].some((v) => flags.has(v)) || (!!e && JSON.stringify(e).includes('"const"') && STACK_GROWTH_FLAGS.some((f) => JSON.stringify(e).includes(`"${f}"`)));
  const r = fn.blocks.some((b) => b.succs.some((e) => mentions(e.cond)) || b.stmts.some((s) => s.kind === 'assign' && mentions(s.value)));
  growthMemo.set(fn, r);
  return r;
}

/**
 * The locked VMA field a statement stores into, if any: an assignment, and also a call whose result
 * the lowering stores there (`vma->vm_end = f(x)` is one `call` statement with the field as its
 * result) and an unknown value stored there (`havoc` with that target).
 */
function vmaFieldStored(s: Stmt): string | undefined {
  const t = s.kind === 'assign' ? s.target : s.kind === 'call' ? s.result : s.kind === 'havoc' ? s.target : undefined;
  return t?.kind === 'field' && VMA_LOCKED_FIELDS.includes(t.name) ? t.name : undefined;
}

/** A write writesIn() reports without looking into a helper: a store into a VMA field or a vmaWrite API call. */
function writesDirectly(fn: FunctionIR): boolean {
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (vmaFieldStored(s)) return true;
      if (s.kind === 'call' && lookupApi(s.callee)?.vmaWrite) return true;
    }
  }
  return false;
}

/**
 * The functions of a file from which writesIn() can find a write: a direct writer, or a caller
 * (through same-file helpers that are not API-table entries, the calls writesIn() follows) of
 * one, at any depth. A superset of what writesIn() reaches (it stops at MAX_DEPTH, at recursion
 * and at growth tests), so a function outside it has no write and the rule has nothing to say:
 * the rule skips it without walking its helpers (most functions of a file; the walk is
 * exponential in the helper depth). Per helper map, like the other per-file analyses.
 */
const mayWriteOf: ReachMemo = new WeakMap();

const mayWrite = fileFact('vmaMayWrite', (byName: Map<string, FunctionIR>): ReadonlySet<FunctionIR> => functionsReaching(byName, mayWriteOf, ownWrites));

/**
 * One function's part of mayWrite: whether it writes directly, and the calls that are not API-table
 * entries (one per call). Per lowered body (the blocks array, which the language server's session
 * shares between its copies of an unchanged function), so the file-wide set is cheap to rebuild.
 */
const ownWritesMemo = new WeakMap<object, { direct: boolean; callees: string[] }>();

function ownWrites(fn: FunctionIR): { direct: boolean; callees: string[] } {
  const hit = ownWritesMemo.get(fn.blocks);
  if (hit) return hit;
  const callees: string[] = [];
  for (const b of fn.blocks) for (const s of b.stmts) if (s.kind === 'call' && !lookupApi(s.callee)) callees.push(s.callee);
  const r = { direct: writesDirectly(fn), callees };
  ownWritesMemo.set(fn.blocks, r);
  return r;
}

/**
 * The VMA writes of fn and its same-file helpers. `growthUnderReadLock`: the kernel lets stack
 * expansion move a VMA under the read lock (before v6.5), so a function that tests the growth flag
 * is skipped; from v6.5 its writes are reported like any other (its vm_start / vm_end writes
 * marked as stack expansion, for the message).
 */
function writesIn(fn: FunctionIR, byName: Map<string, FunctionIR>, level: number, stack: Set<FunctionIR>, growthUnderReadLock: boolean): VmaWrite[] {
  if (level > MAX_DEPTH || stack.has(fn)) return [];
  const growth = testsGrowth(fn);
  if (growth && growthUnderReadLock) return [];
  stack.add(fn);
  const out: VmaWrite[] = [];
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      const field = vmaFieldStored(s);
      if (field) out.push({ stmt: s, field, ...(growth && STACK_GROWTH_FIELDS.includes(field) ? { stackExpansion: true } : {}), fn: fn.name, range: s.range, chain: [] });
      // A call is also followed for what it writes itself (its result may be stored into a field too).
      if (s.kind === 'call') {
        const api = lookupApi(s.callee);
        if (api?.vmaWrite) {
          out.push({ stmt: s, field: api.vmaWrite.field, api: s.callee, ...(api.vmaWrite.stackExpansion ? { stackExpansion: true } : {}), fn: fn.name, range: s.range, chain: [] });
          continue;
        }
        if (api) continue;
        const h = byName.get(s.callee);
        if (!h) continue;
        for (const w of writesIn(h, byName, level + 1, stack, growthUnderReadLock)) out.push({ ...w, stmt: s, chain: [h.name, ...w.chain] });
      }
    }
  }
  stack.delete(fn);
  return out;
}

/**
 * Where the function itself takes mmap_lock (so its callers do not hold it on entry), if it does.
 * Only a blocking acquire says so: a trylock is also how code asserts that the caller holds the
 * lock for write (`BUG_ON(mmap_read_trylock(mm))` in v6.3+'s vm_insert_pages()).
 */
function ownMmapLock(fn: FunctionIR): Stmt | undefined {
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      if (s.kind !== 'call') continue;
      const l = lockOf(s);
      if (l && l.cls === 'mmap_lock' && l.op === 'acquire') return s;
    }
  }
  return undefined;
}

export const vmaModifyReadLock: Rule = {
  meta,
  // Both findings need a write to a VMA (a locked field assigned, or a `vmaWrite` call) and an
  // mmap_lock call (a table call of that class, or an rwsem call on a field the table maps to it).
  relevance: {
    trigger: (e) => !!e.vmaWrite || mmapOrRwsemLock(e),
    needs: [
      { why: 'an mmap_lock call', api: mmapLockOp, words: () => Object.keys(RWSEM_CLASS_BY_FIELD).filter((f) => RWSEM_CLASS_BY_FIELD[f] === 'mmap_lock') },
      { why: 'a VMA write', api: (e) => !!e.vmaWrite, words: () => VMA_LOCKED_FIELDS },
    ],
    // Callers stay (writesIn() finds a write through helpers, and the write is reported in the
    // function that holds the lock). Callees are needed only if they reach what the rule reads
    // of a helper: writesIn() follows a call into a same-file helper for its VMA field
    // assignments (VMA_LOCKED_FIELDS, the field's identifier) and `vmaWrite` calls, mayWrite() is
    // the callers of those, and the lockset summaries (locksets.ts) read `lock` and
    // `faultLockWindow` calls. A helper that reaches none of them has no write, is not in
    // mayWrite(), and has an empty lock summary at any depth: what a call to a function outside
    // the text reads as. ownMmapLock() and testsGrowth() read the function itself.
    reads: { api: (e) => !!(e.lock || e.faultLockWindow || e.vmaWrite), words: () => VMA_LOCKED_FIELDS },
  },
  check(fn: FunctionIR, ctx): Finding[] {
    // writesIn() looks up helpers by name in ctx.functionsByName; `fn` itself may be absent from
    // it (a second definition of the same name), so a function outside the map is walked as before.
    const byName = ctx.functionsByName;
    if (byName.get(fn.name) === fn && !mayWrite(byName).has(fn)) return [];
    const growthUnderReadLock = kernelSwitches(ctx.kernel).stackExpansionUnderReadLock;
    const writes = writesIn(fn, byName, 0, new Set(), growthUnderReadLock);
    if (!writes.length) return [];
    const locks = lockAnalysisFor(ctx.functionsByName, ctx.cancelled).facts(fn);
    const out: Finding[] = [];
    // One finding per store in the source: the lowering splits `f = c ? a : b` into one statement
    // per branch, with the same range.
    const seen = new Set<string>();
    const key = (st: Stmt): string => `${st.range.start}:${st.range.end}`;
    for (const w of writes) {
      if (seen.has(key(w.stmt))) continue;
      const held = heldOfClass(locks.before.get(w.stmt), 'mmap_lock');
      const via = w.chain.length ? ` (in ${w.chain.join('() -> ')}())` : '';
      // A table call that changes a VMA of the tree with no mmap_lock at all, in a function that
      // takes mmap_lock itself (so its caller cannot be holding it): not even the read lock.
      const own = w.api && !held.length && !w.chain.length ? ownMmapLock(fn) : undefined;
      if (own && own.kind === 'call') {
        seen.add(key(w.stmt));
        out.push({
          rule: meta.id, severity: meta.severity, function: fn.name, range: w.stmt.range,
          message: `${w.field} of a VMA is written by ${w.api}() with no mmap_lock held: ${fn.name}() takes mmap_lock itself (${own.callee}() on line ${own.range.startRow + 1}), so its caller does not hold it here, and page faults, GUP and munmap see the VMA change under them. Take mmap_write_lock() around the change${w.stackExpansion ? ' (stack expansion needs it since v6.5)' : ''}.`,
          related: [{ range: own.range, message: `mmap_lock is taken only here (${own.callee}())` }],
        });
        continue;
      }
      const read = held.find((h) => h.mode === 'read' || h.mode === 'shared');
      if (!read || held.some((h) => h.mode === 'write')) continue;
      // Stack expansion under the read lock is the pre-v6.5 design; since v6.5 it needs the write lock.
      if (w.stackExpansion && growthUnderReadLock) continue;
      seen.add(key(w.stmt));
      // Renaming the read lock and its unlocks, when they are all calls of this function.
      const fix = writeLockFix(fn, byName, read, ctx.kernel);
      out.push({
        ...(fix ? { fixes: [fix] } : {}),
        rule: meta.id, severity: meta.severity, function: fn.name, range: w.stmt.range,
        message: `${w.field} of a VMA is written${via} while mmap_lock is held only for read (${read.site.callee}() on line ${read.site.range.startRow + 1}): page faults and GUP walk the VMA concurrently under the same read lock. Take mmap_write_lock() for the change${w.stackExpansion ? ' (stack expansion needs it since v6.5)' : ''}.`,
        related: [{ range: read.site.range, message: `mmap_lock taken for read (${read.site.callee}())` }, ...(w.chain.length ? [{ range: w.range, message: `${w.field} written in ${w.fn}()` }] : [])],
      });
    }
    return out;
  },
};
