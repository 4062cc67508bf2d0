// What the session's cache keys rest on beyond a function and its callees
// (engine/analysis/file-facts.ts): the recorder sees lookups by name, declared file-wide facts and
// undeclared walks over every function; and no rule walks the file without declaring the walk as
// a fact (else every edit anywhere in a file would re-check every function of it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadCParser } from '../../engine/syntax/parser';
import { lowerC } from '../../engine/lower/index';
import { runRules, functionsByNameOf } from '../../engine/rules/run';
import { CheckReads, fileFact, recordReads } from '../../engine/analysis/file-facts';
import type { FileIR, FunctionIR } from '../../engine/ir';
import { fixtureFiles, repoRoot } from '../helpers/repo';

test('the recorder sees lookups by name, declared facts with their value, and undeclared walks', () => {
  const fn = (name: string) => ({ name }) as unknown as FunctionIR;
  const file = { functions: [fn('a'), fn('b')], globals: [], syntaxErrors: [] } as unknown as FileIR;
  const byName = functionsByNameOf(file, true);
  const names = fileFact('test.names', (m: Map<string, FunctionIR>) => [...m.keys()].join(','));
  const r = new CheckReads({ byName, text: '', cancelled: () => false });
  const outer = recordReads(r);
  try {
    byName.get('b');
    assert.equal(names(byName), 'a,b');
    assert.equal(r.wide, false, 'a walk inside a declared fact is covered by its value');
    assert.deepEqual([...r.names], ['b']);
    assert.equal([...r.facts.values()][0].digest, JSON.stringify('a,b'));
    // Replayed on another file's map, the fact gives that file's value.
    const other = functionsByNameOf({ ...file, functions: [fn('a')] }, true);
    assert.equal([...r.facts.values()][0].replay({ byName: other, text: '', cancelled: () => false }), JSON.stringify('a'));
    for (const _ of byName.values()) break;
    assert.equal(r.wide, true, 'an undeclared walk makes the check depend on the whole file');
  } finally {
    recordReads(outer);
  }
  // Outside a recording nothing is noted (the CLI path).
  byName.get('a');
  assert.deepEqual([...r.names], ['b']);
});

test('no rule walks every function of a fixture outside a declared file-wide fact', async () => {
  const root = repoRoot();
  const parser = await loadCParser();
  const wide: string[] = [];
  let checked = 0;
  for (const path of fixtureFiles(join(root, 'test', 'fixtures'))) {
    const text = readFileSync(path, 'utf8');
    const file = lowerC(parser, text);
    const reads = new Map<FunctionIR, CheckReads>();
    runRules(file, text, { reads });
    for (const [f, r] of reads) {
      checked++;
      if (r.wide) wide.push(`${relative(root, path)}: ${f.name}`);
    }
  }
  assert.ok(checked > 100, `${checked} functions checked`);
  assert.deepEqual(wide, []);
});
