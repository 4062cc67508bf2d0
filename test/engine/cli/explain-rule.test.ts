// `faultline --help` lists every command form, and `faultline explain` takes a rule id as well as
// an API name (issue 9): summary, default severity, the meta's what / why / fix paragraph and the
// path of the rule's page, in plain text and public words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../../engine/cli/main';
import { allRules } from '../../../engine/rules/registry';

// out/test/engine/cli -> repository root
const ROOT = join(__dirname, '..', '..', '..', '..');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, stdin: Readable.from([]), cwd: ROOT, env: {} });
  return { code, out, err };
}

test('--help lists simulate FILE --function NAME beside the scenario form', async () => {
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /^ {2}simulate FILE --function NAME \[--arch NAME\|all\] \[--kernel V\] \[--json\] \[--max-states N\]$/m);
  assert.match(h.out, /^ {2}simulate --scenario NAME/m);
  assert.match(h.out, /^ {2}explain RULE-ID$/m);
});

test('explain RULE-ID prints the summary, the default severity, the meta paragraph and the docs page', async () => {
  const r = await run(['explain', 'vma-modify-read-lock']);
  assert.equal(r.code, 0, r.err);
  const meta = allRules.find((x) => x.meta.id === 'vma-modify-read-lock')!.meta;
  assert.ok(r.out.startsWith(`vma-modify-read-lock (warning by default): ${meta.title}\n`), r.out);
  assert.ok(r.out.includes(meta.description.replace(/`/g, '')), r.out);
  const docs = /^Documentation: (.+)$/m.exec(r.out)?.[1];
  assert.ok(docs && docs.endsWith(join('docs', 'rules', 'vma-modify-read-lock.md')), r.out);
  assert.ok(existsSync(docs), `${docs} exists`);
  assert.ok(!/\*\*|`/.test(r.out), 'markdown is rendered to plain text');
});

test('explain takes every rule id, and a mistyped one is suggested; API names still work', async () => {
  for (const rule of allRules) {
    const r = await run(['explain', rule.meta.id]);
    assert.equal(r.code, 0, `${rule.meta.id}: ${r.err}`);
    assert.match(r.out, new RegExp(`^${rule.meta.id} \\((error|warning|info) by default\\): `));
  }
  const typo = await run(['explain', 'gup-leek']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /did you mean gup-leak/);
  const api = await run(['explain', 'mmap_read_lock']);
  assert.equal(api.code, 0);
  assert.match(api.out, /void mmap_read_lock\(struct mm_struct \*mm\)/);
});

test('the bundled command explains a rule too, with the page it ships', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'faultline'), 'explain', 'wrprotect-under-read-lock'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrprotect-under-read-lock \(error by default\): /);
  const docs = /^Documentation: (.+)$/m.exec(r.stdout)?.[1];
  assert.ok(docs && existsSync(docs), r.stdout);
});
