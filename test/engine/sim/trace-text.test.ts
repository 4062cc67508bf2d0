// A trace a reviewer reads (issue 8): CLI text within 100 columns, errno names, no lowering
// temporaries or internal labels; the same trace as JSON with typed facts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS } from '../../../engine/sim/scenarios/index';
import { runSimulateCommand } from '../../../engine/sim/simulate-command';
import { simulateFunction } from '../../../engine/sim/simulate-function';
import { formatFunctionResult } from '../../../engine/sim/simulate-command';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INTERNAL = /\$t\d+|\(call result\)|@[A-Za-z_]\w*:b\d+|\w\$ref\b|\w@\w/;

async function run(argv: string[]): Promise<string> {
  let out = '';
  await runSimulateCommand(argv, { out: (s) => { out += s; }, err: (s) => { out += s; } });
  return out;
}

test('every scenario trace fits in 100 columns and names no internal label', async () => {
  for (const sc of SCENARIOS) {
    const out = await run(['--scenario', sc.name, '--arch', 'all']);
    for (const line of out.split('\n')) {
      assert.ok(line.length <= 100, `${sc.name}: ${line.length} columns: ${line}`);
      assert.doesNotMatch(line, INTERNAL, `${sc.name}: ${line}`);
    }
  }
});

const TEMPS = `
static long demo_collect(struct demo_ring *r, char __user *ubuf, size_t len)
{
	unsigned long off = 0;

	while (off < len) {
		if (copy_to_user_nofault(ubuf + off, demo_ring_slot(r, off), 32)) {
			if (fault_in_writeable(ubuf + off, len - off))
				return -EFAULT;
			continue;
		}
		if (demo_ring_advance(r) < 0)
			return -EIO;
		off += 32;
	}
	return 0;
}
`;

test('a C function trace: temporaries named by their expression, errno names, 100 columns, JSON facts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-trace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'collect.c');
  writeFileSync(file, TEMPS);
  const text = await run([file, '--function', 'demo_collect', '--arch', 'all']);
  for (const line of text.split('\n')) {
    assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    assert.doesNotMatch(line, INTERNAL, line);
  }
  const r = await simulateFunction(TEMPS, 'demo_collect', { arch: 'x86_64' });
  const shown = formatFunctionResult({ ...r, verdict: 'inconclusive', steps: r.steps.length ? r.steps : [] }, 'collect.c');
  assert.doesNotMatch(shown, INTERNAL);
  // A choice below zero is shown as an errno name.
  const json = JSON.parse(await run([file, '--function', 'demo_collect', '--arch', 'arm64-mte', '--json']));
  for (const s of json.steps) {
    assert.doesNotMatch(`${s.operation} ${s.delta ?? ''} ${s.note ?? ''}`, INTERNAL);
    assert.doesNotMatch(s.delta ?? '', /returns? -\d+\b/, 'errno values are named');
  }
  const facts = json.steps.map((s: { facts?: Record<string, unknown> }) => s.facts ?? {});
  assert.ok(facts.some((f: Record<string, unknown>) => f.copy), 'copy steps carry their typed fact in JSON');
});
