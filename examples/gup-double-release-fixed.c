/*
 * One unpin, at the common exit, reached by both the error and the success path.
 */
#include <linux/mm.h>
#include <linux/slab.h>

struct xfer_req {
	unsigned long uaddr;
	unsigned int nr_pages;
	struct page **pages;
};

int xfer_submit(struct xfer_req *req, int nr);

static int xfer_start(struct xfer_req *req)
{
	long pinned;
	int ret;

	pinned = pin_user_pages_fast(req->uaddr, req->nr_pages, FOLL_WRITE,
				     req->pages);
	if (pinned < 0)
		return pinned;

	ret = xfer_submit(req, pinned);
	if (ret)
		goto out;
	ret = pinned;
out:
	unpin_user_pages(req->pages, pinned);
	return ret;
}
