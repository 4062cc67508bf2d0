/*
 * Example: a dirty-page tracker that resets soft-dirty bits by walking the page tables with a
 * callback, holding mmap_lock only for read and flushing the TLB after the whole walk. Another
 * thread can write through a stale writable TLB entry, or a page pinned for DMA can be copied on
 * write, and the write is lost (thread "fs/task_mmu: acquire mmap_lock for write on soft-dirty
 * cleanup", 2021; clear_refs takes the write lock since v5.11).
 */
#include <linux/pagewalk.h>

static int dtrack_pte_range(pmd_t *pmd, unsigned long addr, unsigned long end, struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;
	pte_t *pte, val;
	spinlock_t *ptl;

	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		val = ptep_get(pte);
		if (!pte_present(val))
			continue;
		val = pte_wrprotect(val);
		val = pte_clear_soft_dirty(val);
		set_pte_at(vma->vm_mm, addr, pte, val);
	}
	pte_unmap_unlock(pte - 1, ptl);
	return 0;
}

static const struct mm_walk_ops dtrack_ops = {
	.pmd_entry = dtrack_pte_range,
};

static int dtrack_reset(struct mm_struct *mm)
{
	mmap_read_lock(mm);
	walk_page_range(mm, 0, TASK_SIZE, &dtrack_ops, NULL); // expect: wrprotect-under-read-lock
	flush_tlb_mm(mm);
	mmap_read_unlock(mm);
	return 0;
}
