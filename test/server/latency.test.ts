// Edit -> diagnostics latency over real stdio on a 5,000-line file. Prints the median; asserts
// only a generous bound (timings are measured by bench/, not tested). Also checks that the
// diagnostics follow the edits: each insert adds a leak, each removal takes it away.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LspClient } from './lsp-client';
import { generateLargeFile } from '../../bench/generate-corpus';
import { leakInsertionLine, leakingLine } from './fixtures';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

test('edit -> publishDiagnostics latency on a 5,000-line file', async (t) => {
  const text = generateLargeFile(5000);
  const lines = text.split('\n');
  assert.ok(lines.length >= 5000);
  const uri = 'file:///bench/big.c';
  const c = new LspClient();
  try {
    await c.initialize({ debounceMs: 0 });
    let since = c.received.length;
    const t0 = performance.now();
    c.open(uri, 'c', text, 1);
    const base = await c.diagnostics(uri, since, () => true, 60000);
    t.diagnostic(`initial analysis of ${lines.length} lines: ${(performance.now() - t0).toFixed(1)} ms, ${base.length} findings`);
    const target = leakInsertionLine(text, base.map((d: any) => d.range.start.line));

    const times: number[] = [];
    const counts: number[] = [];
    const bug = leakingLine;
    let version = 1;
    for (let i = 0; i < 30; i++) {
      const insert = i % 2 === 0;
      version++;
      since = c.received.length;
      const start = performance.now();
      c.notify('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [
          insert
            ? { range: { start: { line: target, character: 0 }, end: { line: target, character: 0 } }, text: bug }
            : { range: { start: { line: target, character: 0 }, end: { line: target + 1, character: 0 } }, text: '' },
        ],
      });
      const v = version;
      const diags = await c.waitFor(
        (m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v,
        30000,
        since,
      );
      times.push(performance.now() - start);
      counts.push(diags.params.diagnostics.length);
    }
    const med = median(times);
    t.diagnostic(`edit -> diagnostics over stdio: median ${med.toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms over ${times.length} edits`);
    // Inserting the early return adds findings; removing it restores the baseline.
    for (let i = 0; i < counts.length; i++) {
      if (i % 2 === 0) assert.ok(counts[i] > base.length, `edit ${i}: ${counts[i]} findings, baseline ${base.length}`);
      else assert.equal(counts[i], base.length, `edit ${i}`);
    }
    assert.ok(med < 2000, `median latency ${med} ms`);
  } finally {
    await c.shutdown();
  }
});
