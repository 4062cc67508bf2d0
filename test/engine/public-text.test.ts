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
import { explainRule } from '../../engine/explain/rule-explain';
import { allRules } from '../../engine/rules/registry';
import { citeThread, THREADS } from '../../engine/kernel/citations';
import { SCENARIOS } from '../../engine/sim/scenarios/index';
import { main } from '../../engine/cli/main';
import { createEngine } from '../../engine/engine';
import { repoRoot } from '../helpers/repo';

const PRIVATE = /SEMANTICS|RULES\.md|ARCHITECTURE\.md|E2E\.md|\.\.\/shared|\/work\/shared|\bseeds? ?\d{3}\b|\d{3}_[0-9a-f]{16}\.txt/i;

function assertPublic(where: string, text: string): void {
  const m = PRIVATE.exec(text);
  assert.equal(m, null, `${where} points at the working notes: ${m ? text.slice(Math.max(0, m.index - 60), m.index + 60) : ''}`);
}

test('the thread table links every thread to lore', () => {
  for (const th of Object.values(THREADS)) {
    assert.match(th.lore, /^https:\/\/lore\.kernel\.org\/all\/\?q=/);
    assert.match(th.date, /^\d{4}-\d{2}-\d{2}$/);
  }
});

/** Every `thread “…” (…)` citation in a source field names a known thread with its date and lore
 * link. */
function assertThreadCitations(where: string, source: string): void {
  assertPublic(where, source);
  for (const m of source.matchAll(/thread “([^”]+)”/g)) {
    const t = Object.values(THREADS).find((x) => x.subject === m[1]);
    assert.ok(t, `${where} cites an unknown thread “${m[1]}”`);
    assert.ok(source.includes(citeThread(t).slice(0, -1)), `${where}: cite “${m[1]}” as ${citeThread(t)}`);
  }
}

test('API table and scenario sources cite kernel sources and public threads (subject, date, lore link)', () => {
  let threads = 0;
  for (const e of allApis()) {
    assertPublic(`api ${e.name}`, JSON.stringify(e));
    if (e.source) assertThreadCitations(`api ${e.name} source`, e.source);
    if (e.source && /thread “/.test(e.source)) threads++;
  }
  for (const sc of SCENARIOS) {
    assertPublic(`scenario ${sc.name}`, `${sc.title} ${sc.source}`);
    assertThreadCitations(`scenario ${sc.name} source`, sc.source);
    if (/thread “/.test(sc.source)) threads++;
  }
  assert.ok(threads > 20, `expected the GUP / fault-in / vhost entries to cite their threads, saw ${threads}`);
});

test('explain / hovers of every API table entry and the rule metadata cite public sources', () => {
  for (const e of allApis()) assertPublic(`explain ${e.name}`, explainApi(e.name) ?? '');
  for (const r of allRules) assertPublic(`rule ${r.meta.id}`, JSON.stringify(r.meta));
  for (const r of allRules) assertPublic(`explain ${r.meta.id}`, explainRule(r.meta.id) ?? '');
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

test('no source, doc or example names the working notes by path or a thread copy by file name', () => {
  // The developer guide may point at the notes folder beside the clone, but by no path a reader
  // would follow from a packaged file; code comments cite kernel sources and public threads.
  const NOTES = /\.\.\/shared\/|SEMANTICS\.md|\d{3}_[0-9a-f]{16}\.txt|\bseeds? \d{3}\b/i;
  const root = repoRoot();
  const walk = (dir: string): string[] => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : /\.(ts|md|c|h|json)$/.test(d.name) ? [join(dir, d.name)] : []);
  const files = ['README.md', ...['docs', 'engine', 'server', 'client', 'examples'].flatMap(walk)];
  assert.ok(files.length > 50);
  for (const f of files) {
    const m = NOTES.exec(readFileSync(join(root, f), 'utf8'));
    assert.equal(m, null, `${f} names the working notes: ${m?.[0]}`);
  }
});
