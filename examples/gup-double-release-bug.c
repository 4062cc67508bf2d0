/*
 * A short pin is treated as an error: the branch unpins what was pinned and then
 * jumps to the common exit, which unpins the same pages again. The pin count drops
 * twice for one pin.
 */
#include <linux/mm.h>

struct xfer_req {
	unsigned long uaddr;
	unsigned int nr_pages;
	struct page **pages;
	int status;
};

static int xfer_start(struct xfer_req *req)
{
	long pinned;
	int ret = 0;

	pinned = pin_user_pages_fast(req->uaddr, req->nr_pages, FOLL_WRITE,
				     req->pages);
	if (pinned < 0)
		return pinned;

	if (pinned != req->nr_pages) {
		unpin_user_pages(req->pages, pinned);
		ret = -EFAULT;
		goto out;
	}
	req->status = 1;
out:
	unpin_user_pages(req->pages, pinned);
	return ret;
}
