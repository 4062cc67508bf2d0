/*
 * Pages taken with pin_user_pages() (FOLL_PIN) must be released with
 * unpin_user_page*(). put_page() drops a single reference while the pin added
 * GUP_PIN_COUNTING_BIAS, so the page stays "maybe DMA pinned" and is never freed.
 */
#include <linux/mm.h>

#define GRAB_MAX 16

void grab_fill(struct page *page, unsigned int idx);

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

	for (i = 0; i < got; i++)
		grab_fill(pages[i], i);

	for (i = 0; i < got; i++)
		put_page(pages[i]);
	return got;
}
