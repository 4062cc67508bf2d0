// The kernel memory-model state the simulator explores (ARCHITECTURE.md "The kernel model").
// Plain JSON data: cloning is a structural copy and the state hash is its canonical text, so two
// interleavings that reach the same kernel state are explored once.

import type { ArchProfile } from './profiles';

/** Values of the interpreted C: integers (addresses included), handles as strings, arrays, NULL/uninitialised = null. */
export type Val = number | string | null | Val[];

export type VmaKind = 'anon' | 'private-file' | 'shared-file' | 'tmpfs';

export interface Vma {
  start: number;
  end: number;
  kind: VmaKind;
  /** VM_WRITE */
  write: boolean;
  softDirty: boolean;
  /** VM_UFFD_WP */
  uffdWp: boolean;
  file?: string;
  /** File page index of vm_start. */
  pgoff?: number;
}

export interface Pte {
  page: number;
  present: boolean;
  write: boolean;
  dirty: boolean;
  young: boolean;
  softDirty: boolean;
  uffdWp: boolean;
}

export interface Page {
  id: number;
  anon: boolean;
  file?: string;
  index?: number;
  /** page_count(): one per mapping + GUP references + GUP_PIN_COUNTING_BIAS per pin (small folio). */
  refcount: number;
  /** Exact pin count, kept beside the bias so the oracles can tell a pin from 1024 references. */
  pincount: number;
  mapcount: number;
  dirty: boolean;
  /** Buffer heads attached (block-backed file pages; page_mkwrite attaches them). */
  buffers: boolean;
  blockBacked: boolean;
  anonExclusive: boolean;
  /** Label of the last store into the page ("CPU1 store @b2"), to tell lost writes apart. */
  content: string;
  /** What writeback last wrote to disk (file pages). */
  disk: string;
  /** Byte offsets (granule-aligned) inside the page whose MTE tag mismatches the user pointer's tag. */
  badGranules: number[];
  /** Outstanding GUP references / pins taken by the scenario's threads. */
  gupGets: number;
  gupPins: number;
  /** Where the GUP reference was taken: the mapping that must keep backing it. */
  gupFrom?: { mm: number; vpn: number; write: boolean };
  /** Freed (refcount reached 0). */
  freed?: boolean;
}

export interface Notifier {
  owner: number;
  /** Function (by name) run as the invalidate callback, on the invalidating thread. */
  callback: string;
  start: number;
  end: number;
}

export interface Mm {
  id: number;
  vmas: Vma[];
  /** Keyed by virtual page number (decimal). */
  ptes: Record<string, Pte>;
  /** mm->tlb_flush_pending */
  tlbFlushPending: number;
  /** MMF_HAS_PINNED */
  hasPinned: boolean;
  notifiers: Notifier[];
  /** PTEs write-protected whose TLB flush has not happened yet: vpn -> thread that did it. */
  unflushed: Record<string, number>;
  /** mmu_interval_notifier sequence and invalidations in progress (read_begin waits on them). */
  notifierSeq: number;
  invalidating: number;
}

export interface LockState {
  cls: string;
  writer: number;
  readers: number[];
  waitingWriters: number[];
}

export interface TlbEntry {
  page: number;
  write: boolean;
}

export interface Frame {
  fn: string;
  block: number;
  idx: number;
  env: Record<string, Val>;
  /** Multi-step statements (a COW in two halves, a callback round trip) keep their progress here. */
  phase: number;
  scratch: Val;
  /** Set while a callee frame runs for this frame's current call statement. */
  calling: boolean;
  /** Return value, once a `return` ran. */
  ret: Val;
}

export interface ThreadState {
  id: number;
  name: string;
  mm: number;
  frames: Frame[];
  done: boolean;
  retval: Val;
  /** pagefault_disable() depth. */
  pfDisabled: number;
  /** This CPU's TLB: vpn -> entry. */
  tlb: Record<string, TlbEntry>;
  /** Lock instance this thread is queued on. */
  waiting?: string;
  /** Killed by SIGSEGV from a user access. */
  segv?: boolean;
}

export interface FileState {
  /** Lock instance the filesystem's ->fault / ->page_mkwrite take (a gfs2 inode glock, i_rwsem...). */
  faultLock?: string;
  faultLockClass?: string;
  blockBacked: boolean;
  /** Page cache: page index -> page id. */
  pages: Record<string, number>;
}

export interface SimState {
  mms: Mm[];
  pages: Page[];
  files: Record<string, FileState>;
  locks: Record<string, LockState>;
  threads: ThreadState[];
  globals: Record<string, Val>;
}

export const GUP_PIN_COUNTING_BIAS = 1024;
/** struct page pointers: a vmemmap-like range, 64 bytes per struct page. */
export const VMEMMAP_BASE = 0xea0000000000;
export const STRUCT_PAGE_SIZE = 64;
/** Kernel virtual addresses of kmap/vmap'ed pages (kept below 2^53). */
export const KMAP_BASE = 0xff8000000000;

export function pageHandle(id: number): number {
  return VMEMMAP_BASE + id * STRUCT_PAGE_SIZE;
}

export function pageOfHandle(v: Val): number | undefined {
  if (typeof v !== 'number' || v < VMEMMAP_BASE || v >= KMAP_BASE) return undefined;
  const off = v - VMEMMAP_BASE;
  return off % STRUCT_PAGE_SIZE === 0 ? off / STRUCT_PAGE_SIZE : undefined;
}

export function kmapAddress(id: number, profile: ArchProfile): number {
  return KMAP_BASE + id * profile.pageSize;
}

export function pageOfKernelAddress(v: Val, profile: ArchProfile): { page: number; offset: number } | undefined {
  if (typeof v !== 'number' || v < KMAP_BASE) return undefined;
  const off = v - KMAP_BASE;
  return { page: Math.floor(off / profile.pageSize), offset: off % profile.pageSize };
}

export function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

function cloneVal(v: Val): Val {
  return Array.isArray(v) ? v.map(cloneVal) : v;
}

function cloneRecord<T>(r: Record<string, T>, f: (x: T) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k in r) out[k] = f(r[k]);
  return out;
}

/** Structural copy (hand-written: the explorer clones a state per transition). */
export function cloneState(s: SimState): SimState {
  return {
    mms: s.mms.map((m) => ({
      ...m,
      vmas: m.vmas.map((v) => ({ ...v })),
      ptes: cloneRecord(m.ptes, (p) => ({ ...p })),
      notifiers: m.notifiers.map((n) => ({ ...n })),
      unflushed: { ...m.unflushed },
    })),
    pages: s.pages.map((p) => ({ ...p, badGranules: p.badGranules.slice(), ...(p.gupFrom ? { gupFrom: { ...p.gupFrom } } : {}) })),
    files: cloneRecord(s.files, (f) => ({ ...f, pages: { ...f.pages } })),
    locks: cloneRecord(s.locks, (l) => ({ ...l, readers: l.readers.slice(), waitingWriters: l.waitingWriters.slice() })),
    threads: s.threads.map((t) => ({
      ...t,
      retval: cloneVal(t.retval),
      tlb: cloneRecord(t.tlb, (e) => ({ ...e })),
      frames: t.frames.map((f) => ({ ...f, env: cloneRecord(f.env, cloneVal), scratch: cloneVal(f.scratch), ret: cloneVal(f.ret) })),
    })),
    globals: cloneRecord(s.globals, cloneVal),
  };
}

/**
 * The state's identity for the explorer's visited set: a 53-bit hash (cyrb53) of its canonical
 * text, pre-mixed with the text length, so map lookups do not rehash kilobytes of JSON.
 */
export function stateKey(s: SimState): string {
  const str = JSON.stringify(s);
  let h1 = 0xdeadbeef ^ str.length;
  let h2 = 0x41c6ce57 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${(h2 >>> 0).toString(36)}.${(h1 >>> 0).toString(36)}.${str.length.toString(36)}`;
}

// ---- initial memory layout (scenario data) ----

export interface LayoutVma {
  start: number;
  pages: number;
  kind: VmaKind;
  write?: boolean;
  file?: string;
  pgoff?: number;
  uffdWp?: boolean;
  /** Which pages (index within the VMA) are present at start; default all. */
  present?: number[];
  /** Present pages mapped writable? default true for writable VMAs (shared-file pages start clean & write-protected unless dirty). */
  dirty?: boolean;
}

export interface LayoutFile {
  name: string;
  blockBacked?: boolean;
  faultLock?: string;
  faultLockClass?: string;
}

export interface Layout {
  vmas: LayoutVma[];
  files?: LayoutFile[];
  /** MTE: user addresses whose 16-byte granule has a mismatching tag. */
  badGranules?: number[];
  /** Pages already pinned / referenced by someone outside the scenario threads (a device, an RDMA MR). */
  pinnedBy?: { addr: number; pins?: number; gets?: number }[];
  /** Pre-populated TLB entries: thread index -> user addresses cached writable. */
  tlb?: Record<number, number[]>;
  /** Fork the first mm at start: mm 1 is the child (COW-shared anon pages). */
  forked?: boolean;
}

export function newPage(s: SimState, init: Partial<Page>): Page {
  const p: Page = {
    id: s.pages.length, anon: true, refcount: 0, pincount: 0, mapcount: 0, dirty: false, buffers: false,
    blockBacked: false, anonExclusive: false, content: 'initial', disk: 'initial', badGranules: [], gupGets: 0, gupPins: 0,
    ...init,
  };
  s.pages.push(p);
  return p;
}
