/*
 * The same peek with every path leaving through pagefault_enable().
 */
#include <linux/uaccess.h>

static int ring_peek(struct ring *r, u32 __user *uhead, u32 *head)
{
	int ret = 0;

	if (!r->mapped)
		return -ENODEV;
	pagefault_disable();
	if (__get_user(*head, uhead))
		ret = -EFAULT;
	pagefault_enable();
	return ret;
}
