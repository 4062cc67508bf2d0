// Recall shapes of the seed rules taken from real fixes (issue 9): each bug with its fixed twin,
// and the kernel-version switches they depend on. The fixtures check lines; this checks words
// and versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser, type CParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import type { Finding } from '../../../engine/findings';
import { repoRoot } from '../../helpers/repo';

let parser: Promise<CParser> | undefined;
async function run(text: string, opts: { rules?: string[]; kernel?: string } = {}): Promise<Finding[]> {
  parser ??= loadCParser();
  const file = lowerC(await parser, text);
  return runRules(file, text, opts);
}

function fixture(rel: string): string {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', rel), 'utf8');
}

test('vma-modify-read-lock: stack expansion with no mmap_lock fires on every version; under the read lock only from v6.5', async () => {
  const text = fixture('vma-modify-read-lock/stack-grow-unlocked.c');
  const old = await run(text, { rules: ['vma-modify-read-lock'], kernel: 'v6.1' });
  assert.deepEqual(old.map((f) => f.function), ['fetch_arg_page']);
  assert.match(old[0].message, /expand_downwards\(\) with no mmap_lock held: fetch_arg_page\(\) takes mmap_lock itself \(mmap_read_lock\(\) on line 16\)/);
  const now = await run(text, { rules: ['vma-modify-read-lock'] });
  assert.deepEqual(now.map((f) => f.function).sort(), ['fetch_arg_page', 'grow_for_fault']);
});
