// Regression (robustness issue, item 1): a wasm abort inside the parser poisoned the rest of the
// run: in the CLI every later file failed with "internal error", in the server the document never
// got diagnostics again. Now the failing input alone is reported and a fresh parser (a fresh
// wasm instance) takes over. The abort is real: the runtime gets a 64 MiB memory ceiling, which
// unclosed `__acquires(` nesting exceeds (the nesting bound is lifted for these tests, the memory
// bound for the direct parses).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadCParser, ParserFailed, parserReady, parseDefaultsForTests, runtimeGeneration, runtimeMemoryForTests, isLive } from '../../engine/syntax/parser';
import { createEngine } from '../../engine/engine';
import { DocumentSession } from '../../engine/session';
import { main } from '../../engine/cli/main';
import { unclosedAnnotations } from './reproducers';

runtimeMemoryForTests.maximumPages = 1024; // 64 MiB
// Deep unclosed nesting is refused before the parse by default (MAX_NESTING): let it through.
parseDefaultsForTests.maxNesting = Infinity;

const leaky = `static int demo_leak(unsigned long uaddr, int err)
{
	struct page *page;
	int n;

	n = get_user_pages_fast(uaddr, 1, 0, &page);
	if (n != 1)
		return -EFAULT;
	if (err)
		return err;
	put_page(page);
	return 0;
}
`;

test('a parser abort is that input\'s failure only; the next parse gets a fresh instance', async () => {
  const parser = await loadCParser();
  const before = runtimeGeneration();
  const good = parser.parse('int f(void) { return 1; }');
  assert.throws(() => parser.parse(unclosedAnnotations(2_000_000), null, { limits: { maxMemory: Infinity } }), ParserFailed);
  assert.equal(isLive(good), false, 'a tree of the aborted instance is dead');
  good.delete(); // harmless: the dead instance's functions are no-ops
  await parserReady();
  assert.ok(runtimeGeneration() > before);
  const again = parser.parse('int g(void) { return 2; }');
  assert.equal(again.rootNode.firstNamedChild?.type, 'function_definition');
  again.delete();
});

test('CLI: files after the one that aborts the parser are checked normally', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-abort-'));
  try {
    writeFileSync(join(dir, 'a.c'), leaky);
    // Aborts the 64 MiB instance before the parse's memory bound (256 MiB) is reached.
    // It names a GUP call, so the CLI's byte prefilter lets it through to the parser.
    writeFileSync(join(dir, 'b.c'), `static void demo_pin(void) { pin_user_pages_fast(0, 1, 0, 0); }\n${unclosedAnnotations(3_000_000)}`);
    writeFileSync(join(dir, 'c.c'), leaky.replace(/demo_leak/g, 'demo_leak2'));
    let out = '';
    let err = '';
    const code = await main(['check', '--format', 'json', dir], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, stdin: new PassThrough(), cwd: dir, env: {} });
    const diags = JSON.parse(out).diagnostics as { file: string; rule: string; message: string }[];
    assert.ok(diags.some((d) => d.file.endsWith('a.c') && d.rule === 'gup-leak'), out);
    assert.ok(diags.some((d) => d.file.endsWith('c.c') && d.rule === 'gup-leak'), `the file after the failure is checked: ${out}\n${err}`);
    const failures = (JSON.parse(out).problems as { file: string; message: string }[]).filter((p) => /parser failed/.test(p.message));
    assert.deepEqual(failures.map((p) => p.file.replace(/^.*\//, '')), ['b.c'], 'only the file that aborted the parser fails');
    assert.equal(code, 2, 'an input that could not be analysed is an input error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server session: after a parser failure the document gets diagnostics again once its text changes', async () => {
  const engine = await createEngine();
  await engine.ready();
  const s = new DocumentSession(engine, 'file:///x.c', '/x.c', leaky);
  const first = await s.analyzeAsync();
  assert.ok(first?.findings.some((f) => f.rule === 'gup-leak'));
  // Another document (or this one) aborts the parser: the kept tree belongs to a dead instance.
  const parser = await loadCParser();
  assert.throws(() => parser.parse(unclosedAnnotations(2_000_000), null, { limits: { maxMemory: Infinity } }), ParserFailed);
  s.applyChange({ text: leaky.replace('return err;', 'return err; /* edited */') });
  const after = await s.analyzeAsync();
  assert.ok(after?.findings.some((f) => f.rule === 'gup-leak'), JSON.stringify(after));
  assert.deepEqual(after?.problems, []);
  s.dispose();
});
