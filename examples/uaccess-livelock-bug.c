/*
 * Example: a query ioctl that returns fixed-size records to a user buffer. The copy runs with
 * page faults disabled (the tree lock is held); on a short copy the loop faults in the rest of
 * the buffer and tries the same record again. fault_in_writeable() probes one byte per page, so
 * on arm64 with MTE a tag mismatch inside a record is never seen by the fault-in: it reports
 * success, the copy fails at the same granule again, and the ioctl spins (thread "Avoid live-lock
 * in fault-in+uaccess loops with sub-page faults", 2021-12-03).
 */
#include <linux/uaccess.h>

struct qry_rec {
	u64 key;
	u64 len;
	u8 data[48];
};

static long qry_fill(struct qry_tree *t, char __user *ubuf, size_t size)
{
	struct qry_rec rec;
	size_t off = 0;

	while (off + sizeof(rec) <= size) {
		if (fault_in_writeable(ubuf + off, size - off))
			return -EFAULT;
		qry_tree_lock(t);
		if (!qry_tree_next(t, &rec)) {
			qry_tree_unlock(t);
			break;
		}
		pagefault_disable();
		if (__copy_to_user_inatomic(ubuf + off, &rec, 64)) {
			pagefault_enable();
			qry_tree_unlock(t);
			continue;
		}
		pagefault_enable();
		qry_tree_advance(t);
		qry_tree_unlock(t);
		off += 64;
	}
	return off;
}
