// Every code the engine can emit (each rule's id, and the `annotation`, `degraded` and `budget`
// notes) links to a page that exists, the way the server builds the link: the install's page,
// the extension's shipped docs/rules directory, and a configured base URL's file name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allRules } from '../../engine/rules/registry';
import { annotationMeta, degradedMeta } from '../../engine/rules/run';
import { budgetMeta } from '../../engine/budget';
import { docsLinker } from '../../server/features';
import { repoRoot } from '../helpers/repo';

const codes = [...allRules.map((r) => r.meta.id), annotationMeta.id, degradedMeta.id, budgetMeta.id];

test('every code the engine can emit has a page under docs/rules', () => {
  assert.ok(codes.length >= 16, `${codes.length} codes`);
  const dir = join(repoRoot(), 'docs', 'rules');
  const installed = docsLinker();
  const shipped = docsLinker(undefined, dir);
  const hosted = docsLinker('https://example.org/faultline/docs/rules/');
  for (const id of codes) {
    for (const link of [installed, shipped]) {
      const href = link(id);
      assert.ok(href.startsWith('file:'), href);
      assert.ok(existsSync(fileURLToPath(href)), `${id}: ${href} does not exist`);
    }
    const url = hosted(id);
    const page = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
    assert.ok(existsSync(join(dir, page)), `${id}: ${page} is not in docs/rules`);
  }
});
