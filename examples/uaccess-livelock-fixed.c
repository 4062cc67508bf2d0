/*
 * The same query ioctl, fixed the way the thread "Avoid live-lock in fault-in+uaccess loops with
 * sub-page faults" (2021-12-03) settled it: fault in at sub-page granularity
 * (fault_in_subpage_writeable() probes every 16-byte MTE granule of the range), so a tag mismatch
 * makes the fault-in fail and the loop leaves with -EFAULT instead of spinning.
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
		if (fault_in_subpage_writeable(ubuf + off, size - off))
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
