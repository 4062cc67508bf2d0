/*
 * Release exactly the number of pages get_user_pages_fast() returned.
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
	int got, ret, i;

	got = get_user_pages_fast(ubuf, nr_pages, 0, ctx->pages);
	if (got < 0)
		return got;

	ret = snoop_copy_pages(ctx, got);

	for (i = 0; i < got; i++)
		put_page(ctx->pages[i]);
	return ret;
}
