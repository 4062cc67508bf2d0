/*
 * Example: an early return between pagefault_disable() and pagefault_enable() leaves page faults
 * disabled for the caller (and for the rest of the task's life in this context).
 */
#include <linux/uaccess.h>

static int ring_peek(struct ring *r, u32 __user *uhead, u32 *head)
{
	pagefault_disable();
	if (!r->mapped)
		return -ENODEV;
	if (__get_user(*head, uhead)) {
		pagefault_enable();
		return -EFAULT;
	}
	pagefault_enable();
	return 0;
}
