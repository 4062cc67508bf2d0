/*
 * Release exactly the number of pages get_user_pages_fast() returned.
 */
#include <linux/highmem.h>
#include <linux/mm.h>

#define SNOOP_MAX_PAGES 8

static u32 snoop_checksum_user(unsigned long ubuf, int nr_pages)
{
	struct page *pages[SNOOP_MAX_PAGES];
	u32 sum = 0;
	int got, i;

	if (nr_pages > SNOOP_MAX_PAGES)
		return 0;

	got = get_user_pages_fast(ubuf, nr_pages, 0, pages);
	if (got < 0)
		return 0;

	for (i = 0; i < got; i++) {
		u32 *va = kmap_local_page(pages[i]);

		sum ^= va[0];
		kunmap_local(va);
	}

	for (i = 0; i < got; i++)
		put_page(pages[i]);
	return sum;
}
