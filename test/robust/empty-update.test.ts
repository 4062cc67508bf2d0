// A half-typed update in a loop header (`k,++`) lowers to an update with no variable name; the
// GUP analysis then looked for the empty name in the text, and `indexOf('', i)` never runs past
// the end of a string: the analysis never returned (fuzz seed 41 #5033, a mutated fixture).
// A loop that never returns is synchronous: node:test's timeout cannot interrupt it, so the
// analyses (the CLI's batch path, the engine's whole parse, a session) run in a worker thread
// that is terminated, and the test failed, when it has not answered within LIMIT_MS (the fixed
// analysis takes milliseconds; the limit covers loading the engine on a loaded machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const LIMIT_MS = 60_000;

const TEXT = `static int demo_fill(unsigned long uaddr, struct page **pages, int n)
{
	int got, k;

	got = pin_user_pages_fast(uaddr, n, FOLL_WRITE, pages);
	if (got <= 0)
		return -EFAULT;
	for (k = 0; k < got; k,++)
		demo_touch(pages[k]);
	unpin_user_pages(pages, got);
	return 0;
}
`;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createEngine } = require(workerData.engine);
const { DocumentSession } = require(workerData.session);
(async () => {
  const e = await createEngine();
  const faces = {};
  for (const skipIrrelevant of [false, true]) {
    const r = e.analyze(workerData.text, { path: 'demo.c', skipIrrelevant });
    r.tree?.delete();
    faces[skipIrrelevant ? 'cli' : 'engine'] = { functions: r.file ? r.file.functions.map((f) => f.name) : [], findings: r.findings };
  }
  const s = new DocumentSession(e, 'file:///demo.c', '/demo.c', workerData.text);
  const r = await s.analyzeAsync();
  faces.session = { functions: r ? r.file.functions.map((f) => f.name) : [], findings: r ? r.findings : [] };
  s.dispose();
  parentPort.postMessage(faces);
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

type Face = { functions: string[]; findings: { rule: string; message: string }[] };

/** The three faces' results, or a failure naming the limit when the worker does not answer in time. */
function analyzeInWorker(text: string): Promise<Record<string, Face>> {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { engine: join(__dirname, '..', '..', 'engine', 'engine.js'), session: join(__dirname, '..', '..', 'engine', 'session.js'), text },
  });
  return new Promise<Record<string, Face>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the analysis did not return within ${LIMIT_MS} ms`)), LIMIT_MS);
    worker.once('message', (m: Record<string, Face> | { error: string }) => {
      clearTimeout(timer);
      if ('error' in m && typeof m.error === 'string') reject(new Error(m.error));
      else resolve(m as Record<string, Face>);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  }).finally(() => worker.terminate());
}

test('a loop update with no operand (`k,++`) does not stop the GUP analysis from returning', async () => {
  const faces = await analyzeInWorker(TEXT);
  assert.deepEqual(Object.keys(faces).sort(), ['cli', 'engine', 'session']);
  for (const [face, r] of Object.entries(faces)) {
    assert.ok(r.functions.includes('demo_fill'), `${face}: ${JSON.stringify(r.functions)}`);
    assert.deepEqual(r.findings.filter((f) => f.rule === 'degraded'), [], face);
  }
});
