/*
 * Example: a ring shared with user space. Its pages are taken with get_user_pages_fast(), mapped
 * with vmap() and the kernel address is kept in the device for later use, with no mmu notifier:
 * after munmap, COW or migration the kernel keeps writing pages the process no longer sees (thread
 * "vhost: access vq metadata through kernel virtual address", 2019; reverted for v5.3).
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>

struct ring_dev {
	struct page *rpages[4];
	void *ring;
};

static int ring_attach(struct ring_dev *rd, unsigned long uaddr)
{
	int got;

	got = get_user_pages_fast(uaddr, 4, FOLL_WRITE, rd->rpages);
	if (got != 4)
		goto fail;
	rd->ring = vmap(rd->rpages, 4, VM_MAP, PAGE_KERNEL); // expect: gup-vaddr-no-notifier
	if (!rd->ring)
		goto fail;
	return 0;
fail:
	while (got > 0)
		put_page(rd->rpages[--got]);
	return -EFAULT;
}
