/*
 * One unpin, at the common exit, reached by both the short-pin and the normal path.
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
		ret = -EFAULT;
		goto out;
	}
	req->status = 1;
out:
	unpin_user_pages(req->pages, pinned);
	return ret;
}
