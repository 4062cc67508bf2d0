import type { ApiEntry, FacetEntry } from '../api-schema';

// VMA fields that only the mmap_lock writer may change, and the kernel mappings of user pages
// that gup-vaddr-no-notifier follows (thread "vhost: access vq metadata through kernel virtual
// address", Jason Wang, 2019, reverted in v5.3; drivers/vhost/vhost.c; include/linux/mmap_lock.h).

/** Fields of struct vm_area_struct that move or re-flag the VMA (written only under mmap_write_lock). */
export const VMA_LOCKED_FIELDS = ['vm_start', 'vm_end', 'vm_flags'];

/** Flags that mark a stack VMA that may grow (expand_downwards / expand_upwards run under the read lock before v6.5). */
export const STACK_GROWTH_FLAGS = ['VM_GROWSDOWN', 'VM_GROWSUP'];

/** The VMA bounds stack expansion moves (vm_start growing down, vm_end growing up; mm/mmap.c). */
export const STACK_GROWTH_FIELDS = ['vm_start', 'vm_end'];

/** GUP flag that asks for writable pages: the caller (or its device) means to write them, so they must be dirtied before release. */
export const WRITE_GUP_FLAGS = ['FOLL_WRITE'];

/**
 * VMA flag that says the user mapping allows writes: a test of it (`vma->vm_flags & VM_WRITE`) is
 * one form of the write check before dirtying a page from an mmu notifier's callback (thread "vhost:
 * access vq metadata through kernel virtual address", 2019-03-07; include/linux/mm.h).
 */
export const WRITABLE_VMA_FLAGS = ['VM_WRITE'];

/** GUP flag that marks a long-term pin (the documented way to keep user pages mapped past the call). */
export const LONGTERM_GUP_FLAGS = ['FOLL_LONGTERM'];

const MM = 'include/linux/mm.h';

export const vmaApis: ApiEntry[] = [
  ...['vm_flags_set', 'vm_flags_clear', 'vm_flags_reset', 'vm_flags_mod'].map((name): ApiEntry => ({
    name, signature: `void ${name}(struct vm_area_struct *vma, vm_flags_t flags)`, header: MM, since: 'v6.3',
    summary: 'Change vma->vm_flags; asserts mmap_lock held for write.', source: 'commit "mm: introduce vma->vm_flags wrapper functions" (v6.3); include/linux/mm.h', vmaWrite: { field: 'vm_flags', vmaArg: 0 },
  })),
  { name: 'expand_downwards', signature: 'int expand_downwards(struct vm_area_struct *vma, unsigned long address)', header: MM,
    returns: '0 or -errno',
    summary: 'Grow a stack VMA down to cover address (writes vma->vm_start). Needs mmap_lock: for read before v6.5 (the stack-guard locks serialise growers), for write since (commit "mm: always expand the stack with the mmap write lock held", v6.5, backported to 6.1 stable).',
    source: 'mm/mmap.c; commit f313c51d26aa "execve: expand new process stack manually ahead of time" (v6.5)', vmaWrite: { field: 'vm_start', vmaArg: 0, stackExpansion: true } },
  { name: 'vm_map_ram', signature: 'void *vm_map_ram(struct page **pages, unsigned int count, int node)', header: 'include/linux/vmalloc.h',
    summary: 'Map pages contiguously in kernel space (a cheaper vmap).', source: 'mm/vmalloc.c; thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22), reverted for v5.3', kmapping: { kind: 'vmap', pageArg: 0, unmap: 'vm_unmap_ram' } },
  { name: 'vm_unmap_ram', signature: 'void vm_unmap_ram(const void *mem, unsigned int count)', header: 'include/linux/vmalloc.h',
    summary: 'Undo vm_map_ram().', source: 'mm/vmalloc.c; thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22), reverted for v5.3', kunmap: { arg: 0 } },
];

export const vmaFacets: FacetEntry[] = [
  { name: 'SetPageDirty', rawDirty: { skipsMapping: true } },
  { name: 'vmap', kmapping: { kind: 'vmap', pageArg: 0, unmap: 'vunmap' } },
  { name: 'kmap', kmapping: { kind: 'kmap', pageArg: 0, unmap: 'kunmap' } },
  { name: 'page_address', kmapping: { kind: 'page-address', pageArg: 0 } },
  { name: 'kmap_local_page', kmapping: { kind: 'kmap-local', pageArg: 0, unmap: 'kunmap_local' } },
  { name: 'kmap_atomic', kmapping: { kind: 'kmap-local', pageArg: 0, unmap: 'kunmap_atomic' } },
  { name: 'vunmap', kunmap: { arg: 0 } },
  { name: 'kunmap', kunmap: { arg: 0 } },
  { name: 'kunmap_local', kunmap: { arg: 0 } },
  { name: 'kunmap_atomic', kunmap: { arg: 0 } },
];

/** Ops types of mmu notifiers: their callbacks run on invalidation (before PTEs change). */
export const NOTIFIER_OPS_TYPES = ['mmu_notifier_ops', 'mmu_interval_notifier_ops'];

/**
 * Fields of those ops that run when the user mapping is about to change (include/linux/mmu_notifier.h:
 * `invalidate_range_start` and, before v6.6, `invalidate_range` of mmu_notifier_ops; `invalidate`
 * of mmu_interval_notifier_ops, v5.5+): a kernel mapping of the range must be torn down there.
 * `invalidate_range_end`, `release`, `clear_flush_young`... run after the change or for another job.
 */
export const NOTIFIER_INVALIDATE_FIELDS = ['invalidate_range_start', 'invalidate_range', 'invalidate'];
