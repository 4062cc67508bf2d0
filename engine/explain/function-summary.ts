// Which functions deserve a code lens, and what the lens says (ARCHITECTURE.md, LSP: "code lens
// over functions that contain a fault-in loop, GUP acquisitions or lock+uaccess"). Computed from
// the IR and the API table only: no API names here, the table says what a callee does.

import type { Block, CallStmt, FileIR, FunctionIR, LoopInfo, SourceRange } from '../ir';
import { lookupApi } from '../kernel/api-table';
import type { LockEffect } from '../kernel/api/mm-schema';
import { exprText } from '../ir-text';

export { exprText };

export interface FunctionSummary {
  name: string;
  range: SourceRange;
  nameRange: SourceRange;
  /**
   * Calls that take page references or pins (refs facet `acquire`): threads "Keep track of GUPed
   * pages in fs and block", "vhost: access vq metadata through kernel virtual address".
   */
  gupAcquisitions: CallStmt[];
  /**
   * Loops whose body calls a fault_in_* helper (faultIn facet): the retry loops of threads "Avoid
   * live-lock in fault-in+uaccess loops with sub-page faults", "gfs2: Fix mmap + page fault deadlocks".
   */
  faultInLoops: LoopInfo[];
  /**
   * uaccess / fault-in calls reachable while a lock may be held (lock facet): the gfs2 glock
   * deadlock shape of thread "gfs2: Fix mmap + page fault deadlocks" (commit 00bfe02f4796), or
   * mmap_lock around a copy (include/linux/mmap_lock.h).
   */
  uaccessUnderLock: { call: CallStmt; locks: string[] }[];
}

export interface SummaryOptions {
  cancelled?: () => boolean;
}

/** True when the summary has anything a lens should show. */
export function isInteresting(s: FunctionSummary): boolean {
  return s.gupAcquisitions.length > 0 || s.faultInLoops.length > 0 || s.uaccessUnderLock.length > 0;
}

function calls(block: Block): CallStmt[] {
  const out: CallStmt[] = [];
  for (const s of block.stmts) if (s.kind === 'call') out.push(s);
  return out;
}


/**
 * Locks that make a user access worth a look: those the page-fault path itself may take (the
 * table's `takenByFaultPath`: gfs2 glock, inode lock — thread "gfs2: Fix mmap + page fault
 * deadlocks", commit 00bfe02f4796), mmap_lock and the per-VMA lock (the fault handler takes them,
 * include/linux/mmap_lock.h), the page lock (a fault on the same page needs it), and spinlocks (a
 * fault may sleep). A driver mutex around a copy is everyday kernel code and would make the lens
 * noise.
 */
const FAULT_RELEVANT_CLASSES = new Set(['mmap_lock', 'vma_lock', 'page_lock', 'spinlock']);

function faultRelevant(lock: LockEffect | undefined): boolean {
  return !!lock && (lock.takenByFaultPath === true || FAULT_RELEVANT_CLASSES.has(lock.lock));
}

/**
 * May-held lockset per block entry, a plain forward union fixpoint. Each lock is keyed by its
 * class and instance text. The iteration is bounded (every fixpoint has a budget: DEVELOPING.md):
 * locksets only grow, so blocks × distinct locks bounds it; the cap guards against surprises.
 */
function uaccessUnderLock(fn: FunctionIR, cancelled: () => boolean): { call: CallStmt; locks: string[] }[] {
  const n = fn.blocks.length;
  const byId = new Map<number, Block>();
  for (const b of fn.blocks) byId.set(b.id, b);
  // Cheap exit: a function that takes no lock at all cannot have uaccess under a lock.
  let anyLock = false;
  for (const b of fn.blocks) for (const c of calls(b)) if (faultRelevant(lookupApi(c.callee)?.lock)) anyLock = true;
  if (!anyLock) return [];

  const entry = new Map<number, Set<string>>();
  entry.set(fn.entry, new Set());
  const work: number[] = [fn.entry];
  const queued = new Set<number>(work);
  let steps = 0;
  const budget = Math.max(1000, n * 64);
  const transfer = (held: Set<string>, c: CallStmt): void => {
    const lock = lookupApi(c.callee)?.lock;
    if (!lock || !faultRelevant(lock)) return;
    const cls = lock.lock;
    const inst = lock.arg !== undefined ? exprText(c.args[lock.arg]) : '';
    const key = inst ? `${cls} ${inst}` : cls;
    if (lock.op === 'acquire' || lock.op === 'trylock') held.add(key);
    else if (lock.op === 'release') {
      if (!held.delete(key)) {
        // Released through a different spelling of the instance: drop every lock of that class
        // rather than invent a lock that stays held forever.
        for (const k of [...held]) if (k === cls || k.startsWith(`${cls} `)) held.delete(k);
      }
    }
  };
  while (work.length && steps++ < budget) {
    if ((steps & 63) === 0 && cancelled()) return [];
    const id = work.shift()!;
    queued.delete(id);
    const b = byId.get(id);
    if (!b) continue;
    const held = new Set(entry.get(id));
    for (const c of calls(b)) transfer(held, c);
    for (const e of b.succs) {
      const prev = entry.get(e.to);
      let changed = false;
      if (!prev) {
        entry.set(e.to, new Set(held));
        changed = true;
      } else {
        for (const k of held)
          if (!prev.has(k)) {
            prev.add(k);
            changed = true;
          }
      }
      if (changed && !queued.has(e.to)) {
        queued.add(e.to);
        work.push(e.to);
      }
    }
  }
  const out: { call: CallStmt; locks: string[] }[] = [];
  for (const b of fn.blocks) {
    const held = new Set(entry.get(b.id));
    for (const c of calls(b)) {
      const api = lookupApi(c.callee);
      if ((api?.uaccess || api?.faultIn) && held.size > 0) out.push({ call: c, locks: [...held] });
      transfer(held, c);
    }
  }
  return out;
}

export function summarizeFunction(fn: FunctionIR, opts: SummaryOptions = {}): FunctionSummary {
  const cancelled = opts.cancelled ?? (() => false);
  const gupAcquisitions: CallStmt[] = [];
  for (const b of fn.blocks) for (const c of calls(b)) if (lookupApi(c.callee)?.refs?.op === 'acquire') gupAcquisitions.push(c);

  const byId = new Map<number, Block>();
  for (const b of fn.blocks) byId.set(b.id, b);
  const faultInLoops: LoopInfo[] = [];
  for (const loop of fn.loops) {
    const hasFaultIn = loop.body.some((id) => {
      const b = byId.get(id);
      return b ? calls(b).some((c) => lookupApi(c.callee)?.faultIn !== undefined) : false;
    });
    if (!hasFaultIn) continue;
    // Nested loops share body blocks: count the innermost loop only, so one retry loop is one lens item.
    const inner = fn.loops.some(
      (other) => other !== loop && other.body.length < loop.body.length && other.body.every((id) => loop.body.includes(id)) &&
        other.body.some((id) => {
          const b = byId.get(id);
          return b ? calls(b).some((c) => lookupApi(c.callee)?.faultIn !== undefined) : false;
        }),
    );
    if (!inner) faultInLoops.push(loop);
  }

  return {
    name: fn.name,
    range: fn.range,
    nameRange: fn.nameRange,
    gupAcquisitions,
    faultInLoops,
    uaccessUnderLock: uaccessUnderLock(fn, cancelled),
  };
}

/** Summaries of the functions that deserve a lens, in source order. */
export function summarizeFile(file: FileIR, opts: SummaryOptions = {}): FunctionSummary[] {
  const out: FunctionSummary[] = [];
  for (const fn of file.functions) {
    if (opts.cancelled?.()) break;
    const s = summarizeFunction(fn, opts);
    if (isInteresting(s)) out.push(s);
  }
  return out;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "Faultline: 2 GUP acquisitions · 1 fault-in loop · 1 finding". */
export function lensTitle(s: FunctionSummary, findings: number): string {
  const parts: string[] = [];
  if (s.gupAcquisitions.length) parts.push(plural(s.gupAcquisitions.length, 'GUP acquisition', 'GUP acquisitions'));
  if (s.faultInLoops.length) parts.push(plural(s.faultInLoops.length, 'fault-in loop', 'fault-in loops'));
  if (s.uaccessUnderLock.length) parts.push(plural(s.uaccessUnderLock.length, 'uaccess under lock', 'uaccesses under lock'));
  parts.push(findings === 0 ? 'no findings' : plural(findings, 'finding', 'findings'));
  return `Faultline: ${parts.join(' · ')}`;
}
