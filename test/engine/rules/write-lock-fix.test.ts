// The "take mmap_lock for write" quick fix of vma-modify-read-lock and wrprotect-under-read-lock
// (issue 9): offered where the read lock and every release of it on the paths leaving it are
// calls of the same function, and then renaming those calls (the API table's `writeVariant`)
// leaves code the rule is silent on; not offered where a helper, the caller or a return owns part
// of the pairing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { Finding, QuickFix } from '../../../engine/findings';
import { allApis, lookupApi } from '../../../engine/kernel/api-table';
import { repoRoot } from '../../helpers/repo';

let parser: Promise<CParser> | undefined;
async function run(text: string, rule: string, kernel?: string): Promise<Finding[]> {
  parser ??= loadCParser();
  return runRules(lowerC(await parser, text), text, { rules: [rule], ...(kernel ? { kernel } : {}) });
}

function apply(text: string, fix: QuickFix): string {
  let out = text;
  for (const e of [...fix.edits].sort((a, b) => b.range.start - a.range.start)) out = out.slice(0, e.range.start) + e.newText + out.slice(e.range.end);
  return out;
}

/** The one finding of `rule` in `text`, its fix applied, and the rule run again on the result. */
async function fixOf(text: string, rule: string, kernel?: string): Promise<{ fix: QuickFix | undefined; fixed?: string; after?: Finding[] }> {
  const fs = await run(text, rule, kernel);
  assert.equal(fs.length, 1, JSON.stringify(fs.map((f) => f.message)));
  const fix = fs[0].fixes?.[0];
  if (!fix) return { fix };
  const fixed = apply(text, fix);
  return { fix, fixed, after: await run(fixed, rule, kernel) };
}

const reflag = (lock: string, unlock: string, arg = 'mm'): string => `
static int seal_region(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma;

	${lock}(${arg});
	vma = find_vma(mm, addr);
	if (!vma) {
		${unlock}(${arg});
		return -EINVAL;
	}
	vma->vm_flags |= VM_LOCKED;
	${unlock}(${arg});
	return 0;
}
`;

test('vma-modify-read-lock: mmap_read_lock and both of its unlocks become the write calls, and the fixed code is silent', async () => {
  const { fix, fixed, after } = await fixOf(reflag('mmap_read_lock', 'mmap_read_unlock'), 'vma-modify-read-lock');
  assert.ok(fix, 'a fix is offered');
  assert.equal(fix.edits.length, 3);
  assert.deepEqual(fix.edits.map((e) => e.newText), ['mmap_write_lock', 'mmap_write_unlock', 'mmap_write_unlock']);
  assert.match(fix.title, /mmap_write_lock\(\) \/ mmap_write_unlock\(\)/);
  assert.equal(fixed, reflag('mmap_write_lock', 'mmap_write_unlock'));
  assert.deepEqual(after, []);
});

test('vma-modify-read-lock: down_read/up_read on mm->mmap_sem (before v5.8) or mm->mmap_lock become down_write/up_write', async () => {
  for (const [field, kernel] of [['mmap_sem', 'v5.4'], ['mmap_lock', 'v5.10']]) {
    const { fix, fixed, after } = await fixOf(reflag('down_read', 'up_read', `&mm->${field}`), 'vma-modify-read-lock', kernel);
    assert.ok(fix, field);
    assert.equal(fixed, reflag('down_write', 'up_write', `&mm->${field}`));
    assert.deepEqual(after, []);
  }
});

test('vma-modify-read-lock: no fix in a kernel older than the write variant (mmap_write_lock is v5.8)', async () => {
  const { fix } = await fixOf(reflag('mmap_read_lock', 'mmap_read_unlock'), 'vma-modify-read-lock', 'v5.4');
  assert.equal(fix, undefined);
});

test('vma-modify-read-lock: the killable lock with its early return becomes mmap_write_lock_killable', async () => {
  const text = `
static int seal_killable(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = find_vma(mm, addr);
	if (vma)
		vma->vm_flags |= VM_LOCKED;
	mmap_read_unlock(mm);
	return 0;
}
`;
  const { fix, fixed, after } = await fixOf(text, 'vma-modify-read-lock');
  assert.ok(fix);
  assert.deepEqual(fix.edits.map((e) => e.newText), ['mmap_write_lock_killable', 'mmap_write_unlock']);
  assert.match(fixed!, /if \(mmap_write_lock_killable\(mm\)\)/);
  assert.deepEqual(after, []);
});

test('vma-modify-read-lock: two acquisitions sharing one unlock are renamed together', async () => {
  const text = `
static int seal_either(struct mm_struct *mm, unsigned long addr, int nested)
{
	struct vm_area_struct *vma;

	if (nested)
		mmap_read_lock(mm);
	else
		mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (vma)
		vma->vm_flags |= VM_LOCKED;
	mmap_read_unlock(mm);
	return 0;
}
`;
  const { fix, after } = await fixOf(text, 'vma-modify-read-lock');
  assert.ok(fix);
  assert.deepEqual(fix.edits.map((e) => e.newText), ['mmap_write_lock', 'mmap_write_lock', 'mmap_write_unlock']);
  assert.deepEqual(after, []);
});

test('vma-modify-read-lock: no fix when the unlock is in another function, when a path returns holding the lock, or when the unlock names another mm', async () => {
  const helperUnlock = readFileSync(join(repoRoot(), 'test', 'fixtures', 'vma-modify-read-lock', 'unlock-in-helper.c'), 'utf8');
  assert.equal((await fixOf(helperUnlock, 'vma-modify-read-lock')).fix, undefined);
  const returnsHeld = `
static struct vm_area_struct *seal_and_keep(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (!vma) {
		mmap_read_unlock(mm);
		return NULL;
	}
	vma->vm_flags |= VM_LOCKED;
	return vma;
}
`;
  assert.equal((await fixOf(returnsHeld, 'vma-modify-read-lock')).fix, undefined);
  const otherMm = reflag('mmap_read_lock', 'mmap_read_unlock').replace(/mmap_read_unlock\(mm\);\n\treturn 0;/, 'mmap_read_unlock(owner_mm);\n\treturn 0;');
  assert.equal((await fixOf(otherMm, 'vma-modify-read-lock')).fix, undefined);
});

test('wrprotect-under-read-lock: the soft-dirty reset takes mmap_lock for write (29a951dfb3c3) and the fixed code is silent', async () => {
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'wrprotect-under-read-lock', 'softdirty-read-lock.c'), 'utf8');
  const { fix, fixed, after } = await fixOf(text, 'wrprotect-under-read-lock');
  assert.ok(fix);
  assert.deepEqual(fix.edits.map((e) => e.newText), ['mmap_write_lock', 'mmap_write_unlock']);
  assert.equal(fixed, text.replace('mmap_read_lock(mm)', 'mmap_write_lock(mm)').replace('mmap_read_unlock(mm)', 'mmap_write_unlock(mm)'));
  assert.deepEqual(after, []);
});

test('every writeVariant of the API table names an entry that does the same to the same lock class, for write', () => {
  const withVariant = allApis().filter((e) => e.lock?.writeVariant);
  assert.ok(withVariant.length >= 4);
  for (const e of withVariant) {
    const v = lookupApi(e.lock!.writeVariant!);
    assert.ok(v?.lock, `${e.name} -> ${e.lock!.writeVariant}`);
    assert.equal(v.lock.lock, e.lock!.lock, e.name);
    assert.equal(v.lock.op, e.lock!.op, e.name);
    assert.equal(v.lock.arg, e.lock!.arg, e.name);
    assert.equal(v.lock.mode, 'write', e.name);
  }
});
