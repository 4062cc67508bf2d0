/*
 * The same ioctl after the v5.16 pattern: the copy runs with page faults disabled under the glock;
 * when it comes up short the glock is dropped, the rest of the buffer is faulted in, and the dump
 * resumes where it stopped.
 */
#include <linux/uaccess.h>

struct rtab_inode {
	struct gfs2_glock *gl;
	struct rtab_rec *recs;
	unsigned int nr;
};

static long rtab_dump(struct rtab_inode *ri, void __user *ubuf, unsigned int max)
{
	struct gfs2_holder gh;
	unsigned int i = 0;
	unsigned long left;
	int err;

retry:
	gfs2_holder_init(ri->gl, LM_ST_SHARED, 0, &gh);
	err = gfs2_glock_nq(&gh);
	if (err)
		goto out_uninit;
	left = 0;
	for (; i < ri->nr && i < max; i++) {
		pagefault_disable();
		left = __copy_to_user_inatomic(ubuf + i * sizeof(struct rtab_rec), &ri->recs[i], sizeof(struct rtab_rec));
		pagefault_enable();
		if (left)
			break;
	}
	gfs2_glock_dq(&gh);
	gfs2_holder_uninit(&gh);
	if (left) {
		if (fault_in_writeable(ubuf + i * sizeof(struct rtab_rec), sizeof(struct rtab_rec)) ==
		    sizeof(struct rtab_rec))
			return i ? i : -EFAULT;
		goto retry;
	}
	return i;
out_uninit:
	gfs2_holder_uninit(&gh);
	return err;
}
