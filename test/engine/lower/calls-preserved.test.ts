// Property: every call written in the source appears exactly once as a `call` statement
// (wrappers such as likely()/READ_ONCE() and loop-macro heads excepted), whatever the
// control flow around it. Counted independently on the raw tree-sitter tree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getParser, lower } from './helpers';
import { blankKernelMacros } from '../../../engine/syntax/macros';
import { IDENTITY_WRAPPERS, ASSIGN_WRAPPERS, isLoopMacroName, isScopedGuardName } from '../../../engine/lower/loop-macros';
import type { Node } from 'web-tree-sitter';

const SNIPPETS = [
  `
static long foo_ioctl_pin(struct foo_dev *dev, unsigned long uaddr, unsigned int nr)
{
	struct page **pages = kvcalloc(nr, sizeof(struct page *), GFP_KERNEL);
	long done = 0, ret = 0;
	int i;

	if (!pages || WARN_ON_ONCE(!nr))
		return -ENOMEM;
	mmap_read_lock(current->mm);
	do {
		ret = pin_user_pages(uaddr + done * PAGE_SIZE, nr - done, FOLL_WRITE, pages + done);
		if (ret <= 0)
			break;
		done += ret;
	} while (done < nr && !fatal_signal_pending(current));
	mmap_read_unlock(current->mm);
	for (i = 0; i < done; i++) {
		if (likely(foo_page_ok(dev, pages[i])))
			continue;
		unpin_user_page(pages[i]);
		pages[i] = NULL;
	}
	switch (foo_mode(dev)) {
	case 0:
		foo_zero(dev) ? foo_a(dev) : foo_b(dev);
		fallthrough;
	default:
		WRITE_ONCE(dev->last, foo_now());
	}
	ret = foo_commit(dev, pages, done) ?: foo_fallback(dev);
	return ret < 0 ? foo_cleanup(dev, pages, done), ret : done;
}
`,
  `
static int foo_walk(struct sg_table *sgt, struct list_head *head)
{
	struct scatterlist *sg;
	struct foo_item *pos, *n;
	int i, err = 0;

	for_each_sg(sgt->sgl, sg, foo_nents(sgt), i) {
		if (foo_sg_bad(sg) && foo_report(sg) < 0)
			goto out;
	}
	list_for_each_entry_safe(pos, n, head, node)
		foo_free_item(pos);
	scoped_guard(mutex, &foo_lock) {
		err = foo_locked_op(READ_ONCE(foo_state));
	}
	while ((err = foo_next(head)) > 0 || foo_again(head))
		foo_consume(head, err);
out:
	return foo_finish(({ int __r = foo_stmt_expr(err); __r; }));
}
`,
];

function sourceCallees(root: Node, text: string): string[] {
  const out: string[] = [];
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop() as Node;
    if (n.type === 'sizeof_expression') continue;
    if (n.type === 'call_expression') {
      const f = n.childForFieldName('function');
      const name = f ? text.slice(f.startIndex, f.endIndex) : '';
      const semicolonMissing = n.parent?.type === 'expression_statement' && n.parent.lastChild?.isMissing;
      const skip = IDENTITY_WRAPPERS.has(name) || ASSIGN_WRAPPERS.has(name) || (semicolonMissing && (isLoopMacroName(name) || isScopedGuardName(name)));
      if (!skip) out.push(name);
    }
    for (const c of n.children) if (c) stack.push(c);
  }
  return out.sort();
}

for (const [k, snippet] of SNIPPETS.entries()) {
  test(`every call in snippet ${k + 1} is lowered exactly once`, async () => {
    const parser = await getParser();
    const blanked = blankKernelMacros(snippet);
    const tree = parser.parse(blanked);
    const expected = sourceCallees(tree.rootNode, blanked);
    tree.delete();
    const ir = await lower(snippet);
    assert.deepEqual(ir.syntaxErrors, []);
    const got = ir.functions
      .flatMap((f) => f.blocks.flatMap((b) => b.stmts))
      .filter((s) => s.kind === 'call')
      .map((s) => (s.kind === 'call' ? s.callee : ''))
      .filter((c) => !c.startsWith('scoped_guard(') && !c.startsWith('~'))
      .sort();
    assert.ok(expected.length >= 10, String(expected.length));
    assert.deepEqual(got, expected);
  });
}
