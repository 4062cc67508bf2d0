// Regression (robustness issue, item 3): `while (fault_in_writeable()) { … }` (no arguments yet,
// as while typing) made fault-in-result-ignored throw inside its argument handling. Every rule
// and analysis must take a call with missing or extra arguments: this calls every API-table
// function with 0 to N+2 arguments (N from its prototype) in the shapes the rules look at (result
// ignored, tested, compared, stored; in a retry loop around a copy; with a release after it) and
// asserts that no rule fails (a failing rule leaves an info-level `degraded` note).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allApis } from '../../engine/kernel/api-table';
import { createEngine } from '../../engine/engine';
import { DocumentSession } from '../../engine/session';

/** Parameter count of a C prototype (`void` and `...` count as none). */
function arity(signature: string): number {
  const open = signature.indexOf('(');
  const close = signature.lastIndexOf(')');
  const inner = signature.slice(open + 1, close).trim();
  if (!inner || inner === 'void') return 0;
  return inner.split(',').filter((p) => p.trim() !== '...').length;
}

const ARG_POOL = ['ubuf', 'len', 'pages', '&page', 'FOLL_WRITE', 'nr', 'iter', 'mm', '0', 'flags', '&locked', 'vma'];

function args(n: number): string {
  return Array.from({ length: n }, (_, i) => ARG_POOL[i % ARG_POOL.length]).join(', ');
}

/** One function per shape, all calling `name` with `n` arguments. */
function shapes(name: string, n: number): string {
  const call = `${name}(${args(n)})`;
  const fn = (tag: string, body: string) => `static long demo_${tag}_${n}(char __user *ubuf, char *kbuf, size_t len, struct page **pages, int nr, struct iov_iter *iter, struct mm_struct *mm, unsigned int flags)\n{\n\tstruct page *page;\n\tlong ret = 0, left;\n\tint locked = 1;\n\n${body}\n}\n`;
  return [
    fn('ignored', `\t${call};\n\treturn 0;`),
    fn('tested', `\tif (${call})\n\t\treturn -EFAULT;\n\treturn 0;`),
    fn('compared', `\tret = ${call};\n\tif (ret == len || ret < 0 || ret != nr)\n\t\treturn ret;\n\treturn 0;`),
    fn('loop', `\twhile (${call}) {\n\t\tleft = copy_to_user(ubuf, kbuf, len);\n\t\tif (!left)\n\t\t\tbreak;\n\t}\n\treturn 0;`),
    fn('retry', `retry:\n\tleft = copy_from_user(kbuf, ubuf, len);\n\tif (left) {\n\t\tif (${call} == len)\n\t\t\treturn -EFAULT;\n\t\tgoto retry;\n\t}\n\treturn 0;`),
    fn('nofault', `\tpagefault_disable();\n\tret = ${call};\n\tpagefault_enable();\n\tif (ret)\n\t\tret = ${call};\n\treturn ret;`),
    fn('release', `\tret = ${call};\n\tif (ret <= 0)\n\t\treturn ret;\n\tunpin_user_pages(pages, ret);\n\tput_page(page);\n\treturn 0;`),
    // Found by the fuzz run (seed 1, input 7511): the call truth-tested in a loop around a
    // byte-granular copy of the length it should take as its second argument.
    fn('inatomic', `\tsize_t done = 0;\n\n\twhile (done < len) {\n\t\tpagefault_disable();\n\t\tleft = __copy_from_user_inatomic(kbuf + done, ubuf + done, len - done);\n\t\tpagefault_enable();\n\t\tdone = len - left;\n\t\tif (left && ${call})\n\t\t\treturn -EFAULT;\n\t}\n\treturn done;`),
    fn('loopidx', `\tint i;\n\n\tret = ${call};\n\tfor (i = 0; i < ret; i++)\n\t\t${call};\n\treturn ret;`),
    // Found by the fuzz run (seed 31, input 30766): the call inside a same-file helper, whose
    // summary the GUP analysis applies at each call of the helper; the helper itself called
    // with fewer, as many and more arguments than it has parameters.
    fn('helper', `\tif (nr > len) {\n\t\t${call};\n\t\treturn -EINVAL;\n\t}\n\t${call};\n\treturn 0;`),
    fn('caller', [
      '\tret = pin_user_pages_fast((unsigned long)ubuf, nr, FOLL_WRITE, pages);',
      '\tif (ret <= 0)\n\t\treturn -EFAULT;',
      `\tif (flags & 1)\n\t\treturn demo_helper_${n}();`,
      `\tif (flags & 2)\n\t\treturn demo_helper_${n}(ubuf);`,
      `\tif (flags & 4)\n\t\treturn demo_helper_${n}(pages, kbuf);`,
      `\tif (flags & 8)\n\t\treturn demo_helper_${n}(ubuf, kbuf, len, pages, ret, iter, mm, flags, nr, page);`,
      `\treturn demo_helper_${n}(ubuf, kbuf, len, pages, ret, iter, mm, flags);`,
    ].join('\n')),
  ].join('\n');
}

test('every API-table function with 0..N+2 arguments: no rule fails on any shape', async () => {
  const engine = await createEngine();
  const failures: string[] = [];
  let calls = 0;
  for (const api of allApis()) {
    const n = arity(api.signature);
    const text = Array.from({ length: n + 3 }, (_, k) => shapes(api.name, k)).join('\n');
    calls += n + 3;
    for (const skipIrrelevant of [true, false]) {
      const r = engine.analyze(text, { path: `${api.name}.c`, skipIrrelevant });
      r.tree?.delete();
      for (const f of r.findings) if (f.rule === 'degraded') failures.push(`${api.name}: ${f.message}`);
    }
    const s = new DocumentSession(engine, `file:///${api.name}.c`, `/${api.name}.c`, text);
    for (const f of s.analyze().findings) if (f.rule === 'degraded') failures.push(`${api.name} (session): ${f.message}`);
    s.dispose();
  }
  assert.ok(calls > allApis().length * 3, `${calls} arities tried`);
  assert.deepEqual([...new Set(failures)], []);
});

test('the reported shape: while (fault_in_writeable()) { ... } with no arguments', async () => {
  const engine = await createEngine();
  const text = `static int demo_typing(char __user *ubuf, const char *kbuf, size_t len)
{
	size_t left;

	while (fault_in_writeable()) {
		left = copy_to_user(ubuf, kbuf, len);
		if (!left)
			break;
	}
	return 0;
}
`;
  const r = engine.analyze(text, { path: 'typing.c' });
  r.tree?.delete();
  assert.deepEqual(r.findings.filter((f) => f.rule === 'degraded').map((f) => f.message), []);
});

test('the reported shape (fuzz seed 31, input 30766): a helper whose release call lost its arguments; the caller keeps its GUP findings', async () => {
  const engine = await createEngine();
  // The helper's first release reads as a call without arguments (a mangled line); its summary
  // is applied at the caller's call. Before the fix the four GUP reference rules threw on the
  // caller (`degraded`) and its leak on the early return was lost.
  const text = `static int qz_check(struct page **pages, int n)
{
	if (qz_too_many(n)) {
		unpin_user_pages(qz_x(n)) {
		unpin_user_pages(pages, n);
		return -EINVAL;
	}
	return 0;
}

static int qz_use(unsigned long uaddr, int want, struct page **pages, bool quick)
{
	int got, err;

	got = pin_user_pages_fast(uaddr, want, FOLL_WRITE, pages);
	if (got <= 0)
		return -EFAULT;
	if (quick)
		return -EAGAIN;
	err = qz_check(pages, got);
	if (err)
		return err;
	unpin_user_pages(pages, got);
	return 0;
}

static void qz_drop(struct page **pages, int n)
{
	unpin_user_pages();
}

static int qz_use2(unsigned long uaddr, struct page **pages)
{
	int got = pin_user_pages_fast(uaddr, 4, FOLL_WRITE, pages);

	if (got <= 0)
		return -EFAULT;
	qz_drop(pages);
	return 0;
}
`;
  for (const skipIrrelevant of [true, false]) {
    const r = engine.analyze(text, { path: 'qz.c', skipIrrelevant });
    r.tree?.delete();
    assert.deepEqual(r.findings.filter((f) => f.rule === 'degraded').map((f) => f.message), []);
    const leaks = r.findings.filter((f) => f.rule === 'gup-leak').map((f) => `${f.function} ${f.range.startRow + 1}`);
    assert.ok(leaks.includes('qz_use 19'), JSON.stringify(r.findings.map((f) => `${f.rule} ${f.function} ${f.range.startRow + 1} ${f.message}`)));
  }
  const s = new DocumentSession(engine, 'file:///qz.c', '/qz.c', text);
  assert.deepEqual(s.analyze().findings.filter((f) => f.rule === 'degraded').map((f) => f.message), []);
  s.dispose();
});
