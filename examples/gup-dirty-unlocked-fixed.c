/*
 * The same driver dirtying the frame under the page lock (set_page_dirty_lock()); with
 * pin_user_pages_fast() the release would be unpin_user_pages_dirty_lock(frames, nr, true).
 */
#include <linux/mm.h>

struct cap_buf {
	struct page **frames;
	int nr;
};

static int cap_map(struct cap_buf *cb, unsigned long uaddr)
{
	int got;

	got = get_user_pages_fast(uaddr, cb->nr, FOLL_WRITE, cb->frames);
	if (got < 0)
		return got;
	if (got != cb->nr) {
		while (got > 0)
			put_page(cb->frames[--got]);
		return -EFAULT;
	}
	return 0;
}

static void cap_release(struct cap_buf *cb)
{
	int i;

	for (i = 0; i < cb->nr; i++) {
		set_page_dirty_lock(cb->frames[i]);
		put_page(cb->frames[i]);
	}
}
