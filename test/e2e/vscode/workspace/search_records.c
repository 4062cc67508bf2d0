/*
 * A tree search ioctl of the shape seed 000 discusses, written for the editor end-to-end test:
 * the loop faults in what is left of the user buffer, finds the next leaf under the tree lock and
 * copies its items out with page faults disabled. A short copy puts the offset back at the start
 * of the item and goes round again so the pages can be faulted in. fault_in_writeable() touches
 * one byte per page; with MTE a tag mismatch further into a present page fails every copy of
 * the same item while every fault-in succeeds, so the loop never gets past it.
 */

struct scan_item_hdr {
	unsigned long key;
	unsigned int size;
};

static int scan_emit_items(struct scan_leaf *leaf, char __user *out, size_t out_len,
			   unsigned long *pos, int *emitted)
{
	struct scan_item_hdr hdr;
	int count = scan_leaf_items(leaf);
	int i;

	for (i = 0; i < count; i++) {
		if (*pos + 96 > out_len)
			return 1;
		if (copy_to_user_nofault(out + *pos, &hdr, 16))
			return 0;
		*pos += 16;
		if (copy_to_user_nofault(out + *pos, scan_leaf_item(leaf, i), 80)) {
			/* back to the header: the item goes out again next round */
			*pos -= 16;
			return 0;
		}
		*pos += 80;
		(*emitted)++;
	}
	return 1;
}

static long scan_tree_ioctl(struct scan_tree *tree, char __user *out, size_t out_len)
{
	struct scan_leaf *leaf;
	unsigned long pos = 0;
	int emitted = 0;
	long err;

	for (;;) { // expect: uaccess-livelock
		err = -EFAULT;
		if (fault_in_writeable(out + pos, out_len - pos))
			break;

		scan_lock_tree(tree);
		leaf = scan_next_leaf(tree);
		if (!leaf) {
			scan_unlock_tree(tree);
			err = 0;
			break;
		}
		err = scan_emit_items(leaf, out, out_len, &pos, &emitted);
		scan_unlock_tree(tree);
		if (err)
			break;
	}
	if (err > 0)
		err = 0;
	return err;
}
