/*
 * The same loader, checking the fault-in result: when nothing at the stop point can be faulted
 * in, the load ends with -EFAULT.
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
		if (left && fault_in_readable(src + done, left) == left)
			return -EFAULT;
	}
	return done;
}
