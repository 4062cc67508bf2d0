/*
 * Example: the result of fault_in_readable() is dropped. Since v5.16 it returns the number of
 * bytes NOT faulted in; ignoring it turns an unmapped source page into an endless retry.
 */
#include <linux/uaccess.h>

static ssize_t cfg_load(struct cfg_store *st, const char __user *src, size_t len)
{
	size_t done = 0;
	size_t left;

	while (done < len) {
		pagefault_disable();
		left = __copy_from_user_inatomic(st->buf + done, src + done, len - done);
		pagefault_enable();
		done = len - left;
		if (left)
			fault_in_readable(src + done, left);
	}
	return done;
}
