// The parser's token bound (engine/syntax/parser.ts MAX_PARSE_TOKENS): decided on the text, so
// every face (the CLI's blanked batch parse, the engine's whole parse, a server session) gives the
// same note. Fuzz seed 31 #29999: 8.4 MB of repeated functions met the wasm memory bound in the
// engine and not in the CLI, because where that bound is met depends on the instance's history.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PARSE_TOKENS, parseTokenCount } from '../../engine/syntax/parser';
import { repeatedFile } from './reproducers';
import { analyzeFresh, engine, sessionFindings, shape } from './harness';

test('token count: words, numbers, literals one each; other characters one each; comments none', () => {
  assert.equal(parseTokenCount('static int x_1 = 0x10;'), 6);
  assert.equal(parseTokenCount('p->q /* a b c */ // d e\n"s t" \'u\''), 6);
  assert.equal(parseTokenCount(';'.repeat(50), 10), 11, 'stops counting past the limit');
});

test('past the token bound the CLI path, the engine and a session give the same one note, before any parse', async () => {
  const e = await engine();
  const text = repeatedFile(5000);
  const tokens = parseTokenCount(text);
  assert.ok(tokens > MAX_PARSE_TOKENS && tokens < 1.1 * MAX_PARSE_TOKENS, `${tokens}`);
  const batch = e.analyze(text, { path: 't.c', skipIrrelevant: true });
  const whole = e.analyze(text, { path: 't.c' });
  assert.equal(batch.findings.length, 1, JSON.stringify(batch.findings.slice(0, 2)));
  assert.match(batch.findings[0].message, /^Parsing stopped early in this file: parser token bound \(750000 tokens\)/);
  assert.deepEqual(shape(whole.findings), shape(batch.findings));
  assert.deepEqual(shape(await sessionFindings(e, text, '/t.c')), shape(batch.findings));
});

test('under the token bound the same repeated text is parsed (no note)', async () => {
  const text = repeatedFile(400);
  assert.ok(parseTokenCount(text) < MAX_PARSE_TOKENS);
  const r = analyzeFresh(await engine(), text, { path: 'u.c', skipIrrelevant: true });
  assert.equal(r.findings.filter((f) => f.rule === 'budget').length, 0);
});
