// Facets for the seed-thread rules that read locks, write-protection and kernel mappings
// (fault-under-lock, wrprotect-under-read-lock, vma-modify-read-lock, gup-dirty-unlocked,
// gup-vaddr-no-notifier). Data lives in ./locks.ts, ./wrprotect.ts and ./vma.ts.

/**
 * On a lock entry: whether the page-fault path (->fault, ->page_mkwrite, the fault handler's own
 * mmap_lock) can take this lock class for the same memory, so a fault taken while it is held can
 * wait on it.
 */
export interface FaultLockFacet {
  /**
   * 'always': any fault on a user buffer may need it (mmap_lock; a gfs2 glock — the buffer may be
   * an mmap of the same gfs2 file). 'file-fault-handler': only when a ->fault / ->page_mkwrite of
   * the same file (a vm_operations_struct defined there) takes this class (i_rwsem: generic
   * filemap_fault never takes it).
   */
  when: 'always' | 'file-fault-handler';
  /** Which held modes conflict: 'any' (an rwsem read-held again with a writer queued), 'write'. */
  conflicts: 'any' | 'write';
  /** What the fault path does with it, for messages and hovers. */
  faultTakes: string;
  /**
   * The kernel functions of the fault path that take it, by the fault the copy takes (a read
   * fault runs ->fault, a write fault ->page_mkwrite): what a simulator trace names as the
   * kernel's step. Absent for 'file-fault-handler' classes (the file's own handler is named).
   */
  takenBy?: { read: string; write: string };
  /** How the lock is written in C from the instance a lock call names (`inode` -> `inode->i_rwsem`); `$` stands for the instance. */
  written?: string;
}

/**
 * On a call that can take a page fault with faults enabled and is not a plain uaccess/fault-in:
 * GUP, direct-I/O and buffered-I/O entry points that copy or pin user pages.
 */
export interface FaultsFacet {
  /** 'gup': handle_mm_fault via GUP; 'io': copies to/from the user iterator; 'uaccess': a helper around copy_to_user. */
  how: 'gup' | 'io' | 'uaccess';
  /** mmap_lock: the caller must hold it (get_user_pages), or the call takes it itself (the fault path). */
  mmapLock: 'caller-holds' | 'takes';
  /** Argument with the iov_iter whose `nofault` flag turns faults off (v5.16+). */
  iterArg?: number;
  /**
   * Argument with the filesystem's ops table (iomap_dio_rw's `struct iomap_ops`): its
   * ->iomap_begin runs before the user pages are pinned, and what it leaves held for the file
   * range (the ops entry's `ioHold`) is still held when the fault-in runs.
   */
  opsArg?: number;
  /** The kind of I/O the entry point does with that ops table (an ops table may hold its lock for one kind only). */
  ioKind?: 'direct' | 'buffered-write';
}

/**
 * On a filesystem ops table passed to a direct-I/O entry point: what its ->iomap_begin leaves held
 * for the file range until the I/O completes, which the file's own page-fault / read path waits
 * on. A fault on a user buffer that maps that range (an mmap of the same file) then deadlocks.
 */
export interface IoHoldFacet {
  /** The lock class held (its fault-lock facet says what the fault path does with it). */
  lock: string;
  /** What is held and who waits on it, for messages and hovers. */
  holds: string;
  /** Held only for this kind of I/O (the entry point's `ioKind`): gfs2 took the glock in ->iomap_begin for buffered writes only. */
  on?: 'direct' | 'buffered-write';
  /** Held by ->iomap_begin before this kernel version only (the caller takes the lock from then on). */
  until?: string;
}

/** On a call that write-protects PTEs (or returns a write-protected PTE value to store). */
export interface WrprotectFacet {
  kind: 'soft-dirty' | 'uffd-wp' | 'wrprotect';
  /** The call flushes the TLB itself (ptep_clear_flush-style): nothing is deferred. */
  flushes?: boolean;
  /** Argument holding a PTE value (pte_wrprotect(pte)): only a value read from a live PTE counts. */
  valueArg?: number;
}

/** On calls that build a PTE value for a page that is not mapped yet (mk_pte): nothing cached in a TLB. */
export interface PteValueFacet {
  source: 'new';
}

/** On a page-table walker taking an ops table (struct mm_walk_ops) whose callbacks run under the caller's lock. */
export interface PageWalkFacet {
  opsArg: number;
  /** Ops fields naming per-entry callbacks. */
  callbacks: string[];
}

/** On calls that map a page (or a page array) into the kernel's address space. */
export interface KmappingFacet {
  kind: 'vmap' | 'kmap' | 'kmap-local' | 'page-address';
  /** Argument holding the page (kmap) or the page array (vmap). */
  pageArg: number;
  /** The name of the matching unmap, for messages (data, not compared). */
  unmap?: string;
}

/** On calls that drop a kernel mapping: the argument is the address (vunmap) or the page (kunmap). */
export interface KunmapFacet {
  arg: number;
}

/** On lock-like calls that stand for "the fault path may take it again now": gfs2_holder_allow_demote. */
export interface FaultLockWindowFacet {
  /** 'open': from here the holder may be demoted (a fault can take the glock); 'close': no longer. */
  op: 'open' | 'close';
  lock: string;
  arg: number;
}

/** On calls that change a VMA field (vm_flags_set() and kin, v6.3+). */
export interface VmaWriteFacet {
  field: string;
  vmaArg: number;
  /**
   * Stack expansion (expand_downwards): the historical exception, allowed under mmap_read_lock
   * before v6.5, yet never without mmap_lock at all.
   */
  stackExpansion?: boolean;
}

/** On calls that test the write bit of a page-table entry value (pte_write(), pmd_write()...). */
export interface WriteBitTestFacet {
  /** The entry value tested. */
  arg: number;
}

/** On calls that mark a page dirty without the page lock and without the mapping's ->dirty_folio (SetPageDirty). */
export interface RawDirtyFacet {
  /** Also skips the dirty accounting of the mapping (PG_dirty set directly). */
  skipsMapping: boolean;
}
