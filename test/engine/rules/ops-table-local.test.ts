// fault-under-lock: an ops table passed through a local pointer holds what the table itself holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { runRules } from '../../../engine/rules/run';
import { repoRoot } from '../../helpers/repo';

test('fault-under-lock: the gfs2 iomap ops named through a local still hold the glock across a v5.15 buffered write', async () => {
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'fault-under-lock', 'ops-table-in-local.c'), 'utf8');
  const file = lowerC(await loadCParser(), text);
  const old = runRules(file, text, { rules: ['fault-under-lock'], kernel: 'v5.15' });
  assert.deepEqual(old.map((f) => f.function), ['ledger_append']);
  assert.match(old[0].message, /^iomap_file_buffered_write\(\) faults the user buffer in .* after its own ->iomap_begin \(gfs2_iomap_ops\) took the lock/);
  assert.deepEqual(runRules(file, text, { rules: ['fault-under-lock'], kernel: 'v5.16' }), []);
  assert.deepEqual(runRules(file, text, { rules: ['fault-under-lock'] }), []);
});
