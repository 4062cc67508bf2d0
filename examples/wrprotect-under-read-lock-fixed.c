/*
 * The same tracker taking mmap_lock for write around the walk: no fault or GUP runs while PTEs
 * are write-protected and the flush is pending.
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
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	walk_page_range(mm, 0, TASK_SIZE, &dtrack_ops, NULL);
	flush_tlb_mm(mm);
	mmap_write_unlock(mm);
	return 0;
}
