/*
 * The same ring with an interval notifier whose invalidate callback drops the kernel mapping
 * before the user mapping changes.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/vmalloc.h>

struct ring_dev {
	struct page *rpages[4];
	void *ring;
	struct mmu_interval_notifier note;
};

static bool ring_invalidate(struct mmu_interval_notifier *mni, const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct ring_dev *rd = container_of(mni, struct ring_dev, note);

	vunmap(rd->ring);
	rd->ring = NULL;
	return true;
}

static const struct mmu_interval_notifier_ops ring_note_ops = {
	.invalidate = ring_invalidate,
};

static int ring_attach(struct ring_dev *rd, struct mm_struct *mm, unsigned long uaddr)
{
	int got, err;

	err = mmu_interval_notifier_insert(&rd->note, mm, uaddr, 4 * PAGE_SIZE, &ring_note_ops);
	if (err)
		return err;
	got = get_user_pages_fast(uaddr, 4, FOLL_WRITE, rd->rpages);
	if (got != 4)
		goto fail;
	rd->ring = vmap(rd->rpages, 4, VM_MAP, PAGE_KERNEL);
	if (!rd->ring)
		goto fail;
	return 0;
fail:
	while (got > 0)
		put_page(rd->rpages[--got]);
	mmu_interval_notifier_remove(&rd->note);
	return -EFAULT;
}
