/*
 * A driver pins a user buffer for DMA. When the device is not ready it bails out
 * early and forgets the pages it just pinned: every failed call leaks a pin, the
 * pages stay "maybe DMA pinned" forever and can never be freed or migrated.
 */
#include <linux/mm.h>
#include <linux/slab.h>

struct frob_dev {
	bool ready;
	struct page **pages;
	unsigned int nr_pages;
};

int frob_dma_to_device(struct frob_dev *dev, struct page **pages, int nr);

static int frob_write_user(struct frob_dev *dev, unsigned long uaddr,
			   unsigned int nr_pages)
{
	struct page **pages;
	long pinned;
	int ret;

	pages = kcalloc(nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	pinned = pin_user_pages_fast(uaddr, nr_pages, 0, pages);
	if (pinned <= 0) {
		kfree(pages);
		return pinned ? pinned : -EFAULT;
	}

	if (!dev->ready) {
		kfree(pages);
		return -EAGAIN;
	}

	ret = frob_dma_to_device(dev, pages, pinned);
	unpin_user_pages(pages, pinned);
	kfree(pages);
	return ret;
}
