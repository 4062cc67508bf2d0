// Nothing a user reads points at files a user does not have (the project's working notes, the
// seed thread copies): hovers / `explain`, rule metadata, `simulate` output, finding messages,
// README and the user docs. Sources are cited as public threads and kernel commits instead.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { allApis } from '../../engine/kernel/api-table';
import { explainApi } from '../../engine/explain/api-hover';
import { allRules } from '../../engine/rules/registry';
import { publicText, THREADS } from '../../engine/kernel/citations';
import { main } from '../../engine/cli/main';
import { createEngine } from '../../engine/engine';
import { repoRoot } from '../helpers/repo';

const PRIVATE = /SEMANTICS|RULES\.md|ARCHITECTURE\.md|E2E\.md|\.\.\/shared|\/work\/shared|\bseeds? ?\d{3}\b|\d{3}_[0-9a-f]{16}\.txt/i;

function assertPublic(where: string, text: string): void {
  const m = PRIVATE.exec(text);
  assert.equal(m, null, `${where} points at the working notes: ${m ? text.slice(Math.max(0, m.index - 60), m.index + 60) : ''}`);
}

test('publicText cites the threads and the kernel sources', () => {
  const t = publicText("from seed 002's proposal (SEMANTICS.md C.1, C.3; seed 000/003)");
  assertPublic('publicText', t);
  assert.match(t, /Keep track of GUPed pages in fs and block.*Jerome Glisse, 2019-04-16, https:\/\/lore\.kernel\.org\//);
  assert.match(t, /pin_user_pages\.rst/);
  assert.match(t, /Avoid live-lock in fault-in\+uaccess loops.* and .*gfs2: Fix mmap \+ page fault deadlocks/);
  for (const th of Object.values(THREADS)) assert.match(th.lore, /^https:\/\/lore\.kernel\.org\/all\/\?q=/);
});

test('explain / hovers of every API table entry and the rule metadata cite public sources', () => {
  for (const e of allApis()) assertPublic(`explain ${e.name}`, explainApi(e.name) ?? '');
  for (const r of allRules) assertPublic(`rule ${r.meta.id}`, JSON.stringify(r.meta));
});

test('simulate --list and a scenario run cite public sources', async () => {
  let out = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: () => {}, stdin: Readable.from([]), cwd: repoRoot(), env: {} };
  assert.equal(await main(['simulate', '--list'], io), 0);
  assertPublic('simulate --list', out);
  const names = out.split('\n').map((l) => l.split(/\s+/)[0]).filter((n) => /^[a-z0-9-]+$/.test(n));
  assert.ok(names.length > 10);
  out = '';
  await main(['simulate', '--scenario', names[0], '--json'], io);
  assertPublic(`simulate --scenario ${names[0]} --json`, out);
});

test('README, the user docs and the rule pages cite public sources', () => {
  const root = repoRoot();
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'DEVELOPING.md').map((f) => join('docs', f));
  const rules = readdirSync(join(root, 'docs', 'rules')).map((f) => join('docs', 'rules', f));
  for (const f of ['README.md', ...docs, ...rules]) assertPublic(f, readFileSync(join(root, f), 'utf8'));
});

test('finding messages on the bundled examples cite public sources', async () => {
  const engine = await createEngine();
  const dir = join(repoRoot(), 'examples');
  for (const f of readdirSync(dir)) {
    const r = engine.analyze(readFileSync(join(dir, f), 'utf8'), { path: f });
    for (const x of r.findings) {
      assertPublic(`${f}: ${x.rule}`, x.message);
      for (const rl of x.related) assertPublic(`${f}: ${x.rule} note`, rl.message);
    }
  }
});
