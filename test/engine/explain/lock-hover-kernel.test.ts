// The lock hover and the fault-under-lock diagnostic judge the same kernel version (issue 9): an
// ops table's hold that ends at a version (API table `ioHold.until`) is in both or in neither.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import { lockHover } from '../../../engine/explain/lock-hover';
import { repoRoot } from '../../helpers/repo';

const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'fault-under-lock', 'ops-glock-buffered-write.c'), 'utf8');
const row = text.split('\n').findIndex((l) => l.includes('iomap_file_buffered_write('));
const col = text.split('\n')[row].indexOf('iomap_file_buffered_write') + 3;

test('lock hover on a buffered write through an ops table that held the glock before v5.16 follows the selected kernel, like the diagnostic', async () => {
  const file = lowerC(await loadCParser(), text);
  for (const kernel of ['v5.15', 'v5.16', undefined]) {
    const fires = runRules(file, text, { rules: ['fault-under-lock'], ...(kernel ? { kernel } : {}) }).some((f) => f.range.startRow === row);
    const md = lockHover(file, text, row, col, kernel ? { kernel } : {})?.markdown ?? '';
    assert.equal(/can deadlock/.test(md), fires, `${kernel ?? 'mainline'}: diagnostic ${fires}, hover: ${md}`);
  }
  const old = lockHover(file, text, row, col, { kernel: 'v5.15' })!.markdown;
  assert.match(old, /`glock` held by the call itself: its ops table `gfs2_iomap_ops`'s ->iomap_begin runs first/);
});
