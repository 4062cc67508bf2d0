// Facets for uaccess, fault-in, locks, pagefault_disable and memory-model operations
// (SEMANTICS.md sections A, B, D–I). The simulator interprets these; the static rules read them.

export interface UaccessEffect {
  direction: 'to-user' | 'from-user';
  /** Faults are never serviced (nofault / inatomic / atomic iov_iter copy). */
  nofault: boolean;
  /** 'bytes-not-done' (copy_to_user), 'bytes-done' (copy_page_from_iter_atomic), 'errno' (get_user). */
  returns: 'bytes-not-done' | 'bytes-done' | 'errno';
  userArg: number;
  lenArg?: number;
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
}

export type PagefaultEffect = 'disable' | 'enable';

/** Memory-model operations the simulator performs (set_page_dirty, writeback, clear_refs...). */
export interface MemEffect {
  op: string;
  pageArg?: number;
  /** Requires the page lock for correctness (set_page_dirty on a file page). */
  needsPageLock?: boolean;
}
