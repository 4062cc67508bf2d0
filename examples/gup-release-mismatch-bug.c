/*
 * Pages taken with pin_user_pages() (FOLL_PIN) must be released with
 * unpin_user_page*(). put_page() drops a single reference while the pin added
 * GUP_PIN_COUNTING_BIAS, so the page stays "maybe DMA pinned" and is never freed.
 */
#include <linux/highmem.h>
#include <linux/mm.h>

#define GRAB_MAX 16
#define GRAB_POISON 0x5a


static long grab_user_range(unsigned long start, unsigned long nr)
{
	struct page *pages[GRAB_MAX];
	long got, i;

	if (nr > GRAB_MAX)
		return -EINVAL;

	mmap_read_lock(current->mm);
	got = pin_user_pages(start, nr, FOLL_WRITE, pages);
	mmap_read_unlock(current->mm);
	if (got <= 0)
		return got;

	for (i = 0; i < got; i++) {
		void *va = kmap_local_page(pages[i]);

		memset(va, GRAB_POISON, PAGE_SIZE);
		kunmap_local(va);
	}

	for (i = 0; i < got; i++)
		put_page(pages[i]);
	return got;
}
