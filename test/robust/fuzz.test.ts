// The deterministic slice of the fuzz suite that runs with `npm test` (the long run is
// `npm run fuzz`): fixed inputs of a fixed seed through the CLI, the engine and a server session,
// which must neither fail nor disagree. No input at the size limit here (they take seconds each;
// the long run has them). Every generator kind appears in the slice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../engine/engine';
import { FuzzRunner, makeInput } from './fuzz';

const SEED = 20261203;
const COUNT = 48;

test(`fuzz slice: ${COUNT} inputs of seed ${SEED}, three faces, no failure and no difference`, async () => {
  const engine = await createEngine();
  const runner = new FuzzRunner(engine);
  const kinds = new Set<string>();
  const failures: string[] = [];
  try {
    for (let i = 0; i < COUNT; i++) {
      const input = makeInput(SEED, i);
      kinds.add(input.kind);
      const o = await runner.run(input);
      if (o.problems.length) failures.push(`input ${i} (${o.kind}): ${o.problems.join(' / ').slice(0, 500)}`);
    }
  } finally {
    runner.dispose();
  }
  assert.deepEqual(failures, []);
  for (const k of ['mutated', 'random', 'patch', 'encoding']) assert.ok(kinds.has(k), `kind ${k} in the slice (${[...kinds].join(', ')})`);
});

test('fuzz inputs are deterministic: input i of a seed is the same text every time', () => {
  for (const i of [0, 7, 31]) {
    const a = makeInput(SEED, i);
    const b = makeInput(SEED, i);
    assert.equal(a.text, b.text);
    assert.equal(a.name, b.name);
  }
  assert.notEqual(makeInput(SEED, 1).text, makeInput(SEED + 1, 1).text);
});
