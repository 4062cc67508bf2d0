import type { ApiEntry } from '../api-schema';
import type { FaultInEffect, LockEffect, MemEffect, UaccessEffect } from './mm-schema';

// uaccess, fault_in_*, locks, pagefault_disable, memory-model operations (SEMANTICS.md A, B, D-I).
// The simulator (engine/sim) interprets these facets; the static rules read them. GUP entries
// live in ./gup.ts.

function uaccess(name: string, signature: string, header: string, u: UaccessEffect, summary: string,
  extra: Partial<ApiEntry> = {}): ApiEntry {
  const returns = u.returns === 'bytes-done' ? 'bytes copied (possibly 0)' : u.returns === 'errno' ? '0 or -EFAULT'
    : 'bytes NOT copied (0 = everything copied)';
  return { name, signature, header, summary, returns, source: 'SEMANTICS.md B', uaccess: u, ...extra };
}

function faultIn(name: string, signature: string, f: FaultInEffect, summary: string, extra: Partial<ApiEntry> = {}): ApiEntry {
  const returns = f.returns === 'zero-or-efault' ? '0, or -EFAULT if any page could not be faulted in (all or nothing)'
    : 'bytes NOT faulted in (0 = all, size = nothing), like copy_to_user()';
  return { name, signature, header: f.iter ? 'include/linux/uio.h' : 'include/linux/pagemap.h', summary, returns,
    source: 'SEMANTICS.md A.1-A.3', faultIn: f, ...extra };
}

function lock(name: string, signature: string, header: string, l: LockEffect, summary: string, extra: Partial<ApiEntry> = {}): ApiEntry {
  return { name, signature, header, summary, source: 'SEMANTICS.md F, I', lock: l, ...extra };
}

function mem(name: string, signature: string, header: string, m: MemEffect, summary: string, extra: Partial<ApiEntry> = {}): ApiEntry {
  return { name, signature, header, summary, source: 'SEMANTICS.md D, E, H', mem: m, ...extra };
}

const U = 'include/linux/uaccess.h';

export const mmApis: ApiEntry[] = [
  // ---- uaccess (B.1-B.5) ----
  uaccess('copy_to_user', 'unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)', U,
    { direction: 'to-user', nofault: false, returns: 'bytes-not-done', userArg: 0, lenArg: 2 },
    'Copy to user space; faults are serviced unless page faults are disabled; may stop short by the arch fault window.'),
  uaccess('copy_from_user', 'unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)', U,
    { direction: 'from-user', nofault: false, returns: 'bytes-not-done', userArg: 1, lenArg: 2 },
    'Copy from user space, zero-padding the destination on a short copy.'),
  uaccess('__copy_to_user_inatomic', 'unsigned long __copy_to_user_inatomic(void __user *to, const void *from, unsigned long n)', U,
    { direction: 'to-user', nofault: true, returns: 'bytes-not-done', userArg: 0, lenArg: 2 },
    'Copy to user space without servicing page faults (caller disabled them).'),
  uaccess('__copy_from_user_inatomic', 'unsigned long __copy_from_user_inatomic(void *to, const void __user *from, unsigned long n)', U,
    { direction: 'from-user', nofault: true, returns: 'bytes-not-done', userArg: 1, lenArg: 2 },
    'Copy from user space without servicing page faults.'),
  uaccess('copy_to_user_nofault', 'long copy_to_user_nofault(void __user *dst, const void *src, size_t size)', U,
    { direction: 'to-user', nofault: true, returns: 'errno', userArg: 0, lenArg: 2 },
    'Copy to user space with page faults disabled; 0 or -EFAULT (btrfs copy_to_sk, seed 000).', { since: 'v5.8' }),
  uaccess('copy_from_user_nofault', 'long copy_from_user_nofault(void *dst, const void __user *src, size_t size)', U,
    { direction: 'from-user', nofault: true, returns: 'errno', userArg: 1, lenArg: 2 },
    'Copy from user space with page faults disabled; 0 or -EFAULT.', { since: 'v5.8' }),
  uaccess('copy_page_from_iter_atomic', 'size_t copy_page_from_iter_atomic(struct page *page, size_t offset, size_t bytes, struct iov_iter *i)',
    'include/linux/uio.h', { direction: 'from-user', nofault: true, returns: 'bytes-done', userArg: 3, lenArg: 2, iter: true, pageArg: 0 },
    'kmap_atomic (page faults disabled) then copy from the iterator; returns bytes copied, possibly 0 (B.5).'),
  uaccess('copy_folio_from_iter_atomic', 'size_t copy_folio_from_iter_atomic(struct folio *folio, size_t offset, size_t bytes, struct iov_iter *i)',
    'include/linux/uio.h', { direction: 'from-user', nofault: true, returns: 'bytes-done', userArg: 3, lenArg: 2, iter: true, pageArg: 0 },
    'Folio successor of copy_page_from_iter_atomic.', { since: 'v6.3' }),
  uaccess('copy_page_to_iter', 'size_t copy_page_to_iter(struct page *page, size_t offset, size_t bytes, struct iov_iter *i)',
    'include/linux/uio.h', { direction: 'to-user', nofault: false, returns: 'bytes-done', userArg: 3, lenArg: 2, iter: true, pageArg: 0 },
    'Copy a page to the iterator; not atomic by itself (might_fault), faults are serviced unless the caller disabled them.'),
  uaccess('_copy_to_iter', 'size_t _copy_to_iter(const void *addr, size_t bytes, struct iov_iter *i)', 'include/linux/uio.h',
    { direction: 'to-user', nofault: false, returns: 'bytes-done', userArg: 2, lenArg: 1, iter: true },
    'Copy to the iterator with copyout (access_ok + raw_copy_to_user); returns bytes copied.'),
  uaccess('_copy_from_iter', 'size_t _copy_from_iter(void *addr, size_t bytes, struct iov_iter *i)', 'include/linux/uio.h',
    { direction: 'from-user', nofault: false, returns: 'bytes-done', userArg: 2, lenArg: 1, iter: true },
    'Copy from the iterator with copyin; returns bytes copied.'),
  uaccess('copy_to_iter', 'size_t copy_to_iter(const void *addr, size_t bytes, struct iov_iter *i)', 'include/linux/uio.h',
    { direction: 'to-user', nofault: false, returns: 'bytes-done', userArg: 2, lenArg: 1, iter: true },
    'Checked wrapper of _copy_to_iter.'),
  uaccess('copy_from_iter', 'size_t copy_from_iter(void *addr, size_t bytes, struct iov_iter *i)', 'include/linux/uio.h',
    { direction: 'from-user', nofault: false, returns: 'bytes-done', userArg: 2, lenArg: 1, iter: true },
    'Checked wrapper of _copy_from_iter.'),

  // ---- fault_in_* (A.1-A.3) ----
  faultIn('fault_in_writeable', 'size_t fault_in_writeable(char __user *uaddr, size_t size)',
    { access: 'write', probe: 'page', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1 },
    'Write a zero byte to the first byte of every page of the range (destructive); page-granular progress.', { since: 'v5.16' }),
  faultIn('fault_in_readable', 'size_t fault_in_readable(const char __user *uaddr, size_t size)',
    { access: 'read', probe: 'page', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1 },
    'Read one byte per page of the range.', { since: 'v5.16' }),
  faultIn('fault_in_safe_writeable', 'size_t fault_in_safe_writeable(const char __user *uaddr, size_t size)',
    { access: 'safe-write', probe: 'page', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1 },
    'Non-destructive write fault-in: fixup_user_fault(FAULT_FLAG_WRITE) on one address per page under mmap_read_lock; v5.17-rc8 until its 2025 fix reports 0 when a later page failed.',
    { since: 'v5.16' }),
  faultIn('fault_in_subpage_writeable', 'size_t fault_in_subpage_writeable(char __user *uaddr, size_t size)',
    { access: 'write', probe: 'granule', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1 },
    'fault_in_writeable() then probe_subpage_writeable() over the part that passed (sub-page granularity).', { since: 'v5.19' }),
  faultIn('fault_in_iov_iter_readable', 'size_t fault_in_iov_iter_readable(const struct iov_iter *i, size_t size)',
    { access: 'read', probe: 'page', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1, iter: true },
    'fault_in_readable() over the user segments from the current position.', { since: 'v5.16' }),
  faultIn('fault_in_iov_iter_writeable', 'size_t fault_in_iov_iter_writeable(const struct iov_iter *i, size_t size)',
    { access: 'safe-write', probe: 'page', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1, iter: true },
    'fault_in_safe_writeable() over the user segments from the current position.', { since: 'v5.16' }),
  faultIn('probe_subpage_writeable', 'size_t probe_subpage_writeable(char __user *uaddr, size_t size)',
    { access: 'write', probe: 'granule', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1, subpageOnly: true },
    'Arch sub-page probe: 0 without sub-page faults; on arm64 with MTE, mte_probe_user_range() (one byte per 16-byte granule).',
    { since: 'v5.19', header: U }),
  faultIn('mte_probe_user_range', 'size_t mte_probe_user_range(const char __user *uaddr, size_t size)',
    { access: 'read', probe: 'granule', returns: 'bytes-not-faulted', userArg: 0, lenArg: 1, subpageOnly: true },
    'Read one byte per MTE granule; returns bytes not probed.', { since: 'v5.19', header: 'arch/arm64/include/asm/mte.h' }),
  faultIn('fault_in_pages_writeable', 'int fault_in_pages_writeable(char __user *uaddr, int size)',
    { access: 'write', probe: 'page', returns: 'zero-or-efault', userArg: 0, lenArg: 1 },
    'Old API: touch one byte per page (and the last byte); 0 or -EFAULT.', { removed: 'v5.16' }),
  faultIn('fault_in_pages_readable', 'int fault_in_pages_readable(const char __user *uaddr, int size)',
    { access: 'read', probe: 'page', returns: 'zero-or-efault', userArg: 0, lenArg: 1 },
    'Old API: read one byte per page; 0 or -EFAULT.', { removed: 'v5.16' }),
  faultIn('iov_iter_fault_in_readable', 'int iov_iter_fault_in_readable(struct iov_iter *i, size_t bytes)',
    { access: 'read', probe: 'page', returns: 'zero-or-efault', userArg: 0, lenArg: 1, iter: true },
    'Old API (renamed fault_in_iov_iter_readable in v5.16); 0 or -EFAULT.', { removed: 'v5.16' }),

  // ---- page faults on/off (B.5) ----
  { name: 'pagefault_disable', signature: 'void pagefault_disable(void)', header: U, pagefault: 'disable',
    summary: 'Page faults taken by uaccess are no longer serviced; the copy returns short instead.', source: 'SEMANTICS.md B.5' },
  { name: 'pagefault_enable', signature: 'void pagefault_enable(void)', header: U, pagefault: 'enable',
    summary: 'Re-enable page-fault servicing.', source: 'SEMANTICS.md B.5' },
  { name: 'kmap_atomic', signature: 'void *kmap_atomic(struct page *page)', header: 'include/linux/highmem.h',
    pagefault: 'disable', mem: { op: 'kmap', pageArg: 0 }, returns: 'kernel virtual address of the page',
    summary: 'Map a page for kernel access; implies pagefault_disable() (from memory, SEMANTICS B.5).', source: 'SEMANTICS.md B.5' },
  { name: 'kunmap_atomic', signature: 'void kunmap_atomic(void *addr)', header: 'include/linux/highmem.h',
    pagefault: 'enable', mem: { op: 'kunmap', addrArg: 0 }, summary: 'Undo kmap_atomic(); re-enables page faults.', source: 'SEMANTICS.md B.5' },
  mem('kmap_local_page', 'void *kmap_local_page(struct page *page)', 'include/linux/highmem.h', { op: 'kmap', pageArg: 0 },
    'Short-lived thread-local kernel mapping of a page (does not disable page faults).', { returns: 'kernel virtual address' }),
  mem('kmap', 'void *kmap(struct page *page)', 'include/linux/highmem.h', { op: 'kmap', pageArg: 0 },
    'Kernel mapping of a page.', { returns: 'kernel virtual address' }),
  mem('kunmap_local', 'void kunmap_local(const void *addr)', 'include/linux/highmem.h', { op: 'kunmap', addrArg: 0 }, 'Drop a kmap_local mapping.'),
  mem('kunmap', 'void kunmap(struct page *page)', 'include/linux/highmem.h', { op: 'kunmap', pageArg: 0 }, 'Drop a kmap mapping.'),
  mem('vmap', 'void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot)', 'include/linux/vmalloc.h',
    { op: 'vmap', pagesArg: 0, countArg: 1 }, 'Map GUP\'d pages contiguously in kernel virtual space (seed 004: accessed without uaccess, tag-unchecked).',
    { returns: 'kernel virtual address or NULL' }),
  mem('vunmap', 'void vunmap(const void *addr)', 'include/linux/vmalloc.h', { op: 'vunmap', addrArg: 0 }, 'Drop a vmap mapping.'),
  mem('memcpy', 'void *memcpy(void *dst, const void *src, size_t n)', 'include/linux/string.h', { op: 'kernel-write', addrArg: 0, lenArg: 2 },
    'Kernel copy; through a kmap/vmap address it writes the GUP\'d page directly (no uaccess, no fault).'),
  mem('memset', 'void *memset(void *s, int c, size_t n)', 'include/linux/string.h', { op: 'kernel-write', addrArg: 0, lenArg: 2 },
    'Kernel store; through a kmap/vmap address it writes the page directly.'),

  // ---- locks (I, F) ----
  lock('mmap_read_lock', 'void mmap_read_lock(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'acquire', lock: 'mmap_lock', mode: 'read', arg: 0 },
    'Take mmap_lock for read; a waiting writer blocks new readers.', { since: 'v5.8' }),
  lock('mmap_read_lock_killable', 'int mmap_read_lock_killable(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'acquire', lock: 'mmap_lock', mode: 'read', arg: 0 },
    'Take mmap_lock for read, interruptible by fatal signals.', { since: 'v5.8', returns: '0 or -EINTR' }),
  lock('mmap_read_trylock', 'bool mmap_read_trylock(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'trylock', lock: 'mmap_lock', mode: 'read', arg: 0 },
    'Try to take mmap_lock for read.', { since: 'v5.8', returns: 'true if taken' }),
  lock('mmap_read_unlock', 'void mmap_read_unlock(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'release', lock: 'mmap_lock', mode: 'read', arg: 0 },
    'Drop mmap_lock for read.', { since: 'v5.8' }),
  lock('mmap_write_lock', 'void mmap_write_lock(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'acquire', lock: 'mmap_lock', mode: 'write', arg: 0 },
    'Take mmap_lock for write (needed to turn PTEs read-only, 29a951dfb3c3, and to expand the stack since v6.5).', { since: 'v5.8' }),
  lock('mmap_write_lock_killable', 'int mmap_write_lock_killable(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'acquire', lock: 'mmap_lock', mode: 'write', arg: 0 },
    'Take mmap_lock for write, interruptible.', { since: 'v5.8', returns: '0 or -EINTR' }),
  lock('mmap_write_unlock', 'void mmap_write_unlock(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'release', lock: 'mmap_lock', mode: 'write', arg: 0 },
    'Drop mmap_lock for write.', { since: 'v5.8' }),
  lock('mmap_write_downgrade', 'void mmap_write_downgrade(struct mm_struct *mm)', 'include/linux/mmap_lock.h', { op: 'downgrade', lock: 'mmap_lock', mode: 'read', arg: 0 },
    'Turn a held write lock into a read lock.', { since: 'v5.8' }),
  lock('down_read', 'void down_read(struct rw_semaphore *sem)', 'include/linux/rwsem.h', { op: 'acquire', lock: 'rwsem', mode: 'read', arg: 0 }, 'Take an rwsem for read.'),
  lock('up_read', 'void up_read(struct rw_semaphore *sem)', 'include/linux/rwsem.h', { op: 'release', lock: 'rwsem', mode: 'read', arg: 0 }, 'Drop an rwsem held for read.'),
  lock('down_write', 'void down_write(struct rw_semaphore *sem)', 'include/linux/rwsem.h', { op: 'acquire', lock: 'rwsem', mode: 'write', arg: 0 }, 'Take an rwsem for write.'),
  lock('up_write', 'void up_write(struct rw_semaphore *sem)', 'include/linux/rwsem.h', { op: 'release', lock: 'rwsem', mode: 'write', arg: 0 }, 'Drop an rwsem held for write.'),
  lock('inode_lock', 'void inode_lock(struct inode *inode)', 'include/linux/fs.h',
    { op: 'acquire', lock: 'inode_lock', mode: 'write', arg: 0, takenByFaultPath: true, recursive: false },
    'Take i_rwsem for write; a filesystem whose fault path takes it deadlocks on a fault to the same file.'),
  lock('inode_unlock', 'void inode_unlock(struct inode *inode)', 'include/linux/fs.h', { op: 'release', lock: 'inode_lock', mode: 'write', arg: 0 }, 'Drop i_rwsem.'),
  lock('inode_lock_shared', 'void inode_lock_shared(struct inode *inode)', 'include/linux/fs.h',
    { op: 'acquire', lock: 'inode_lock', mode: 'read', arg: 0, takenByFaultPath: true }, 'Take i_rwsem for read.'),
  lock('inode_unlock_shared', 'void inode_unlock_shared(struct inode *inode)', 'include/linux/fs.h', { op: 'release', lock: 'inode_lock', mode: 'read', arg: 0 }, 'Drop i_rwsem held for read.'),
  lock('gfs2_glock_nq', 'int gfs2_glock_nq(struct gfs2_holder *gh)', 'fs/gfs2/glock.h',
    { op: 'acquire', lock: 'glock', mode: 'shared', arg: 0, takenByFaultPath: true, recursive: false },
    'Acquire a glock; gfs2_fault / gfs2_page_mkwrite take the inode glock too, and glocks are not recursive (F.1).', { returns: '0 or -errno' }),
  lock('gfs2_glock_dq', 'void gfs2_glock_dq(struct gfs2_holder *gh)', 'fs/gfs2/glock.h', { op: 'release', lock: 'glock', arg: 0 }, 'Release a glock.'),
  lock('gfs2_glock_dq_uninit', 'void gfs2_glock_dq_uninit(struct gfs2_holder *gh)', 'fs/gfs2/glock.h', { op: 'release', lock: 'glock', arg: 0 }, 'Release a glock and uninit the holder.'),
  lock('mutex_lock', 'void mutex_lock(struct mutex *lock)', 'include/linux/mutex.h', { op: 'acquire', lock: 'mutex', mode: 'exclusive', arg: 0, recursive: false }, 'Take a mutex (sleeps).'),
  lock('mutex_unlock', 'void mutex_unlock(struct mutex *lock)', 'include/linux/mutex.h', { op: 'release', lock: 'mutex', arg: 0 }, 'Drop a mutex.'),
  lock('mutex_trylock', 'int mutex_trylock(struct mutex *lock)', 'include/linux/mutex.h', { op: 'trylock', lock: 'mutex', mode: 'exclusive', arg: 0 }, 'Try a mutex.', { returns: '1 if taken' }),
  ...['spin_lock', 'spin_lock_irq', 'spin_lock_bh', 'spin_lock_irqsave'].map((n) =>
    lock(n, `void ${n}(spinlock_t *lock${n === 'spin_lock_irqsave' ? ', unsigned long flags' : ''})`, 'include/linux/spinlock.h',
      { op: 'acquire', lock: 'spinlock', mode: 'exclusive', arg: 0, recursive: false }, 'Take a spinlock (atomic context: no sleeping, no page faults).')),
  ...['spin_unlock', 'spin_unlock_irq', 'spin_unlock_bh', 'spin_unlock_irqrestore'].map((n) =>
    lock(n, `void ${n}(spinlock_t *lock${n === 'spin_unlock_irqrestore' ? ', unsigned long flags' : ''})`, 'include/linux/spinlock.h',
      { op: 'release', lock: 'spinlock', arg: 0 }, 'Drop a spinlock.')),
  lock('lock_page', 'void lock_page(struct page *page)', 'include/linux/pagemap.h', { op: 'acquire', lock: 'page_lock', mode: 'exclusive', arg: 0, recursive: false },
    'Take PG_locked (sleeps); writeback and try_to_free_buffers run under it.'),
  lock('unlock_page', 'void unlock_page(struct page *page)', 'include/linux/pagemap.h', { op: 'release', lock: 'page_lock', arg: 0 }, 'Drop PG_locked.'),
  lock('trylock_page', 'bool trylock_page(struct page *page)', 'include/linux/pagemap.h', { op: 'trylock', lock: 'page_lock', mode: 'exclusive', arg: 0 }, 'Try PG_locked.', { returns: 'true if taken' }),
  lock('folio_lock', 'void folio_lock(struct folio *folio)', 'include/linux/pagemap.h', { op: 'acquire', lock: 'page_lock', mode: 'exclusive', arg: 0, recursive: false }, 'Take the folio lock.'),
  lock('folio_unlock', 'void folio_unlock(struct folio *folio)', 'include/linux/pagemap.h', { op: 'release', lock: 'page_lock', arg: 0 }, 'Drop the folio lock.'),

  // ---- dirtying, writeback, buffers (E) ----
  mem('set_page_dirty', 'bool set_page_dirty(struct page *page)', 'include/linux/mm.h', { op: 'set-page-dirty', pageArg: 0, needsPageLock: true },
    'Mark a page dirty through ->set_page_dirty/->dirty_folio; racy on file pages without the page lock (E).', { returns: 'true if newly dirtied' }),
  mem('folio_mark_dirty', 'bool folio_mark_dirty(struct folio *folio)', 'include/linux/mm.h', { op: 'set-page-dirty', pageArg: 0, needsPageLock: true },
    'Folio version of set_page_dirty.'),
  mem('set_page_dirty_lock', 'int set_page_dirty_lock(struct page *page)', 'include/linux/mm.h', { op: 'set-page-dirty-lock', pageArg: 0 },
    'lock_page(); set_page_dirty(); unlock_page() — sleeps.'),
  mem('folio_mark_dirty_lock', 'bool folio_mark_dirty_lock(struct folio *folio)', 'include/linux/mm.h', { op: 'set-page-dirty-lock', pageArg: 0 },
    'Folio version of set_page_dirty_lock.'),
  mem('try_to_free_buffers', 'bool try_to_free_buffers(struct folio *folio)', 'include/linux/buffer_head.h', { op: 'try-to-free-buffers', pageArg: 0, needsPageLock: true },
    'Strip the buffer heads of a clean, locked page (reclaim after writeback; seed 004, Jan Kara 2018).', { returns: 'true if the buffers were freed' }),
  mem('clear_page_dirty_for_io', 'int clear_page_dirty_for_io(struct page *page)', 'include/linux/mm.h', { op: 'clear-page-dirty-for-io', pageArg: 0, needsPageLock: true },
    'Writeback: page_mkclean() (mmu notifier invalidate, PTEs write-protected) then clear PG_dirty; the model writes the page out at once.',
    { returns: 'true if the page was dirty' }),
  mem('page_mkclean', 'int page_mkclean(struct page *page)', 'include/linux/rmap.h', { op: 'page-mkclean', pageArg: 0 },
    'Write-protect and clean every PTE mapping the page, calling mmu notifiers first.'),

  // ---- TLB (D.2) ----
  mem('inc_tlb_flush_pending', 'void inc_tlb_flush_pending(struct mm_struct *mm)', 'include/linux/mm_types.h', { op: 'inc-tlb-flush-pending' },
    'Announce a deferred TLB flush before changing PTEs (mm_tlb_flush_pending() sees it).'),
  mem('dec_tlb_flush_pending', 'void dec_tlb_flush_pending(struct mm_struct *mm)', 'include/linux/mm_types.h', { op: 'dec-tlb-flush-pending' },
    'The deferred flush has been done (ordered by flush_tlb_range).'),
  mem('flush_tlb_mm', 'void flush_tlb_mm(struct mm_struct *mm)', 'arch/*/include/asm/tlbflush.h', { op: 'flush-tlb-mm' },
    'Flush every CPU\'s TLB entries of the mm.'),
  mem('flush_tlb_range', 'void flush_tlb_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)', 'arch/*/include/asm/tlbflush.h',
    { op: 'flush-tlb-range', addrArg: 1, lenArg: 2 }, 'Flush TLB entries of [start, end) on every CPU.'),
  mem('flush_tlb_page', 'void flush_tlb_page(struct vm_area_struct *vma, unsigned long addr)', 'arch/*/include/asm/tlbflush.h',
    { op: 'flush-tlb-page', addrArg: 1 }, 'Flush the TLB entry of one user address on every CPU.'),

  // ---- write-protect (D.2) ----
  mem('clear_soft_dirty', 'void clear_soft_dirty(struct vm_area_struct *vma, unsigned long addr, pte_t *pte)', 'fs/proc/task_mmu.c',
    { op: 'clear-soft-dirty', addrArg: 1 },
    'clear_refs soft-dirty PTE walker: write-protect the PTE and clear soft-dirty without flushing (v5.11-rc4+: skips pinned pages).'),
  mem('mwriteprotect_range', 'int mwriteprotect_range(struct mm_struct *dst_mm, unsigned long start, unsigned long len, bool enable_wp, atomic_t *mmap_changing)',
    'include/linux/userfaultfd_k.h', { op: 'uffd-wp', addrArg: 1, lenArg: 2 },
    'UFFDIO_WRITEPROTECT: write-protect (uffd-wp) the range under mmap_read_lock with a deferred TLB flush.'),

  // ---- mmu notifiers (H) ----
  mem('mmu_interval_notifier_insert', 'int mmu_interval_notifier_insert(struct mmu_interval_notifier *interval_sub, struct mm_struct *mm, unsigned long start, unsigned long length, const struct mmu_interval_notifier_ops *ops)',
    'include/linux/mmu_notifier.h', { op: 'mmu-notifier-register', addrArg: 2, lenArg: 3, callbackArg: 4 },
    'Register an interval notifier; ops->invalidate runs before PTEs of the range change.', { returns: '0 or -errno' }),
  mem('mmu_notifier_register', 'int mmu_notifier_register(struct mmu_notifier *subscription, struct mm_struct *mm)', 'include/linux/mmu_notifier.h',
    { op: 'mmu-notifier-register', callbackArg: 0 }, 'Register an mmu notifier for the whole mm.', { returns: '0 or -errno' }),
  mem('mmu_interval_notifier_remove', 'void mmu_interval_notifier_remove(struct mmu_interval_notifier *interval_sub)', 'include/linux/mmu_notifier.h',
    { op: 'mmu-notifier-unregister', callbackArg: 0 }, 'Remove an interval notifier.'),
  mem('mmu_notifier_unregister', 'void mmu_notifier_unregister(struct mmu_notifier *subscription, struct mm_struct *mm)', 'include/linux/mmu_notifier.h',
    { op: 'mmu-notifier-unregister', callbackArg: 0 }, 'Unregister an mmu notifier.'),
  mem('mmu_interval_read_begin', 'unsigned long mmu_interval_read_begin(struct mmu_interval_notifier *interval_sub)', 'include/linux/mmu_notifier.h',
    { op: 'mmu-notifier-read-begin' }, 'Begin a read-side critical section: waits for an invalidation in progress, returns the sequence to check.',
    { returns: 'sequence number for mmu_interval_read_retry()' }),
  mem('mmu_interval_read_retry', 'bool mmu_interval_read_retry(struct mmu_interval_notifier *interval_sub, unsigned long seq)', 'include/linux/mmu_notifier.h',
    { op: 'mmu-notifier-read-retry', addrArg: 1 }, 'True if an invalidation ran (or runs) since mmu_interval_read_begin(): redo the lookup.',
    { returns: 'true if the caller must retry' }),
  mem('mmu_notifier_invalidate_range_start', 'int mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)', 'include/linux/mmu_notifier.h',
    { op: 'mmu-notifier-invalidate' }, 'Run the registered notifiers\' invalidate callbacks before PTEs change.'),
];
