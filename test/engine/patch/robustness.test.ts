import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../../engine/engine';
import { rng } from '../../../bench/generate-corpus';

// out/test/engine/patch -> repository root
const ROOT = join(__dirname, '..', '..', '..', '..');


const JUNK = ['@@ -1,3 +1,4 @@', 'diff --git a/x.c b/x.c', '+}', '-{', ' {', '\\ No newline at end of file', 'GIT binary patch', '--- a/y.c', '+++ /dev/null', 'From x', '', '+\tunpin_user_pages(pages, got);', '+\tgoto out;'];

test('mutated patches (deleted, duplicated, truncated, re-prefixed lines) never throw and stay fast', async () => {
  const engine = await createEngine();
  const base = readFileSync(join(ROOT, 'examples', 'gup-leak-introduced.patch'), 'utf8').split('\n');
  const rand = rng(20250301);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const t0 = Date.now();
  let withProblems = 0;
  for (let iter = 0; iter < 300; iter++) {
    const lines = [...base];
    const edits = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rand() * lines.length);
      switch (Math.floor(rand() * 5)) {
        case 0: lines.splice(at, 1); break;
        case 1: lines.splice(at, 0, lines[at] ?? ''); break;
        case 2: lines.length = at; break;
        case 3: if (lines[at]) lines[at] = pick(['+', '-', ' ', '@', 'x']) + lines[at].slice(1); break;
        default: lines.splice(at, 0, pick(JUNK)); break;
      }
    }
    const text = lines.join(rand() < 0.2 ? '\r\n' : '\n');
    const r = engine.analyze(text, { path: 'mutated.patch' });
    assert.ok(Array.isArray(r.findings) && Array.isArray(r.problems));
    for (const f of r.findings) {
      assert.ok(f.range.start >= 0 && f.range.end <= text.length && f.range.start <= f.range.end, `range inside the patch text (iteration ${iter})`);
    }
    if (r.problems.length) withProblems++;
  }
  assert.ok(withProblems > 0, 'some mutations are reported as broken input');
  assert.ok(Date.now() - t0 < 20_000, `300 mutated patches took ${Date.now() - t0} ms`);
});

test('a large mbox (many patches) is handled in bounded time', async () => {
  const engine = await createEngine();
  const one = readFileSync(join(ROOT, 'examples', 'gup-leak-introduced.patch'), 'utf8');
  // 300 patches, each to its own file (a series is judged in its final state: copies of one
  // patch to one file would not be 300 independent findings).
  const series = Array.from({ length: 300 }, (_, i) => one.replace('[PATCH]', `[PATCH ${i + 1}/300]`).replace(/drivers\/misc\/frob\.c/g, `drivers/misc/frob${i}.c`)).join('');
  const t0 = Date.now();
  const r = engine.analyze(series, { path: 'series.mbx' });
  assert.equal(r.findings.length, 300);
  assert.deepEqual(r.problems, []);
  assert.deepEqual([...new Set(r.targets!.map((t) => t.patchIndex))].length, 300);
  assert.ok(Date.now() - t0 < 20_000);
});
