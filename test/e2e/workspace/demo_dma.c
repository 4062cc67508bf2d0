/*
 * A made-up driver for the editor end-to-end tests: two GUP reference bugs and one correct
 * function. `// expect: <rule-id>` marks the line where each finding belongs.
 */
#include <linux/mm.h>
#include <linux/slab.h>

struct demo_dma {
	struct page *pages[32];
	int nr_pages;
	bool cancelled;
};

static int demo_dma_map(struct demo_dma *dma, unsigned long uaddr, int nr)
{
	long pinned;
	int i;

	if (nr > 32)
		return -EINVAL;
	pinned = pin_user_pages_fast(uaddr, nr, FOLL_WRITE | FOLL_LONGTERM, dma->pages);
	if (pinned <= 0)
		return pinned ? pinned : -EFAULT;
	for (i = 0; i < pinned; i++)
		put_page(dma->pages[i]); // expect: gup-release-mismatch
	return 0;
}

static int demo_dma_peek(struct demo_dma *dma, unsigned long uaddr)
{
	struct page *page;
	long got;

	got = get_user_pages_fast(uaddr, 1, 0, &page);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	if (dma->cancelled)
		return -EINTR; // expect: gup-leak
	put_page(page);
	return 0;
}

static int demo_dma_touch(unsigned long uaddr, int nr)
{
	struct page *pages[8];
	long got;
	int i;

	if (nr > 8)
		return -EINVAL;
	got = get_user_pages_fast(uaddr, nr, 0, pages);
	if (got < 0)
		return got;
	for (i = 0; i < got; i++)
		put_page(pages[i]);
	return 0;
}
