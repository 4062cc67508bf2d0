/*
 * Example: a status dump copied with page faults disabled that, after a short copy, faults in
 * the whole buffer again from its start. The fault-in never looks at where the copy stopped
 * ("missing fault address tracking", thread "Avoid live-lock in fault-in+uaccess loops with
 * sub-page faults", 2021-12-03).
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
		if (fault_in_writeable(out, count) == count)
			return -EFAULT;
	}
	return copied;
}
