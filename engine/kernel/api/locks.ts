import type { ApiEntry, FacetEntry } from '../api-schema';
import type { LockEffect } from './mm-schema';
import type { FaultLockFacet, FaultsFacet } from './seed-schema';

// Locks the page-fault path can need, and calls that take page faults without being a plain uaccess
// or fault_in_*() (GUP, direct and buffered I/O entry points): what fault-under-lock reads (rule
// fault-under-lock; gfs2 thread "gfs2: Fix mmap + page fault deadlocks", Andreas Gruenbacher, 2021;
// commit 00bfe02f4796; include/linux/mmap_lock.h). Lock entries of the generic families are in
// ./mm.ts; the facets below are added to them.

function lock(name: string, signature: string, header: string, l: LockEffect, summary: string, extra: Partial<ApiEntry> = {}): ApiEntry {
  return { name, signature, header, summary, source: 'gfs2/btrfs page-fault deadlock fixes (v5.16): commits 00bfe02f4796, 51bd9563b678', lock: l, ...extra };
}

function io(name: string, signature: string, header: string, f: FaultsFacet, summary: string, extra: Partial<ApiEntry> = {}): ApiEntry {
  return { name, signature, header, summary, source: 'v5.16 iov_iter nofault: commit 3337ab08d08b; lib/iov_iter.c', faults: f, ...extra };
}

const MMAP: FaultLockFacet = { when: 'always', conflicts: 'any',
  faultTakes: 'the fault handler takes mmap_lock for read (held for write: self-deadlock; held for read: a queued writer blocks the second read acquisition)',
  // arch/x86/mm/fault.c: mmap_read_lock() in do_user_addr_fault() (lock_mm_and_find_vma() since v6.5).
  takenBy: { read: 'do_user_addr_fault()', write: 'do_user_addr_fault()' }, written: '$->mmap_lock' };
const GLOCK: FaultLockFacet = { when: 'always', conflicts: 'any',
  faultTakes: 'gfs2_fault() and gfs2_page_mkwrite() take the inode glock, and glocks are not recursive',
  takenBy: { read: 'gfs2_fault()', write: 'gfs2_page_mkwrite()' } };
const INODE: FaultLockFacet = { when: 'file-fault-handler', conflicts: 'any',
  faultTakes: 'only a ->fault / ->page_mkwrite that takes i_rwsem (filemap_fault never does)', written: '$->i_rwsem' };
const INVALIDATE: FaultLockFacet = { when: 'always', conflicts: 'write',
  faultTakes: 'filemap_fault() takes mapping->invalidate_lock shared to read the page in',
  takenBy: { read: 'filemap_fault()', write: 'filemap_fault()' }, written: '$->invalidate_lock' };
const BTRFS_PATH: FaultLockFacet = { when: 'always', conflicts: 'any',
  faultTakes: 'btrfs_page_mkwrite() reserves space and updates the trees, which can wait on the extent-buffer locks a btrfs_path holds',
  takenBy: { read: 'filemap_fault() -> btrfs_read_folio()', write: 'btrfs_page_mkwrite()' } };
const EXTENT: FaultLockFacet = { when: 'always', conflicts: 'any',
  faultTakes: 'btrfs_page_mkwrite() and the read path lock the file\'s extent range in the io_tree',
  takenBy: { read: 'filemap_fault() -> btrfs_read_folio()', write: 'btrfs_page_mkwrite()' } };

/** Fields of a `struct vm_operations_struct` that run on a page fault (for 'file-fault-handler'). */
/** The ops type whose callbacks handle page faults of a file's mappings. */
export const FAULT_HANDLER_OPS_TYPE = 'vm_operations_struct';

export const FAULT_HANDLER_FIELDS = ['fault', 'huge_fault', 'page_mkwrite', 'pfn_mkwrite', 'map_pages'];

/**
 * rw_semaphores known by the field that holds them: `down_read(&mm->mmap_sem)` before v5.8 is
 * mmap_read_lock(); `down_write(&inode->i_rwsem)` is inode_lock().
 */
export const RWSEM_CLASS_BY_FIELD: Record<string, string> = {
  mmap_sem: 'mmap_lock', mmap_lock: 'mmap_lock', i_rwsem: 'inode_lock', invalidate_lock: 'invalidate_lock',
};

/**
 * Lock classes that make the holder atomic (preempt count raised): a user access there never runs
 * the fault handler (faulthandler_disabled() sees in_atomic()), it fails and takes the fixup.
 */
export const ATOMIC_LOCK_CLASSES = ['spinlock'];

/** The fault-lock facet of a lock class, whichever entry acquired it. */
export const FAULT_LOCK_BY_CLASS: Record<string, FaultLockFacet> = {
  mmap_lock: MMAP, glock: GLOCK, inode_lock: INODE, invalidate_lock: INVALIDATE, btrfs_tree_lock: BTRFS_PATH, extent_lock: EXTENT,
};

export const lockApis: ApiEntry[] = [
  lock('gfs2_glock_nq_init', 'int gfs2_glock_nq_init(struct gfs2_glock *gl, unsigned int state, u16 flags, struct gfs2_holder *gh)', 'fs/gfs2/glock.h',
    { op: 'acquire', lock: 'glock', mode: 'shared', arg: 3, takenByFaultPath: true, recursive: false, exclusiveWhen: { arg: 1, names: ['LM_ST_EXCLUSIVE'] } },
    'Initialise a holder and acquire the glock (exclusive with LM_ST_EXCLUSIVE, shared with LM_ST_SHARED or LM_ST_DEFERRED).', { returns: '0 or -errno', faultLock: GLOCK }),
  { name: 'gfs2_holder_allow_demote', signature: 'void gfs2_holder_allow_demote(struct gfs2_holder *gh)', header: 'fs/gfs2/glock.h', since: 'v5.16',
    summary: 'Let the glock be demoted while this holder keeps it: a page fault of the same file can take it (the v5.16 fault-in window).',
    source: 'fs/gfs2/glock.c (v5.16); thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22)', faultLockWindow: { op: 'open', lock: 'glock', arg: 0 } },
  { name: 'gfs2_holder_disallow_demote', signature: 'void gfs2_holder_disallow_demote(struct gfs2_holder *gh)', header: 'fs/gfs2/glock.h', since: 'v5.16',
    summary: 'End the window opened by gfs2_holder_allow_demote().', source: 'fs/gfs2/glock.c (v5.16); thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22)',
    faultLockWindow: { op: 'close', lock: 'glock', arg: 0 } },
  lock('filemap_invalidate_lock', 'void filemap_invalidate_lock(struct address_space *mapping)', 'include/linux/fs.h',
    { op: 'acquire', lock: 'invalidate_lock', mode: 'write', arg: 0 }, 'Take mapping->invalidate_lock exclusive (truncate, hole punch).',
    { since: 'v5.15', faultLock: INVALIDATE }),
  lock('filemap_invalidate_unlock', 'void filemap_invalidate_unlock(struct address_space *mapping)', 'include/linux/fs.h',
    { op: 'release', lock: 'invalidate_lock', mode: 'write', arg: 0 }, 'Drop mapping->invalidate_lock.', { since: 'v5.15' }),
  lock('filemap_invalidate_lock_shared', 'void filemap_invalidate_lock_shared(struct address_space *mapping)', 'include/linux/fs.h',
    { op: 'acquire', lock: 'invalidate_lock', mode: 'read', arg: 0 }, 'Take mapping->invalidate_lock shared (what the fault path takes).',
    { since: 'v5.15', faultLock: INVALIDATE }),
  lock('filemap_invalidate_unlock_shared', 'void filemap_invalidate_unlock_shared(struct address_space *mapping)', 'include/linux/fs.h',
    { op: 'release', lock: 'invalidate_lock', mode: 'read', arg: 0 }, 'Drop mapping->invalidate_lock held shared.', { since: 'v5.15' }),
  lock('btrfs_search_slot', 'int btrfs_search_slot(struct btrfs_trans_handle *trans, struct btrfs_root *root, const struct btrfs_key *key, struct btrfs_path *p, int ins_len, int cow)',
    'fs/btrfs/ctree.h', { op: 'acquire', lock: 'btrfs_tree_lock', mode: 'exclusive', arg: 3 },
    'Search the tree; the path keeps the leaf (and possibly upper nodes) locked until btrfs_release_path().',
    { returns: '0 found, 1 not found, <0 error', faultLock: BTRFS_PATH }),
  lock('btrfs_search_forward', 'int btrfs_search_forward(struct btrfs_root *root, struct btrfs_key *min_key, struct btrfs_path *path, u64 min_trans)',
    'fs/btrfs/ctree.h', { op: 'acquire', lock: 'btrfs_tree_lock', mode: 'exclusive', arg: 2 },
    'Find the next key at or after min_key; the path stays locked until released.', { returns: '0 found, 1 none, <0 error', faultLock: BTRFS_PATH }),
  lock('btrfs_release_path', 'void btrfs_release_path(struct btrfs_path *p)', 'fs/btrfs/ctree.h',
    { op: 'release', lock: 'btrfs_tree_lock', arg: 0, ifHeld: true }, 'Unlock and drop every extent buffer the path holds (nothing on a released path).'),
  lock('btrfs_free_path', 'void btrfs_free_path(struct btrfs_path *p)', 'fs/btrfs/ctree.h',
    { op: 'release', lock: 'btrfs_tree_lock', arg: 0, ifHeld: true }, 'Release the path (btrfs_release_path(), a no-op when already released) and free it.'),
  lock('lock_extent_bits', 'int lock_extent_bits(struct extent_io_tree *tree, u64 start, u64 end, struct extent_state **cached)', 'fs/btrfs/extent-io-tree.h',
    { op: 'acquire', lock: 'extent_lock', mode: 'exclusive', arg: 0 }, 'Lock a file range in the io_tree (waits for other holders).',
    { removed: 'v6.1', faultLock: EXTENT }),
  lock('lock_extent', 'int lock_extent(struct extent_io_tree *tree, u64 start, u64 end, struct extent_state **cached)', 'fs/btrfs/extent-io-tree.h',
    { op: 'acquire', lock: 'extent_lock', mode: 'exclusive', arg: 0 }, 'Lock a file range in the io_tree (v6.1 name of lock_extent_bits).',
    { faultLock: EXTENT }),
  lock('unlock_extent', 'int unlock_extent(struct extent_io_tree *tree, u64 start, u64 end, struct extent_state **cached)', 'fs/btrfs/extent-io-tree.h',
    { op: 'release', lock: 'extent_lock', arg: 0 }, 'Unlock a file range of the io_tree.'),
  lock('unlock_extent_cached', 'int unlock_extent_cached(struct extent_io_tree *tree, u64 start, u64 end, struct extent_state **cached)', 'fs/btrfs/extent-io-tree.h',
    { op: 'release', lock: 'extent_lock', arg: 0 }, 'Unlock a file range with a cached state.', { removed: 'v6.1' }),

  lock('pte_offset_map_lock', 'pte_t *pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long address, spinlock_t **ptlp)', 'include/linux/mm.h',
    { op: 'acquire', lock: 'spinlock', mode: 'exclusive', arg: 3, recursive: false },
    'Map the PTE page and take its page-table lock (a spinlock: atomic context, a user access there cannot run the fault handler).',
    { returns: 'the mapped PTE' }),
  lock('pte_unmap_unlock', 'void pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)', 'include/linux/mm.h',
    { op: 'release', lock: 'spinlock', arg: 1 }, 'Drop the page-table lock and unmap the PTE page.'),

  // ---- calls that fault on user memory without being a uaccess / fault_in_* entry ----
  io('iomap_dio_rw', 'ssize_t iomap_dio_rw(struct kiocb *iocb, struct iov_iter *iter, const struct iomap_ops *ops, const struct iomap_dio_ops *dops, unsigned int dio_flags, void *private, size_t done_before)',
    'include/linux/iomap.h', { how: 'gup', mmapLock: 'takes', iterArg: 1, opsArg: 2, ioKind: 'direct' },
    'Direct I/O: pins the user pages of the iterator (bio_iov_iter_get_pages, faulting them in) while the filesystem\'s locks are held; honours iter->nofault (v5.16).'),
  io('__iomap_dio_rw', 'struct iomap_dio *__iomap_dio_rw(struct kiocb *iocb, struct iov_iter *iter, const struct iomap_ops *ops, const struct iomap_dio_ops *dops, unsigned int dio_flags, void *private, size_t done_before)',
    'include/linux/iomap.h', { how: 'gup', mmapLock: 'takes', iterArg: 1, opsArg: 2, ioKind: 'direct' }, 'iomap_dio_rw() without the completion wait.'),
  { name: 'gfs2_iomap_ops', signature: 'const struct iomap_ops gfs2_iomap_ops', header: 'fs/gfs2/bmap.h',
    summary: 'The gfs2 iomap ops. Before v5.16, gfs2_iomap_begin() took the inode glock exclusive for a buffered write (gfs2_write_lock() when IOMAP_WRITE without IOMAP_DIRECT) and kept it until ->iomap_end, so iomap_file_buffered_write() faulted the source in under the glock; from v5.16 gfs2_file_buffered_write() takes the glock itself and copies with page faults disabled.',
    source: 'fs/gfs2/bmap.c (v5.15: gfs2_iomap_need_write_lock()); thread “gfs2: Fix mmap + page fault deadlocks” (2021-10-29, https://lore.kernel.org/all/?q=s%3A%22gfs2%3A%20Fix%20mmap%20%2B%20page%20fault%20deadlocks%22)',
    ioHold: { lock: 'glock', on: 'buffered-write', until: 'v5.16', holds: 'gfs2_iomap_begin() takes the inode glock exclusive for a buffered write and keeps it until ->iomap_end, and gfs2_fault() / gfs2_page_mkwrite() take the same glock' } },
  { name: 'btrfs_dio_iomap_ops', signature: 'const struct iomap_ops btrfs_dio_iomap_ops', header: 'fs/btrfs/ctree.h', since: 'v5.9',
    summary: 'The btrfs direct-I/O iomap ops (declared in ctree.h; static in fs/btrfs/inode.c by v6.1, behind btrfs_dio_read()/btrfs_dio_write()): btrfs_dio_iomap_begin() locks the extent range of the I/O (reads keep it locked until the bio completes) and, for writes, creates an ordered extent that btrfs_readahead() waits on for the same range.',
    source: 'commit 51bd9563b678 "btrfs: fix deadlock due to page faults during direct IO reads and writes" (v5.16); fs/btrfs/inode.c',
    ioHold: { lock: 'extent_lock', holds: 'btrfs_dio_iomap_begin() leaves the extent range locked (reads) or an ordered extent pending (writes) until the bio completes, and btrfs_readahead() waits on both for that range' } },
  io('bio_iov_iter_get_pages', 'int bio_iov_iter_get_pages(struct bio *bio, struct iov_iter *iter)', 'include/linux/bio.h',
    { how: 'gup', mmapLock: 'takes', iterArg: 1 }, 'Pin (or get) the user pages of the iterator into a bio, faulting them in.'),
  io('generic_file_read_iter', 'ssize_t generic_file_read_iter(struct kiocb *iocb, struct iov_iter *iter)', 'include/linux/fs.h',
    { how: 'io', mmapLock: 'takes', iterArg: 1 }, 'Buffered (or direct) read: copies page-cache pages to the user iterator with page faults enabled.'),
  io('filemap_read', 'ssize_t filemap_read(struct kiocb *iocb, struct iov_iter *iter, ssize_t already_read)', 'include/linux/fs.h',
    { how: 'io', mmapLock: 'takes', iterArg: 1 }, 'Buffered read loop: copy_page_to_iter() with page faults enabled unless iter->nofault.', { since: 'v5.12' }),
  io('generic_perform_write', 'ssize_t generic_perform_write(struct kiocb *iocb, struct iov_iter *i)', 'include/linux/fs.h',
    { how: 'io', mmapLock: 'takes', iterArg: 1 }, 'Buffered write loop: fault_in_iov_iter_readable() then an atomic copy; the fault-in runs with faults enabled.'),
  io('iomap_file_buffered_write', 'ssize_t iomap_file_buffered_write(struct kiocb *iocb, struct iov_iter *i, const struct iomap_ops *ops)', 'include/linux/iomap.h',
    { how: 'io', mmapLock: 'takes', iterArg: 1, opsArg: 2, ioKind: 'buffered-write' }, 'iomap buffered write: faults the source in with fault_in_iov_iter_readable() before each atomic copy.'),
  io('generic_file_direct_write', 'ssize_t generic_file_direct_write(struct kiocb *iocb, struct iov_iter *from)', 'include/linux/fs.h',
    { how: 'gup', mmapLock: 'takes', iterArg: 1 }, 'Direct write through ->direct_IO, which pins the user pages.'),
  io('fiemap_fill_next_extent', 'int fiemap_fill_next_extent(struct fiemap_extent_info *info, u64 logical, u64 phys, u64 len, u32 flags)', 'include/linux/fiemap.h',
    { how: 'uaccess', mmapLock: 'takes' }, 'Copy one extent record to the user\'s fiemap buffer with copy_to_user().', { returns: '0, 1 when the buffer is full, or -errno' }),
  io('kvm_write_guest', 'int kvm_write_guest(struct kvm *kvm, gpa_t gpa, const void *data, unsigned long len)', 'include/linux/kvm_host.h',
    { how: 'uaccess', mmapLock: 'takes' }, 'Write guest memory through __copy_to_user() on the host mapping (faults enabled).', { returns: '0 or -EFAULT' }),
  io('kvm_read_guest', 'int kvm_read_guest(struct kvm *kvm, gpa_t gpa, void *data, unsigned long len)', 'include/linux/kvm_host.h',
    { how: 'uaccess', mmapLock: 'takes' }, 'Read guest memory through __copy_from_user() (faults enabled).', { returns: '0 or -EFAULT' }),
  io('kvm_write_guest_offset_cached', 'int kvm_write_guest_offset_cached(struct kvm *kvm, struct gfn_to_hva_cache *ghc, void *data, unsigned int offset, unsigned long len)',
    'include/linux/kvm_host.h', { how: 'uaccess', mmapLock: 'takes' }, 'Write guest memory through a cached hva with __copy_to_user() (faults enabled).', { returns: '0 or -EFAULT' }),
];

function gupFaults(names: string[], mmapLock: FaultsFacet['mmapLock'], iterArg?: number): FacetEntry[] {
  return names.map((name) => ({ name, faults: { how: 'gup' as const, mmapLock, ...(iterArg !== undefined ? { iterArg } : {}) } }));
}

export const lockFacets: FacetEntry[] = [
  ...['mmap_read_lock', 'mmap_read_lock_killable', 'mmap_read_trylock', 'mmap_write_lock', 'mmap_write_lock_killable'].map((name) => ({ name, faultLock: MMAP })),
  { name: 'gfs2_glock_nq', faultLock: GLOCK },
  { name: 'inode_lock', faultLock: INODE },
  { name: 'inode_lock_shared', faultLock: INODE },
  ...gupFaults(['get_user_pages', 'get_user_pages_remote', 'pin_user_pages', 'pin_user_pages_remote'], 'caller-holds'),
  ...gupFaults(['get_user_pages_unlocked', 'get_user_pages_fast', 'pin_user_pages_unlocked', 'pin_user_pages_fast'], 'takes'),
  ...gupFaults(['iov_iter_get_pages', 'iov_iter_get_pages_alloc', 'iov_iter_get_pages2', 'iov_iter_get_pages_alloc2', 'iov_iter_extract_pages'], 'takes', 0),
];
