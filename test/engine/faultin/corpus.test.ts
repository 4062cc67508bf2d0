// Real-world-sized files: thousands of lines, many functions without fault-in loops — no crash,
// no false finding from the four fault-in rules; mutated fixtures never make a rule throw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateLargeFile } from '../../../bench/generate-corpus';
import { FAULTIN_RULES, loopFunctions } from '../../../bench/faultin';
import { fixture, repoRoot, rules } from './helpers';

test('generated 5000-line files: no finding from the fault-in rules', async () => {
  for (const seed of [7, 11, 2026]) {
    const f = await rules(generateLargeFile(5000, seed), [...FAULTIN_RULES, 'degraded']);
    assert.deepEqual(f.map((x) => `${x.range.startRow + 1}:${x.rule}: ${x.message}`), [], `seed ${seed}`);
  }
});

test('a generated file with the fixture loops appended: exactly the loops that live-lock are reported', async () => {
  const text = `${generateLargeFile(3000, 5)}\n${loopFunctions(repoRoot())}`;
  const f = await rules(text, FAULTIN_RULES);
  const fns = [...new Set(f.map((x) => x.function))].sort();
  // The live-locking fixtures of test/fixtures/uaccess-livelock (renamed), nothing else.
  const dir = join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock');
  const marked = readdirSync(dir).filter((n) => n.endsWith('.c') && fixture(`uaccess-livelock/${n}`).includes('expect: uaccess-livelock')).length;
  assert.ok(marked >= 5);
  assert.equal(fns.length, marked, fns.join(', '));
  assert.ok(f.every((x) => x.rule === 'uaccess-livelock'));
});

test('mutated fixtures (lines dropped, text cut) never make a fault-in rule throw', async () => {
  const dirs = ['uaccess-livelock', 'fault-in-no-fault-address', 'fault-in-result-ignored', 'pagefault-disable-unbalanced'];
  let cases = 0;
  for (const d of dirs) {
    for (const name of readdirSync(join(repoRoot(), 'test', 'fixtures', d)).filter((n) => n.endsWith('.c'))) {
      const text = fixture(`${d}/${name}`);
      const lines = text.split('\n');
      const variants = [
        text.slice(0, Math.floor(text.length / 2)),
        text.slice(0, Math.floor((text.length * 3) / 4)),
        lines.filter((_, i) => i % 5 !== 3).join('\n'),
        lines.filter((l) => !l.includes('}')).join('\n'),
        text.replace(/\(/g, '( ('),
      ];
      for (const v of variants) {
        const f = await rules(v, [...FAULTIN_RULES, 'degraded']);
        assert.ok(!f.some((x) => x.rule === 'degraded'), `${d}/${name}: ${f.filter((x) => x.rule === 'degraded').map((x) => x.message).join('; ')}`);
        cases++;
      }
    }
  }
  assert.ok(cases >= 60);
});
