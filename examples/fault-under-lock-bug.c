/*
 * Example: a cluster filesystem's ioctl that copies a per-inode record table to user space while
 * holding the inode's cluster lock (a gfs2 glock). If the user buffer is an mmap of the same file,
 * the copy faults into gfs2_fault(), which needs the same glock: the task waits for itself
 * (thread "gfs2: Fix mmap + page fault deadlocks", 2021-10-29; fixed in v5.16).
 */
#include <linux/uaccess.h>

struct rtab_inode {
	struct gfs2_glock *gl;
	struct rtab_rec *recs;
	unsigned int nr;
};

static int rtab_emit(void __user *dst, const struct rtab_rec *r)
{
	return copy_to_user(dst, r, sizeof(*r)) ? -EFAULT : 0;
}

static long rtab_dump(struct rtab_inode *ri, void __user *ubuf, unsigned int max)
{
	struct gfs2_holder gh;
	unsigned int i;
	int err;

	gfs2_holder_init(ri->gl, LM_ST_SHARED, 0, &gh);
	err = gfs2_glock_nq(&gh);
	if (err)
		goto out_uninit;
	for (i = 0; i < ri->nr && i < max; i++) {
		err = rtab_emit(ubuf + i * sizeof(struct rtab_rec), &ri->recs[i]); // expect: fault-under-lock
		if (err)
			break;
	}
	gfs2_glock_dq(&gh);
out_uninit:
	gfs2_holder_uninit(&gh);
	return err ? err : i;
}
