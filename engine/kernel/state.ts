// The kernel memory-model state the simulator explores (ARCHITECTURE.md "The kernel model").
// Plain JSON data: cloning is a structural copy and two states are the same when their canonical
// texts are (stateHash hashes that without building the text), so two
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

// Copies keep every object's key order (a spread, then fields replaced in place): the state's
// identity is its canonical text, where key order counts.

/** A record of values: a spread, then arrays copied (scalars and strings are immutable). */
function cloneVals(r: Record<string, Val>): Record<string, Val> {
  const out = { ...r };
  for (const k in out) {
    const v = out[k];
    if (Array.isArray(v)) out[k] = cloneVal(v);
  }
  return out;
}

/** A record of flat objects (PTEs, TLB entries). */
function cloneFlat<T extends object>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k in r) out[k] = { ...r[k] };
  return out;
}

/** Structural copy (hand-written: the explorer clones a state per transition). */
export function cloneState(s: SimState): SimState {
  const c = cloneThreadParts(s);
  ownKernelParts(c);
  return c;
}

/**
 * A copy of the threads and globals; the kernel parts (mms, pages, files, locks) are the same
 * objects as in `s` until ownKernelParts copies them (engine/sim/interp.ts copies them before the
 * first statement of a transition that may write them).
 */
export function cloneThreadParts(s: SimState): SimState {
  const threads = new Array<ThreadState>(s.threads.length);
  for (let i = 0; i < threads.length; i++) {
    const t = s.threads[i];
    const c = { ...t };
    c.retval = cloneVal(t.retval);
    c.tlb = cloneFlat(t.tlb);
    const frames = new Array<Frame>(t.frames.length);
    for (let j = 0; j < frames.length; j++) {
      const f = t.frames[j];
      const d = { ...f };
      d.env = cloneVals(f.env);
      d.scratch = cloneVal(f.scratch);
      d.ret = cloneVal(f.ret);
      frames[j] = d;
    }
    c.frames = frames;
    threads[i] = c;
  }
  return { mms: s.mms, pages: s.pages, files: s.files, locks: s.locks, threads, globals: cloneVals(s.globals) };
}

/** Replace the kernel parts of `s` by copies of their own (in place). */
export function ownKernelParts(s: SimState): void {
  const mms = new Array<Mm>(s.mms.length);
  for (let i = 0; i < mms.length; i++) {
    const m = s.mms[i];
    const c = { ...m };
    c.vmas = m.vmas.map((v) => ({ ...v }));
    c.ptes = cloneFlat(m.ptes);
    c.notifiers = m.notifiers.map((n) => ({ ...n }));
    c.unflushed = { ...m.unflushed };
    mms[i] = c;
  }
  const pages = new Array<Page>(s.pages.length);
  for (let i = 0; i < pages.length; i++) {
    const p = s.pages[i];
    const c = { ...p };
    c.badGranules = p.badGranules.slice();
    if (p.gupFrom) c.gupFrom = { ...p.gupFrom };
    pages[i] = c;
  }
  const files: Record<string, FileState> = {};
  for (const k in s.files) {
    const f = s.files[k];
    const c = { ...f };
    c.pages = { ...f.pages };
    files[k] = c;
  }
  const locks: Record<string, LockState> = {};
  for (const k in s.locks) {
    const l = s.locks[k];
    const c = { ...l };
    c.readers = l.readers.slice();
    c.waitingWriters = l.waitingWriters.slice();
    locks[k] = c;
  }
  s.mms = mms;
  s.pages = pages;
  s.files = files;
  s.locks = locks;
}

/**
 * The state's canonical text (JSON): the reference definition of "the same state". The explorer
 * does not build it (see stateHash); tests check that stateHash agrees with it.
 */
export function stateText(s: SimState): string {
  return JSON.stringify(s);
}

/**
 * The explorer's former key: a 53-bit hash (cyrb53) of the canonical text. Same equality as
 * stateHash, at the cost of building the text; kept for the bench's baseline (Budget.textKeys).
 */
export function stateTextHash(s: SimState): number {
  const str = JSON.stringify(s);
  let a = 0xdeadbeef ^ str.length;
  let b = 0x41c6ce57 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
  }
  return finish53(a, b);
}

/** cyrb53's final avalanche of two 32-bit lanes into a 53-bit number (stateTextHash, stateHash). */
function finish53(x: number, y: number): number {
  const a = Math.imul(x ^ (x >>> 16), 2246822507) ^ Math.imul(y ^ (y >>> 13), 3266489909);
  const b = Math.imul(y ^ (y >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  return (b & 0x1fffff) * 4294967296 + (a >>> 0);
}

// ---- structural state hash (the explorer's visited-set key) ----
//
// The same equality as the canonical text (two states hash alike exactly when JSON.stringify
// gives the same text, up to 53-bit collisions), computed by walking the state instead of
// building kilobytes of text and hashing it character by character: a prefix-free token stream
// (a tag per value kind, object keys in JSON's own order, array lengths, closing tags) fed into
// two 32-bit multiplicative lanes. JSON's quirks are kept: a property whose value is undefined
// is absent, NaN and +-Infinity read as null, -0 as 0. Strings (property names, lock and function
// names, store labels: a small, repetitive set) are hashed once and memoized.

const T_NULL = 0x6e756c6c;
const T_TRUE = 0x74727565;
const T_FALSE = 0x66616c73;
const T_INT = 0x696e7420;
const T_NUM = 0x6e756d20;
const T_STR = 0x73747220;
const T_ARR = 0x61727220;
const T_OBJ = 0x6f626a20;
const T_END = 0x656e6420;
const T_KEY = 0x6b657920;

let h1 = 0;
let h2 = 0;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function mix(x: number): void {
  h1 = Math.imul(h1 ^ x, 2654435761);
  h2 = Math.imul(h2 ^ x, 1597334677);
  h1 ^= h1 >>> 15;
  h2 ^= h2 >>> 13;
}

/** Two 32-bit lanes of a string's hash, memoized (a bounded cache: it is cleared when full). */
const STR_CACHE = 1 << 16;
const strSlot = new Map<string, number>();
const strLanes = new Int32Array(STR_CACHE * 2);

function mixString(s: string): void {
  let i = strSlot.get(s);
  if (i === undefined) {
    let a = 0x9e3779b9 ^ s.length;
    let b = 0x85ebca6b ^ s.length;
    for (let k = 0; k < s.length; k++) {
      const ch = s.charCodeAt(k);
      a = Math.imul(a ^ ch, 2654435761);
      b = Math.imul(b ^ ch, 1597334677);
    }
    if (strSlot.size >= STR_CACHE) strSlot.clear();
    i = strSlot.size * 2;
    strSlot.set(s, i);
    strLanes[i] = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
    strLanes[i + 1] = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  }
  mix(strLanes[i]);
  mix(strLanes[i + 1]);
}

function mixValue(v: unknown): void {
  switch (typeof v) {
    case 'number':
      if (v === (v | 0)) { mix(T_INT); mix(v | 0); return; } // -0 | 0 === 0, as JSON writes it
      if (v !== v || v === Infinity || v === -Infinity) { mix(T_NULL); return; }
      f64[0] = v;
      mix(T_NUM); mix(u32[0]); mix(u32[1]);
      return;
    case 'string': mix(T_STR); mixString(v); return;
    case 'boolean': mix(v ? T_TRUE : T_FALSE); return;
    case 'object':
      if (v === null) { mix(T_NULL); return; }
      if (Array.isArray(v)) {
        mix(T_ARR); mix(v.length);
        // JSON writes undefined array slots as null.
        for (let i = 0; i < v.length; i++) { const x = v[i]; if (x === undefined) mix(T_NULL); else mixValue(x); }
        mix(T_END);
        return;
      }
      mix(T_OBJ);
      // for-in walks own enumerable string keys in JSON.stringify's order (integer-like keys
      // ascending, then insertion order); states are plain objects with no inherited keys.
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function') continue;
        mix(T_KEY); mixString(k);
        mixValue(x);
      }
      mix(T_END);
      return;
    default:
      // undefined / functions at the top level or in objects are skipped above; nothing else
      // occurs in a state.
      mix(T_NULL);
  }
}

/**
 * The kernel parts of a state (mms, pages, files, locks) are hashed once per object: most
 * transitions share them with their parent state (engine/sim/interp.ts shareKernel). A part is
 * hashed on its own (fresh lanes) and its two lanes mixed into the state's.
 */
const partLanes = new WeakMap<object, [number, number]>();

function mixPart(x: object): void {
  let lanes = partLanes.get(x);
  if (!lanes) {
    const s1 = h1, s2 = h2;
    h1 = 0x2545f491;
    h2 = 0x9e3779b9;
    mixValue(x);
    lanes = [h1, h2];
    partLanes.set(x, lanes);
    h1 = s1;
    h2 = s2;
  }
  mix(lanes[0]);
  mix(lanes[1]);
}

/**
 * The state's identity for the explorer's visited set: a 53-bit number, equal for two states
 * exactly when their canonical texts (stateText) are equal, barring hash collisions. A state
 * must not change once hashed (its kernel parts' hashes are memoized by object).
 */
export function stateHash(s: SimState): number {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  mix(T_OBJ);
  for (const k in s) {
    const x = (s as unknown as Record<string, unknown>)[k];
    if (x === undefined) continue;
    mix(T_KEY); mixString(k);
    if (k === 'mms' || k === 'pages' || k === 'files' || k === 'locks') mixPart(x as object);
    else mixValue(x);
  }
  mix(T_END);
  return finish53(h1, h2);
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
