/*
 * The same dump, faulting in from where the copy stopped and giving up when nothing there can be
 * faulted in: every retry either copies more or ends with -EFAULT.
 */
#include <linux/uaccess.h>

static ssize_t stat_dump(const char *snap, char __user *out, size_t count)
{
	size_t copied = 0;
	size_t left;

	while (copied < count) {
		pagefault_disable();
		left = __copy_to_user_inatomic(out + copied, snap + copied, count - copied);
		pagefault_enable();
		copied = count - left;
		if (!left)
			break;
		if (fault_in_subpage_writeable(out + copied, left))
			return -EFAULT;
	}
	return copied;
}
