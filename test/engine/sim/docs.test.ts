import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenariosMarkdown } from '../../../engine/sim/scenarios-doc';
import { SCENARIOS } from '../../../engine/sim/scenarios/index';

const root = join(__dirname, '..', '..', '..', '..');

test('docs/scenarios.md is in sync with the scenario data', () => {
  const doc = readFileSync(join(root, 'docs', 'scenarios.md'), 'utf8');
  assert.equal(doc, scenariosMarkdown(), 'regenerate with: node -e "process.stdout.write(require(\'./out/engine/sim/scenarios-doc.js\').scenariosMarkdown())" > docs/scenarios.md');
  for (const sc of SCENARIOS) assert.ok(doc.includes(`\`${sc.name}\``), sc.name);
});

test('docs/simulator.md documents the model, profiles, oracles, budget and how to add a scenario', () => {
  const doc = readFileSync(join(root, 'docs', 'simulator.md'), 'utf8');
  for (const h of ['## The model', '## Profiles and kernel versions', '## Oracles', '## Budget', '## Adding a scenario']) assert.ok(doc.includes(h), h);
});
