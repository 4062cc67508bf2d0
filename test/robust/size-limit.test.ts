// Regressions of the size-limit fuzz inputs (robustness issue, "peak memory under 1 GB for any
// input under the size limit"): a fixture repeated to 8 MB took 37 s and 3 GB before the parse,
// in the batch path's text blanking (engine/syntax/blank-irrelevant.ts) and its relevance graph
// (engine/syntax/relevance-graph.ts), both quadratic in the number of repeated items. Generated
// reproducers at small sizes; the assertions count work (ids, edges, characters re-read), never
// time: doubling the input must no more than double the work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../engine/engine';
import type { Finding } from '../../engine/findings';
import { DocumentSession } from '../../engine/session';
import { blankIrrelevantFunctions } from '../../engine/syntax/blank-irrelevant';
import * as graph from '../../engine/syntax/relevance-graph';
import * as blank from '../../engine/syntax/blank-irrelevant';
import { blankKernelMacros } from '../../engine/syntax/macros';
import { relevantApiNames } from '../../engine/rules/relevance';
import { bareBlocks, repeatedFile } from './reproducers';

const shape = (fs: Finding[]) => fs.map((f) => `${f.range.startRow}:${f.range.startCol} ${f.rule} ${f.message}`).sort();

function spreadWork(text: string): number {
  blankIrrelevantFunctions(blankKernelMacros(text), relevantApiNames());
  return graph.lastSpreadWork;
}

test('a file repeated many times: relevance spreading is linear in the copies (each name expanded once)', () => {
  const w1 = spreadWork(repeatedFile(200));
  const w2 = spreadWork(repeatedFile(400));
  // Item-to-item edges made 4x the work here (every copy of demo_rep_pin named every other).
  assert.ok(w2 <= 2.1 * w1, `work ${w1} for 200 copies, ${w2} for 400`);
  assert.ok(w1 < 200 * 4 * 40, `work ${w1} for 200 copies of 4 items`);
});

test('a file repeated many times: what is blanked is what the spreading says (irrelevant copies only)', () => {
  const text = repeatedFile(3);
  const out = blankIrrelevantFunctions(text, relevantApiNames());
  assert.equal(out.length, text.length);
  // The pinning functions and their helper stay in every copy; the unrelated summing function,
  // which names only itself, is blanked in every copy.
  assert.equal(out.split('demo_rep_pin(struct').length - 1, 3);
  assert.equal(out.split('static void demo_rep_put').length - 1, 3);
  assert.equal(out.split('demo_rep_sum').length - 1, 0);
});

test('the blanking scan is linear: depth-0 blocks that never end an item', () => {
  const work = (pairs: number) => {
    blankIrrelevantFunctions(bareBlocks(pairs), relevantApiNames());
    return blank.lastHeaderWork;
  };
  const h1 = work(40_000);
  const h2 = work(80_000);
  // Each block's end re-read the item from its start: 2 * (1 + 2 + ... + n) characters, 4x the
  // work for 2x the blocks; now the scan gives up past a bound linear in the length.
  assert.ok(h2 <= 2.1 * h1, `header characters re-read: ${h1} for 40,000 blocks, ${h2} for 80,000`);
  assert.ok(h2 <= 4 * 160_000 + 300_000, `${h2}`);
});

test('a repeated file: the batch path (blanked), the whole text and a server session give the same findings', async () => {
  const e = await createEngine();
  const text = repeatedFile(40);
  const batch = e.analyze(text, { path: 'r.c', skipIrrelevant: true });
  const whole = e.analyze(text, { path: 'r.c' });
  batch.tree?.delete();
  whole.tree?.delete();
  const s = new DocumentSession(e, 'file:///r.c', '/r.c', text);
  try {
    const r = await s.analyzeAsync();
    assert.ok(r);
    assert.deepEqual(shape(batch.findings), shape(whole.findings));
    assert.deepEqual(shape(r.findings), shape(whole.findings));
  } finally {
    s.dispose();
  }
});
