// The seed rules in the editor (issue 9), through the real server over stdio: the lock hovers
// (what the fault path takes at an acquisition; why a faulting call under a lock can or cannot
// deadlock, at the selected kernel version) and the quick fixes (set_page_dirty ->
// set_page_dirty_lock; mmap_read_lock/unlock -> mmap_write_lock/unlock, only when the pairing is
// all in the function). Our own kernel-style C, never copied from the kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo';
import { LspClient, positionOf, withLspServer } from './lsp-client';

type Pos = { line: number; character: number };
type Edit = { range: { start: Pos; end: Pos }; newText: string };

function applyEdits(text: string, edits: Edit[]): string {
  const lines = text.split('\n');
  const offset = (p: Pos): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  let out = text;
  for (const e of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

async function openFor(c: LspClient, uri: string, text: string, rule: string): Promise<any[]> {
  const since = c.received.length;
  c.open(uri, 'c', text);
  return c.diagnostics(uri, since, (d) => d.some((x: any) => x.code === rule));
}

async function hoverAt(c: LspClient, uri: string, text: string, marker: string, delta = 2): Promise<string> {
  const h = await c.request('textDocument/hover', { textDocument: { uri }, position: positionOf(text, marker, delta) });
  return h?.contents?.value ?? '';
}

async function quickFixes(c: LspClient, uri: string, d: any): Promise<any[]> {
  const actions = await c.request('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
  // The rule's own fix: an edit that is not the suppression comment.
  return actions.filter((a: any) => a.edit && !a.title.startsWith('Disable '));
}

// Our fixtures: a copy with page faults enabled under a glock, and nofault copies under one.
const fixture = (name: string): string => readFileSync(join(repoRoot(), 'test', 'fixtures', 'fault-under-lock', name), 'utf8');
const glockRead = fixture('glock-read-copy.c');
const nofaultRead = fixture('nofault-copies-under-lock.c');

test('hover: a glock acquisition says what the fault path takes; a copy under it says it can deadlock, a nofault copy that it cannot', async () => {
  await withLspServer(async (c) => {
    const uri = 'file:///work/demo/fs/clusterfs/read.c';
    await openFor(c, uri, glockRead, 'fault-under-lock');
    const onLock = await hoverAt(c, uri, glockRead, 'gfs2_glock_nq(&gh);');
    assert.match(onLock, /Page-fault path and `glock`:\*\* gfs2_fault\(\) and gfs2_page_mkwrite\(\) take the inode glock/);
    const onCopy = await hoverAt(c, uri, glockRead, 'copy_to_user(ubuf, ci->record, len))');
    assert.match(onCopy, /`copy_to_user\(\)` can take a page fault here with page faults enabled/);
    assert.match(onCopy, /`glock` \(gfs2_glock_nq\(\), line 11\): \*\*can deadlock\*\*/);
    const uri2 = 'file:///work/demo/fs/notefs/file.c';
    const since = c.received.length;
    c.open(uri2, 'c', nofaultRead);
    await c.diagnostics(uri2, since);
    const onNofault = await hoverAt(c, uri2, nofaultRead, 'copy_to_user_nofault(ubuf, ni->title, len)');
    assert.match(onNofault, /runs under `glock` but cannot take a page fault here/);
    assert.match(onNofault, /so no deadlock/);
  });
});

const opsWrite = `static ssize_t tallyfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	inode_lock(inode);
	ret = iomap_file_buffered_write(iocb, from, &gfs2_iomap_ops);
	inode_unlock(inode);
	return ret;
}
`;

test('hover follows faultline.kernel: at v5.15 the buffered write through the gfs2 iomap ops can deadlock, as its diagnostic says; at mainline neither', async () => {
  for (const kernel of ['v5.15', undefined]) {
    const c = new LspClient();
    c.handlers.set('workspace/configuration', () => [kernel ? { kernel } : {}]);
    try {
      await c.initialize();
      const uri = 'file:///work/demo/fs/tallyfs/write.c';
      const since = c.received.length;
      c.open(uri, 'c', opsWrite);
      const diags = await c.diagnostics(uri, since, (d) => !kernel || d.some((x: any) => x.code === 'fault-under-lock'));
      const fires = diags.some((x: any) => x.code === 'fault-under-lock');
      assert.equal(fires, !!kernel, JSON.stringify(diags));
      const md = await hoverAt(c, uri, opsWrite, 'iomap_file_buffered_write(');
      assert.match(md, /`iomap_file_buffered_write\(\)` can take a page fault here/);
      if (kernel) assert.match(md, /`glock` held by the call itself: its ops table `gfs2_iomap_ops`'s ->iomap_begin runs first .*\*\*can deadlock\*\*/);
      else assert.doesNotMatch(md, /can deadlock/);
    } finally {
      assert.equal(await c.shutdown(), 0);
    }
  }
});

const dirtyPages = `static int scanner_fill(struct scanner *s, unsigned long uaddr, int n)
{
	struct page *pages[4];
	int got, i;

	got = pin_user_pages_fast(uaddr, n, FOLL_WRITE, pages);
	if (got <= 0)
		return got ? got : -EFAULT;
	scanner_dma(s, pages, got);
	for (i = 0; i < got; i++)
		set_page_dirty(pages[i]);
	unpin_user_pages(pages, got);
	return 0;
}
`;

test('code action: set_page_dirty() on a GUP page becomes set_page_dirty_lock(), and the result is silent', async () => {
  await withLspServer(async (c) => {
    const uri = 'file:///work/demo/drivers/scanner/fill.c';
    const diags = await openFor(c, uri, dirtyPages, 'gup-dirty-unlocked');
    const d = diags.find((x: any) => x.code === 'gup-dirty-unlocked');
    const [fix, ...more] = await quickFixes(c, uri, d);
    assert.ok(fix, 'a fix is offered');
    assert.equal(more.length, 0);
    assert.equal(fix.title, 'Use set_page_dirty_lock()');
    assert.equal(fix.isPreferred, true);
    const fixed = applyEdits(dirtyPages, fix.edit.changes[uri]);
    assert.equal(fixed, dirtyPages.replace('set_page_dirty(', 'set_page_dirty_lock('));
    const since = c.received.length;
    c.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
    const after = await c.diagnostics(uri, since);
    assert.ok(!after.some((x: any) => x.code === 'gup-dirty-unlocked'), JSON.stringify(after));
  });
});

const reflag = `static int seal_region(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (!vma) {
		mmap_read_unlock(mm);
		return -EINVAL;
	}
	vma->vm_flags |= VM_LOCKED;
	mmap_read_unlock(mm);
	return 0;
}
`;

// The unlock in a helper: no mechanical fix.
const reflagHelperUnlock = readFileSync(join(repoRoot(), 'test', 'fixtures', 'vma-modify-read-lock', 'unlock-in-helper.c'), 'utf8');

test('code action: vma-modify-read-lock takes mmap_lock for write (lock and both unlocks); none when the unlock is in another function', async () => {
  await withLspServer(async (c) => {
    const uri = 'file:///work/demo/drivers/seal/seal.c';
    const diags = await openFor(c, uri, reflag, 'vma-modify-read-lock');
    const d = diags.find((x: any) => x.code === 'vma-modify-read-lock');
    const [fix, ...more] = await quickFixes(c, uri, d);
    assert.ok(fix, 'a fix is offered');
    assert.equal(more.length, 0);
    assert.equal(fix.isPreferred, true);
    assert.equal(fix.edit.changes[uri].length, 3);
    const fixed = applyEdits(reflag, fix.edit.changes[uri]);
    assert.equal(fixed, reflag.replace(/mmap_read_/g, 'mmap_write_'));
    const since = c.received.length;
    c.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
    const after = await c.diagnostics(uri, since);
    assert.ok(!after.some((x: any) => x.code === 'vma-modify-read-lock'), JSON.stringify(after));

    const uri2 = 'file:///work/demo/drivers/seal/seal_split.c';
    const diags2 = await openFor(c, uri2, reflagHelperUnlock, 'vma-modify-read-lock');
    const d2 = diags2.find((x: any) => x.code === 'vma-modify-read-lock');
    assert.deepEqual(await quickFixes(c, uri2, d2), []);
  });
});
