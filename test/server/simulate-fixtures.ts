// Kernel-style C written for the "Simulate" tests (never copied from the kernel).

/**
 * The search-ioctl shape of seed 000: fault in the rest of the user buffer, copy fixed-size items
 * with page faults disabled through a same-file helper, and on a short copy move the offset back
 * to the start of the item and go round again. fault_in_writeable() probes a byte per page; on
 * arm64 with MTE a tag mismatch inside a present page keeps the copy failing at the same item
 * while the fault-in keeps succeeding: a live-lock.
 */
export const searchIoctlC = `struct demo_item_hdr {
	unsigned long key;
	unsigned int size;
};

static int demo_emit_items(struct demo_node *node, char __user *ubuf, size_t ubuf_len,
			   unsigned long *pos, int *emitted)
{
	struct demo_item_hdr hdr;
	int count = demo_node_count(node);
	int i;

	for (i = 0; i < count; i++) {
		if (*pos + 64 > ubuf_len)
			return 1;
		if (copy_to_user_nofault(ubuf + *pos, &hdr, 16))
			return 0;
		*pos += 16;
		if (copy_to_user_nofault(ubuf + *pos, demo_node_item(node, i), 48)) {
			/* back to the header: the item is emitted again next time */
			*pos -= 16;
			return 0;
		}
		*pos += 48;
		(*emitted)++;
	}
	return 1;
}

static long demo_lookup_ioctl(struct demo_tree *tree, char __user *ubuf, size_t ubuf_len)
{
	struct demo_node *node;
	unsigned long pos = 0;
	int emitted = 0;
	long ret;

	while (1) {
		ret = -EFAULT;
		if (fault_in_writeable(ubuf + pos, ubuf_len - pos))
			break;

		node = demo_tree_next(tree);
		if (!node) {
			ret = 0;
			break;
		}
		ret = demo_emit_items(node, ubuf, ubuf_len, &pos, &emitted);
		demo_put_node(node);
		if (ret)
			break;
	}
	if (ret > 0)
		ret = 0;
	return ret;
}

static int demo_plain_helper(int a)
{
	return a + 1;
}
`;

/**
 * A retry loop whose state never repeats: `rounds` counts every pass, so the explorer has to walk
 * states until its budget runs out. Used to test that a cancel ends a long simulation promptly.
 */
export const endlessCounterC = `static long demo_fill_counted(char __user *ubuf, size_t len, struct demo_ring *ring)
{
	size_t done = 0;
	unsigned long rounds = 0;

	while (done < len) {
		size_t left;

		pagefault_disable();
		left = copy_to_user_inatomic(ubuf + done, demo_ring_data(ring), len - done);
		pagefault_enable();
		done += len - done - left;
		rounds++;
		if (left && fault_in_writeable(ubuf, len))
			return -EFAULT;
	}
	return rounds;
}
`;
