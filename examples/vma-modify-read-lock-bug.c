/*
 * Example: a driver ioctl that marks a user range as not copied on fork by setting vm_flags while
 * holding mmap_lock only for read. Page faults and GUP read vm_flags concurrently under the same
 * read lock; the change must be made under mmap_write_lock() (vm_flags_set() asserts it since
 * v6.3).
 */
#include <linux/mm.h>

static int xbuf_pin_region(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma;
	int ret = -EINVAL;

	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (vma && vma->vm_start <= addr) {
		vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND; // expect: vma-modify-read-lock
		ret = 0;
	}
	mmap_read_unlock(mm);
	return ret;
}
