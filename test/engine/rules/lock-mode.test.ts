// A lock call's mode from its argument (API table `exclusiveWhen`): the message and the trace
// say the mode the code takes the lock in, and the ops-table model says what ->iomap_begin took.
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
async function run(text: string, kernel?: string): Promise<Finding[]> {
  parser ??= loadCParser();
  const file = lowerC(await parser, text);
  return runRules(file, text, { rules: ['fault-under-lock'], ...(kernel ? { kernel } : {}) });
}

const shape = (state: string): string => `
static int scorefs_dump(struct scorefs_inode *si, char __user *ubuf, size_t len)
{
	struct gfs2_holder gh;
	int err;

	err = gfs2_glock_nq_init(si->gl, ${state}, 0, &gh);
	if (err)
		return err;
	if (copy_to_user(ubuf, si->table, len))
		err = -EFAULT;
	gfs2_glock_dq_uninit(&gh);
	return err;
}
`;

test('lock mode: gfs2_glock_nq_init with LM_ST_EXCLUSIVE is held exclusive, with LM_ST_SHARED shared, in the message and the trace', async () => {
  for (const [state, mode] of [['LM_ST_EXCLUSIVE', 'exclusive'], ['LM_ST_SHARED', 'shared']] as const) {
    const f = await run(shape(state));
    assert.equal(f.length, 1, state);
    assert.match(f[0].message, new RegExp(`glock \\(gh\\) held ${mode} since gfs2_glock_nq_init\\(\\)`), state);
    const held = f[0].trace?.find((s) => /held (shared|exclusive)/.test(s.delta ?? ''));
    assert.ok(held, `${state}: a trace step says how the glock is held`);
    assert.match(held.delta!, new RegExp(`held ${mode}`), state);
  }
});

test('lock mode: the v5.15 gfs2 iomap ops model holds the glock exclusive, as ->iomap_begin took it for a buffered write', async () => {
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'fault-under-lock', 'ops-glock-buffered-write.c'), 'utf8');
  const f = await run(text, 'v5.15');
  assert.equal(f.length, 1);
  const words = (f[0].trace ?? []).map((s) => `${s.delta ?? ''} ${s.note ?? ''}`).join('\n');
  assert.match(words, /held exclusive by/);
  assert.doesNotMatch(words, /shared/);
});
