// Issue 9 in the editor, over real stdio: a function with a seed rule's shape (a copy that can
// fault under a lock the fault path takes, a write-protect under mmap_read_lock) gets the
// "Simulate" code lens and code action, even with its finding suppressed; executeCommand runs
// that rule's scenario and answers the trace in the C's terms (the lock as written, the threads
// by role, the kernel's fault-path step), with LSP ranges on the C's lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capsWithProgress, LspClient, openAndWait, positionOf, withLspServer } from './lsp-client';

const uri = 'file:///work/demo/fs/ledgerfs/ledger.c';
const SERVER_CMD = 'faultline.server.simulate';

// Our own kernel-style C: a glock held across a copy to user space (the gfs2 shape), the same
// with the finding suppressed, a helper with no lock, and a soft-dirty reset under the read lock.
const ledgerC = `struct ledger_inode {
	struct gfs2_glock *i_gl;
	char rec[64];
};

static ssize_t ledger_show(struct ledger_inode *li, char __user *ubuf, size_t len)
{
	struct gfs2_holder gh;
	ssize_t ret;

	gfs2_holder_init(li->i_gl, LM_ST_SHARED, 0, &gh);
	ret = gfs2_glock_nq(&gh);
	if (ret)
		goto out_uninit;
	if (copy_to_user(ubuf, li->rec, len))
		ret = -EFAULT;
	gfs2_glock_dq(&gh);
out_uninit:
	gfs2_holder_uninit(&gh);
	return ret;
}

static ssize_t ledger_peek(struct ledger_inode *li, char __user *ubuf)
{
	struct gfs2_holder gh;
	int ret;

	gfs2_holder_init(li->i_gl, LM_ST_SHARED, 0, &gh);
	ret = gfs2_glock_nq(&gh);
	if (ret)
		return ret;
	// @faultline suppress fault-under-lock: the test checks the lens stays without a finding
	ret = put_user(li->rec[0], ubuf);
	gfs2_glock_dq_uninit(&gh);
	return ret;
}

static int ledger_sum(int a)
{
	return a + 1;
}

static int ledger_pte_range(pmd_t *pmd, unsigned long addr, unsigned long end, struct mm_walk *walk)
{
	pte_t *pte, ptent;
	spinlock_t *ptl;

	pte = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		ptent = ptep_get(pte);
		ptent = pte_wrprotect(ptent);
		ptent = pte_clear_soft_dirty(ptent);
		set_pte_at(walk->mm, addr, pte, ptent);
	}
	pte_unmap_unlock(pte - 1, ptl);
	return 0;
}

static const struct mm_walk_ops ledger_walk_ops = {
	.pmd_entry = ledger_pte_range,
};

static void ledger_reset_dirty(struct mm_struct *mm)
{
	mmap_read_lock(mm);
	inc_tlb_flush_pending(mm);
	walk_page_range(mm, 0, TASK_SIZE, &ledger_walk_ops, NULL);
	flush_tlb_mm(mm);
	dec_tlb_flush_pending(mm);
	mmap_read_unlock(mm);
}
`;

const withServer = (fn: (c: LspClient) => Promise<void>): Promise<void> => withLspServer(fn, {}, capsWithProgress());
const open = (c: LspClient): Promise<void> => openAndWait(c, uri, ledgerC);

test('seed rules in the editor: a Simulate lens on the locked copies (finding or not) and the wrprotect walk, none on the plain helper', async () => {
  await withServer(async (c) => {
    await open(c);
    const lenses: any[] = await c.request('textDocument/codeLens', { textDocument: { uri } });
    const sim = lenses.filter((l) => l.command?.title === 'Simulate');
    const fns = sim.map((l) => l.command.arguments[0].function).sort();
    assert.deepEqual(fns, ['ledger_peek', 'ledger_reset_dirty', 'ledger_show'], JSON.stringify(lenses));
    const show = sim.find((l) => l.command.arguments[0].function === 'ledger_show');
    assert.equal(show.command.command, 'faultline.simulate');
    assert.equal(show.range.start.line, positionOf(ledgerC, 'ledger_show(').line);
    assert.match(show.command.tooltip, /fault-under-lock: copy_to_user\(\) on line 15 under the glock of gh/);
    const reset = sim.find((l) => l.command.arguments[0].function === 'ledger_reset_dirty');
    assert.match(reset.command.tooltip, /wrprotect-under-read-lock: pte_wrprotect\(\)/);

    const ask = (needle: string) => {
      const at = positionOf(ledgerC, needle);
      return c.request('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [] } });
    };
    const inPeek: any[] = await ask('put_user(li->rec[0]');
    assert.deepEqual(inPeek.filter((a) => a.title === 'Simulate this function').map((a) => a.command.arguments[0].function), ['ledger_peek']);
    const inSum: any[] = await ask('return a + 1');
    assert.ok(!inSum.some((a) => a.title === 'Simulate this function'), JSON.stringify(inSum));
  });
});

test('seed rules in the editor: executeCommand runs the fault-under-lock scenario, trace in the C\'s terms with LSP ranges', async () => {
  await withServer(async (c) => {
    await open(c);
    const r = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri, function: 'ledger_show' }] }, 60000);
    assert.ok(r, 'a result');
    assert.equal(r.verdict, 'deadlock');
    assert.equal(r.rule, 'fault-under-lock');
    assert.deepEqual(r.threads, ['ledger_show()']);
    const lockLine = positionOf(ledgerC, 'ret = gfs2_glock_nq(&gh)').line;
    const copyLine = positionOf(ledgerC, 'copy_to_user(ubuf, li->rec, len)').line;
    const lock = r.steps.find((s: any) => s.operation === 'gfs2_glock_nq(&gh)');
    assert.equal(lock?.range?.start.line, lockLine, JSON.stringify(r.steps));
    assert.match(lock.delta, /the glock of gh held shared by ledger_show\(\)/);
    const copy = r.steps.find((s: any) => s.operation === 'copy_to_user(ubuf, li->rec, len)');
    assert.equal(copy?.range?.start.line, copyLine);
    const kernel = r.steps[r.decisive];
    assert.equal(kernel.operation, 'kernel: gfs2_page_mkwrite()');
    assert.match(kernel.note, /^the kernel's fault path, not a line of ledger_show\(\): .*self-deadlock/);
    // The trace document: the rule, the threads, each C step linked to its line.
    assert.match(r.trace, /^# ledger_show\(\): deadlock on x86_64/);
    assert.match(r.trace, /Scenario of `fault-under-lock`/);
    assert.match(r.trace, /Threads: 0 = ledger_show\(\)/);
    assert.ok(r.trace.includes(`(${uri}#L${copyLine + 1})`), r.trace);
    assert.doesNotMatch(r.trace, /inodeA|CPU\d|glock\(/);

    const w = await c.request('workspace/executeCommand', { command: SERVER_CMD, arguments: [{ uri, function: 'ledger_reset_dirty' }] }, 60000);
    assert.equal(w.verdict, 'data-loss');
    assert.equal(w.rule, 'wrprotect-under-read-lock');
    assert.equal(w.threads.length, 3);
    assert.ok(w.steps.some((s: any) => s.operation === 'mmap_read_lock(mm)' && s.range?.start.line === positionOf(ledgerC, 'mmap_read_lock(mm)').line));
    assert.ok(w.steps.some((s: any) => /^kernel: wp_page_copy\(\)/.test(s.operation)), JSON.stringify(w.steps.map((s: any) => s.operation)));
  });
});
