/*
 * get_user_pages_fast() may take fewer pages than asked for: it returns how many
 * it took. Releasing nr_pages after a short return drops references on slots that
 * were never filled (stale pointers from an earlier call): a refcount underflow.
 */
#include <linux/mm.h>

struct snoop_ctx {
	struct page *pages[8];
	unsigned int nr_pages;
};

int snoop_copy_pages(struct snoop_ctx *ctx, int nr);

static int snoop_user_buffer(struct snoop_ctx *ctx, unsigned long ubuf)
{
	int nr_pages = ctx->nr_pages;
	int ret, i;

	ret = get_user_pages_fast(ubuf, nr_pages, 0, ctx->pages);
	if (ret < 0)
		return ret;

	ret = snoop_copy_pages(ctx, ret);

	for (i = 0; i < nr_pages; i++)
		put_page(ctx->pages[i]);
	return ret;
}
