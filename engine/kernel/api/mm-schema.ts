// Facets for uaccess, fault-in, locks, pagefault_disable and memory-model operations
// (mm/gup.c, include/linux/uaccess.h, mm/memory.c, include/linux/mmap_lock.h). The simulator
// interprets these; the static rules read them.

export interface UaccessEffect {
  direction: 'to-user' | 'from-user';
  /** Faults are never serviced (nofault / inatomic / atomic iov_iter copy). */
  nofault: boolean;
  /** 'bytes-not-done' (copy_to_user), 'bytes-done' (copy_page_from_iter_atomic), 'errno' (get_user). */
  returns: 'bytes-not-done' | 'bytes-done' | 'errno';
  userArg: number;
  lenArg?: number;
  /** The user address comes from an iov_iter argument (simulator: a single ITER_UBUF segment). */
  iter?: boolean;
  /** Argument with the page (`struct page *`) for copy_page_{from,to}_iter*. */
  pageArg?: number;
}

export interface FaultInEffect {
  access: 'read' | 'write' | 'safe-write';
  /** 'page' = one byte per page; 'granule' = every sub-page granule (fault_in_subpage_writeable). */
  probe: 'page' | 'granule';
  /** 'bytes-not-faulted' (v5.16+) or 'zero-or-efault' (fault_in_pages_*, <= v5.15). */
  returns: 'bytes-not-faulted' | 'zero-or-efault';
  userArg: number;
  lenArg: number;
  /** Iterator variants take an iov_iter instead of a pointer. */
  iter?: boolean;
  /**
   * Only the architecture's sub-page probe (probe_subpage_writeable / mte_probe_user_range):
   * reads one byte per granule, never runs the page-fault handler (mm/gup.c).
   */
  subpageOnly?: boolean;
}

export interface LockEffect {
  op: 'acquire' | 'release' | 'trylock' | 'downgrade';
  /** Lock class: 'mmap_lock', 'page_lock', 'spinlock', 'mutex', 'glock', 'inode_lock'... */
  lock: string;
  mode?: 'read' | 'write' | 'exclusive' | 'shared';
  /** Argument naming the lock instance, if any. */
  arg?: number;
  /** Whether the page-fault path of a filesystem may take this lock class. */
  takenByFaultPath?: boolean;
  /** Re-acquiring a lock already held by the same thread self-deadlocks (glocks, mutexes, spinlocks). */
  recursive?: boolean;
  /**
   * A release that drops whatever the instance still holds and is a no-op when it holds nothing
   * (btrfs_release_path() on a released path, btrfs_free_path() after btrfs_release_path()):
   * releasing it again is not an underflow.
   */
  ifHeld?: boolean;
  /**
   * The mode comes from an argument: the acquisition is exclusive when argument `arg` is one of
   * `names` (gfs2_glock_nq_init's state, LM_ST_EXCLUSIVE), and `mode` otherwise.
   */
  exclusiveWhen?: { arg: number; names: string[] };
  /**
   * The drop-in call that does the same to the same lock instance for write (mmap_read_lock ->
   * mmap_write_lock, up_read -> up_write): the quick fix that turns a read acquisition and its
   * releases into write ones renames each call to it (engine/analysis/lock-upgrade.ts).
   */
  writeVariant?: string;
}

export type PagefaultEffect = 'disable' | 'enable';

/**
 * Where the mapping of a page-fault-disabling map call goes: `kmap_atomic()` returns it (never
 * NULL), `kunmap_atomic(addr)` takes it back through argument 0. The pagefault-disabled region
 * analysis pairs a close with the open whose handle it names.
 */
export interface PagefaultHandle {
  /** The call's result is the mapping (the region's handle). */
  result?: boolean;
  /** The argument naming the mapping this call undoes. */
  arg?: number;
  /** The result is never NULL (a NULL test on it takes one branch only). */
  nonNull?: boolean;
}

/**
 * Memory-model operations the simulator performs. Vocabulary of `op` (engine/kernel/ops.ts):
 * 'set-page-dirty', 'set-page-dirty-lock', 'try-to-free-buffers', 'clear-page-dirty-for-io',
 * 'page-mkclean', 'inc-tlb-flush-pending', 'dec-tlb-flush-pending', 'flush-tlb-mm',
 * 'flush-tlb-range', 'flush-tlb-page', 'kmap', 'kunmap', 'vmap', 'vunmap', 'kernel-write',
 * 'kernel-read', 'mmu-notifier-register', 'mmu-notifier-unregister',
 * 'mmu-notifier-invalidate', 'mmu-notifier-read-begin', 'mmu-notifier-read-retry', 'clear-soft-dirty', 'uffd-wp'.
 */
export interface MemEffect {
  op: string;
  pageArg?: number;
  /** Requires the page lock for correctness (set_page_dirty on a file page). */
  needsPageLock?: boolean;
  /** The drop-in variant that takes the page lock itself (the quick fix offers it). */
  lockedVariant?: string;
  /** Argument with a (user or kernel) address, and one with a length. */
  addrArg?: number;
  lenArg?: number;
  /** Argument with a `struct page **` array and one with its count (vmap). */
  pagesArg?: number;
  countArg?: number;
  /** Argument naming a callback function (mmu notifier ops). */
  callbackArg?: number;
}
