/*
 * Example: a capture driver pins the user's frame buffer, the device writes a frame into it, and
 * the release marks the pages dirty with set_page_dirty() without the page lock. If the buffer is
 * a shared file mapping, writeback may already have cleaned the page and stripped its buffers;
 * the unlocked dirtying races that and the frame may never reach the file (Jan Kara, "get_user_pages()
 * and filesystems", 2018; the i915 userptr fix in v5.5).
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
		set_page_dirty(cb->frames[i]); // expect: gup-dirty-unlocked
		put_page(cb->frames[i]);
	}
}
