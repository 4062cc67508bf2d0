import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, type AnalysisResult } from '../../../engine/engine';
import { parsePatchSet } from '../../../engine/patch/parse';
import { seriesHistories } from '../../../engine/patch/series';
import {
  ADD_BUSY, ADD_PIN, applied, COUNT_RESETS, DROP_RELEASE, FIX_BUSY, MARK_PINNED, plainDiff, series, WOBBLE_BASE, WOBBLE_PATH,
} from './wobble-series';

const pin = { subject: 'pin the user buffer', hunks: [ADD_PIN] };
const busy = { subject: 'refuse a busy device', hunks: [ADD_BUSY] };
const resets = { subject: 'count resets', hunks: [COUNT_RESETS] };
const pinned = { subject: 'mark the buffer pinned', hunks: [MARK_PINNED] };
const fix = { subject: 'release the pages when busy', hunks: [FIX_BUSY] };

const tree = (p: string) => (p === WOBBLE_PATH ? WOBBLE_BASE : undefined);

/** Every "line N" of a message that names no file is a row of the text the finding is shown on. */
function assertLinesAgree(text: string, r: AnalysisResult): void {
  const rows = text.split('\n');
  for (const f of r.findings) {
    const primary = f.range.startRow + 1;
    const cited = [...f.message.matchAll(/\bline (\d+)\b(?! of )/g)].map((m) => Number(m[1]));
    assert.ok(cited.length > 0, f.message);
    for (const n of cited) assert.ok(/^[+ ]/.test(rows[n - 1] ?? ''), `line ${n} of "${f.message}" is a code line of the patch`);
    for (const rl of f.related) {
      // a related note sits on a line the message names
      if (/taken here|branch here/.test(rl.message)) assert.ok(cited.includes(rl.range.startRow + 1), `${rl.message} at ${rl.range.startRow + 1} cited in "${f.message}"`);
    }
    assert.ok(cited.includes(primary) || f.related.length > 0, `${f.message} at ${primary}`);
  }
}

for (const withTree of [false, true]) {
  const mode = withTree ? 'with --tree' : 'without the tree';
  const opts = (path: string) => ({ path, ...(withTree ? { readBase: tree } : {}) });

  test(`series ${mode}: the leak is reported once, naming the patch that introduced it`, async () => {
    const engine = await createEngine();
    const text = series(pin, busy, resets);
    const r = engine.analyze(text, opts('wobble.mbx'));
    assert.deepEqual(r.problems, []);
    const leaks = r.findings.filter((f) => f.rule === 'gup-leak');
    assert.equal(leaks.length, 1, JSON.stringify(r.findings, null, 1));
    const t = r.targets![r.findings.indexOf(leaks[0])];
    assert.equal(t.patchIndex, 2);
    assert.equal(t.subject, '[PATCH 2/3] wobble: refuse a busy device');
    assert.equal(t.path, WOBBLE_PATH);
    // the finding sits on the line patch 2 added, and its message cites the patch's lines
    const rows = text.split('\n');
    assert.equal(rows[leaks[0].range.startRow], '+\t\treturn -EBUSY;');
    assertLinesAgree(text, r);
    // the target cites lines of the final file (wobble_reset gained a line in patch 3)
    const final = applied(ADD_PIN, ADD_BUSY, COUNT_RESETS).split('\n');
    assert.equal(final[t.line - 1], '\t\treturn -EBUSY;');
    assert.match(t.message!, new RegExp(`returns -EBUSY at line ${t.line}\\b`));
  });

  test(`series ${mode}: a later patch that touches the function without fixing it does not move the blame`, async () => {
    const engine = await createEngine();
    const r = engine.analyze(series(pin, busy, pinned), opts('wobble.mbx'));
    const leaks = r.findings.filter((f) => f.rule === 'gup-leak');
    assert.equal(leaks.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(r.targets![r.findings.indexOf(leaks[0])].patchIndex, 2);
  });

  test(`series ${mode}: a patch that only removes lines (drops a release) is blamed for the leak`, async () => {
    const engine = await createEngine();
    const drop = { subject: 'drop the release on a short pin', hunks: [DROP_RELEASE] };
    const text = series(pin, drop);
    const r = engine.analyze(text, opts('wobble.mbx'));
    assert.deepEqual(r.problems, []);
    const leaks = r.findings.filter((f) => f.rule === 'gup-leak');
    assert.equal(leaks.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(r.targets![r.findings.indexOf(leaks[0])].subject, '[PATCH 2/2] wobble: drop the release on a short pin');
    // shown on the leaking return as patch 1 wrote it (a line keeps pointing at the patch that added it)
    const rows = text.split('\n');
    assert.equal(rows[leaks[0].range.startRow], '+\t\treturn -EFAULT;');
    // the same patch alone, against the file as patch 1 leaves it: on the line next to the removal
    const alone = series(drop).replace('[PATCH 1/1]', '[PATCH]');
    const single = engine.analyze(alone, withTree ? { path: 'p.patch', readBase: (p) => (p === WOBBLE_PATH ? applied(ADD_PIN) : undefined) } : { path: 'p.patch' });
    const sl = single.findings.filter((f) => f.rule === 'gup-leak');
    assert.equal(sl.length, withTree ? 1 : 0, 'without the tree the pin is not in the hunk');
    if (withTree) assert.equal(alone.split('\n')[sl[0].range.startRow], ' \t\treturn -EFAULT;');
  });

  test(`series ${mode}: a leak a later patch fixes is not reported`, async () => {
    const engine = await createEngine();
    const r = engine.analyze(series(pin, busy, fix), opts('wobble.mbx'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.findings, [], JSON.stringify(r.findings, null, 1));
    // ... while the first two alone have it
    const two = engine.analyze(series(pin, busy), opts('wobble.mbx'));
    assert.equal(two.findings.filter((f) => f.rule === 'gup-leak').length, 1);
  });
}

test('series without the tree: the final state keeps the lines earlier patches showed', () => {
  const set = parsePatchSet(series(pin, busy, fix));
  const [h] = seriesHistories(set);
  assert.equal(h.path, WOBBLE_PATH);
  assert.equal(h.steps.length, 3);
  const final = h.steps[2];
  // the whole of wobble_pin as the three patches leave it, in file order with file lines
  const want = applied(ADD_PIN, ADD_BUSY, FIX_BUSY).split('\n');
  for (const l of final.lines) {
    if (l.fileLine !== undefined) assert.equal(l.text, want[l.fileLine - 1], `line ${l.fileLine}`);
  }
  const text = final.lines.map((l) => l.text);
  assert.ok(text.includes('\t\tunpin_user_pages(pages, got);'));
  assert.ok(!text.includes('\tif (w->busy)'));
  // a line patch 1 added stays attributed to patch 1's `+` line
  const pinRow = final.lines.find((l) => l.text.includes('pin_user_pages_fast'))!;
  assert.equal(pinRow.kind, 'added');
  assert.ok(pinRow.patchRow < set.patches[1].startRow, 'row in patch 1');
});

test('with the tree, the series applies to the tree file in order; the final state is the whole file', () => {
  const set = parsePatchSet(series(pin, busy, fix));
  const [h] = seriesHistories(set, { readBase: tree });
  assert.equal(h.preText, WOBBLE_BASE);
  assert.equal(h.steps.length, 3);
  assert.equal(h.steps[2].text, applied(ADD_PIN, ADD_BUSY, FIX_BUSY));
});

test('a plain diff -u without function names: a note per hunk, and exit-worthy error when nothing could be analyzed', async () => {
  const engine = await createEngine();
  const text = plainDiff([ADD_BUSY]);
  const r = engine.analyze(text, { path: 'busy.diff' });
  assert.deepEqual(r.findings, []);
  const notes = r.problems.filter((p) => p.severity === 'info');
  assert.equal(notes.length, 1, JSON.stringify(r.problems));
  assert.match(notes[0].message, /^could not analyze wobble\.c hunk @@ -13,4 \+13,6 @@: .*pass --tree DIR/);
  assert.equal(notes[0].range!.startRow, 2, 'on the @@ line');
  const errors = r.problems.filter((p) => (p.severity ?? 'error') === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /could not analyze wobble\.c: .*pass --tree DIR/);
  // with the tree (the file after patch 1), the same diff is analyzed and the leak found
  const withTree = engine.analyze(text, { path: 'busy.diff', readBase: (p) => (p === 'wobble.c' ? applied(ADD_PIN) : undefined) });
  assert.deepEqual(withTree.problems, []);
  assert.equal(withTree.findings.filter((f) => f.rule === 'gup-leak').length, 1);
});

test('a plain diff -u with one analyzable hunk: notes for the others, no error', async () => {
  const engine = await createEngine();
  // ADD_PIN starts at the end of a function and adds a whole one: analyzable without a head
  const text = plainDiff([ADD_PIN]) + plainDiff([ADD_BUSY.map((l, i) => (i === 0 ? '@@ -13,4 +29,6 @@' : l))]).split('\n').slice(2).join('\n');
  const r = engine.analyze(text, { path: 'two.diff' });
  assert.equal(r.problems.filter((p) => (p.severity ?? 'error') === 'error').length, 0, JSON.stringify(r.problems));
  assert.equal(r.problems.filter((p) => p.severity === 'info' && /could not analyze wobble\.c hunk @@ -13,4 \+29,6 @@/.test(p.message)).length, 1, JSON.stringify(r.problems));
});
