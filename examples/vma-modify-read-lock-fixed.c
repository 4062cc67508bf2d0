/*
 * The same ioctl under the write lock.
 */
#include <linux/mm.h>

static int xbuf_pin_region(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma;
	int ret = -EINVAL;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	vma = find_vma(mm, addr);
	if (vma && vma->vm_start <= addr) {
		vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND;
		ret = 0;
	}
	mmap_write_unlock(mm);
	return ret;
}
