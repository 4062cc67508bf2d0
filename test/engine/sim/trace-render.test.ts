import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTraceTable } from '../../../engine/explain/trace-table';
import { simResultToJson } from '../../../engine/explain/trace-json';

const steps = [
  { thread: 0, operation: 'mmap_read_lock(mm)', delta: 'mmap_lock(mm0) held shared by CPU0' },
  { thread: 1, operation: 'mmap_write_lock(mm)', note: 'CPU1 waits for mmap_lock(mm0) exclusively (CPU0 holds it for read)' },
  { thread: 0, operation: 'copy_to_user(ubuf, kbuf, 64)', note: 'CPU0 waits for mmap_lock(mm0)',
    range: { start: 10, end: 20, startRow: 4, startCol: 8, endRow: 4, endCol: 30 } },
];

test('the CPU table puts each step in its thread\'s column and marks the deciding step', () => {
  const t = renderTraceTable(steps, { threads: ['walker', 'mprotect'], verdict: 'deadlock', note: 'every unfinished thread is blocked', decisive: 2, width: 40 });
  const lines = t.split('\n');
  assert.match(lines[0], /^ {2}CPU0 \(walker\)\s+CPU1 \(mprotect\)$/);
  const w = lines.find((l) => l.includes('mmap_write_lock'))!;
  assert.equal(w.indexOf('mmap_write_lock'), 2 + 42, 'second column starts after the first column and the gap');
  assert.ok(lines.some((l) => l.startsWith('>>copy_to_user(ubuf, kbuf, 64) [5:9]')), 'deciding step marked, 1-based source position');
  assert.ok(lines.includes(' *** DEADLOCK ***'));
  for (const l of lines) assert.ok(l.length <= 2 + 2 * 42, `no line overflows two columns: ${l}`);
});

test('the JSON rendering is 1-based and keeps the contract fields', () => {
  const j = simResultToJson({ scenario: 's', verdict: 'deadlock', arch: 'x86_64', kernel: 'v6.18', note: 'n', steps, decisive: 2, statesExplored: 3, interleavings: 1, naive: 3 });
  assert.deepEqual(Object.keys(j).slice(0, 2), ['verdict', 'arch']);
  const s = (j.steps as { line?: number; column?: number }[])[2];
  assert.equal(s.line, 5);
  assert.equal(s.column, 9);
  assert.equal(j.statesExplored, 3);
});
