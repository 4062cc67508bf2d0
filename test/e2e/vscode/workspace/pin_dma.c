// A made-up driver that maps user buffers for DMA. Each function carries one GUP reference
// bug of issue 2 (an expect comment on the line the finding belongs to names the rule), except the
// last, which is the fixed twin and must stay silent.

#include <linux/mm.h>
#include <linux/slab.h>

struct xfer_ctx {
	struct page **pages;
	unsigned long nr_pages;
};

static int xfer_program_hw(struct xfer_ctx *ctx, struct page **pages, long n);

/* Pinned pages dropped with put_page(): the pin bias is never removed. */
static void xfer_release_pinned(unsigned long uaddr, struct page **pages, unsigned long nr)
{
	long got, i;

	got = pin_user_pages(uaddr, nr, FOLL_WRITE, pages);
	if (got <= 0)
		return;
	for (i = 0; i < got; i++)
		put_page(pages[i]); // expect: gup-release-mismatch
}

/* A short pin is refused, but the pages it did pin are never unpinned. */
static int xfer_start(struct xfer_ctx *ctx, unsigned long uaddr, struct page **pages, unsigned long nr)
{
	long pinned;
	int err;

	pinned = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (pinned < 0)
		return pinned;
	if (pinned != nr)
		return -EFAULT; // expect: gup-leak
	err = xfer_program_hw(ctx, pages, pinned);
	unpin_user_pages(pages, pinned);
	return err;
}

/* get_user_pages() may take fewer pages than asked; releasing nr drops refs never taken. */
static int xfer_copy_in(unsigned long uaddr, struct page **pages, unsigned long nr)
{
	long taken, i;

	taken = get_user_pages(uaddr, nr, 0, pages);
	if (taken < 0)
		return taken;
	for (i = 0; i < nr; i++)
		put_page(pages[i]); // expect: gup-partial-release
	return 0;
}

/* The error branch unpins, then falls through to the common exit that unpins again. */
static int xfer_map(struct xfer_ctx *ctx, unsigned long uaddr, struct page **pages, unsigned long nr)
{
	long n;
	int err = 0;

	n = pin_user_pages_fast(uaddr, nr, 0, pages);
	if (n <= 0)
		return -EFAULT;
	if (n != nr) {
		unpin_user_pages(pages, n);
		err = -EFAULT;
		goto out;
	}
	err = xfer_program_hw(ctx, pages, n);
out:
	unpin_user_pages(pages, n); // expect: gup-double-release
	return err;
}

/* Fixed twin: release exactly what was pinned, on every path. */
static int xfer_start_fixed(struct xfer_ctx *ctx, unsigned long uaddr, struct page **pages, unsigned long nr)
{
	long pinned;
	int err;

	pinned = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (pinned <= 0)
		return pinned ? pinned : -EFAULT;
	err = xfer_program_hw(ctx, pages, pinned);
	unpin_user_pages(pages, pinned);
	return err;
}
