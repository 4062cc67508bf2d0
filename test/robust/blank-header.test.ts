// The batch path blanks functions that cannot report (engine/syntax/blank-irrelevant.ts); an item
// is only a definition to blank when its header is one. Fuzz seed 31 input 29554 (our fuzzer's
// random broken text, below): an item `[ do { ... } ... demo_fn1(void) { ... ] }` went on past a
// depth-0 block that did not end it, ended like a definition and was blanked; the whole text's
// parse of that junk is an ERROR that swallows demo_fn2, so the CLI reported a finding in
// demo_fn2 that the engine and the server do not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankIrrelevant } from '../../engine/syntax/blank-irrelevant';
import { analyzeFresh, engine, shape } from './harness';

const SEED31_29554 = "static long demo_fn0(void)\n{\n\t0x7fffffff\n\tif (ret) }\n\tcopy_to_user(kbuf, ubuf, len);\n\tfor (;;);\n\tpagefault_disable();;\n\tif (!page) if (ret)\n\tx;\n\t[\n\tdo {\n\t\u2028\n\tunpin_user_pages(pages, nr);\n\tif (!page) \r\n}\n\nstatic ssize_t demo_fn1(void)\n{\n\tif (ret) \ud83d\ude00\n\tif (n != 1) ]\n\t...;\n}\n\nstatic long demo_fn2(char __user *ubuf, size_t len)\n{\n\tlong ret;\n\tif (ret) fault_in_readable(ubuf, len)\n}\n";

test('seed 31 #29554: an item whose header holds an earlier block is not blanked, and the CLI path agrees with the whole parse', async () => {
  const e = await engine();
  const batch = analyzeFresh(e, SEED31_29554, { path: 'x.c', skipIrrelevant: true });
  const whole = analyzeFresh(e, SEED31_29554, { path: 'x.c' });
  assert.deepEqual(shape(batch.findings), shape(whole.findings));
  // The junk item (from `[` to demo_fn1's `}`) stays in the text.
  const b = blankIrrelevant(SEED31_29554, new Set(['fault_in_readable']));
  assert.ok(b.text.includes('unpin_user_pages(pages, nr)'), 'the junk item is kept');
  assert.ok(b.text.includes('demo_fn1'), 'its definition-like end is kept with it');
});

test('headers of real definitions stay blankable: words and `*` before the name, nothing else', () => {
  const text = [
    'static const struct demo_ops *__init demo_ops_get(int i)\n{\n\treturn 0;\n}\n',
    'static void demo_plain(void)\n{\n}\n',
    'int demo_table(int a[4], int (*fn)(int))\n{\n\treturn a[0];\n}\n',
    'static long demo_keep(char __user *p, size_t n)\n{\n\treturn fault_in_readable(p, n);\n}\n',
  ].join('\n');
  const b = blankIrrelevant(text, new Set(['fault_in_readable']));
  for (const name of ['demo_ops_get', 'demo_plain', 'demo_table']) assert.ok(!b.text.includes(name), `${name} is blanked`);
  assert.ok(b.text.includes('demo_keep'));
  // A prefix that is not words and `*` (junk before the name): kept.
  const junk = 'static long demo_j(void)\n{\n\treturn 0;\n}\n\nx[ ] static long demo_odd(void)\n{\n\treturn 0;\n}\n\n' + 'static long demo_keep(char __user *p, size_t n)\n{\n\treturn fault_in_readable(p, n);\n}\n';
  const bj = blankIrrelevant(junk, new Set(['fault_in_readable']));
  assert.ok(!bj.text.includes('demo_j'), 'the plain one before is blanked');
  assert.ok(bj.text.includes('demo_odd'));
});
