/*
 * Bench input for `node out/bench/run.js sim-loops` (our own code, no kernel code): a two-level
 * buffered write (an outer walk over mapped extents, an inner loop over page-cache pages), the
 * shape the simulator spends most of its time on in a kernel tree (buffered-write loops of
 * filesystems and of the page cache). The source is faulted in before each chunk, the chunk is
 * copied with page faults disabled under the page lock, and a copy of nothing retries with the
 * chunk cut to what the last copy managed: every retry copies a byte or fails the fault-in, so
 * there is no live-lock. Like its kernel counterparts it does not finish within the rule's state
 * budget (inconclusive, no finding): every state costs what theirs do.
 */

struct xw_walk {
	struct xw_inode *inode;
	loff_t at;
	u64 left;
	loff_t done;
	unsigned int mode;
};

static loff_t xw_copy_extent(struct xw_walk *w, struct iov_iter *from)
{
	loff_t at = w->at;
	loff_t remaining = w->left;
	ssize_t total = 0;
	long err = 0;

	for (;;) {
		struct page *pg;
		size_t chunk, got, kept;
		size_t in_page = at & (PAGE_SIZE - 1);

		chunk = PAGE_SIZE - in_page;
		if (chunk > iov_iter_count(from))
			chunk = iov_iter_count(from);
retry:
		if (chunk > remaining)
			chunk = remaining;
		if (fault_in_iov_iter_readable(from, chunk)) {
			err = -EFAULT;
			break;
		}
		err = xw_grab_page(w, at, chunk, &pg);
		if (err)
			break;
		if (xw_mapped_shared(w->inode))
			flush_dcache_page(pg);
		got = copy_page_from_iter_atomic(pg, in_page, chunk, from);
		kept = xw_commit_page(w, at, chunk, got, pg);
		if (kept != got)
			iov_iter_revert(from, got - kept);
		cond_resched();
		if (!kept) {
			if (got)
				chunk = got;
			goto retry;
		}
		at += kept;
		total += kept;
		remaining -= kept;
		xw_throttle(w->inode);
		if (!iov_iter_count(from) || !remaining)
			break;
	}
	return total ? total : err;
}

static ssize_t xw_buffered_write(struct xw_request *rq, struct iov_iter *from)
{
	struct xw_walk w = {
		.inode = rq->inode,
		.at = rq->pos,
		.left = iov_iter_count(from),
		.mode = XW_WRITE,
	};
	int more;

	while ((more = xw_next_extent(&w)) > 0)
		w.done = xw_copy_extent(&w, from);
	if (w.at == rq->pos)
		return more;
	return w.at - rq->pos;
}
