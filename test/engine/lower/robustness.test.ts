// Bad input never crashes or hangs the lowering: parse errors, binary garbage, absurd nesting,
// empty files. Every function that comes out is still a well-formed CFG.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWellFormed, getParser, lower, paths } from './helpers';
import { lowerTree } from '../../../engine/lower/index';
import { blankKernelMacros } from '../../../engine/syntax/macros';

const SAMPLE = `
static int foo_pin_range(struct foo_ctx *ctx, unsigned long start, int nr)
{
	struct page **pages;
	int ret, i;

	pages = kcalloc(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	ret = pin_user_pages_fast(start, nr, FOLL_WRITE, pages);
	if (ret < 0)
		goto out_free;
	for (i = 0; i < ret; i++) {
		if (foo_check(ctx, pages[i]) && !ctx->force)
			break;
	}
	switch (ctx->mode) {
	case 1:
		foo_mode_one(ctx);
		break;
	default:
		break;
	}
	unpin_user_pages(pages, ret);
out_free:
	kfree(pages);
	return ret < 0 ? ret : 0;
}
`;

test('a parse error inside a function is reported, the rest still lowers', async () => {
  const ir = await lower(`
int foo_bad(struct foo *f)
{
	int x = ;
	foo_before(f);
	if (f->a +* ) {
		foo_inside(f);
	}
	return foo_after(f);
}

int foo_good(void)
{
	return foo_fine();
}
`);
  assert.ok(ir.syntaxErrors.length > 0);
  const bad = ir.functions.find((f) => f.name === 'foo_bad');
  const good = ir.functions.find((f) => f.name === 'foo_good');
  assert.ok(bad && good, ir.functions.map((f) => f.name).join(','));
  checkWellFormed(bad);
  checkWellFormed(good);
  assert.ok(bad.degraded.length > 0);
  assert.deepEqual(good.degraded, []);
  assert.ok(paths(bad).some((p) => p.includes('foo_before(f)') && p.includes('foo_after(f)')), paths(bad).join('\n'));
  for (const e of ir.syntaxErrors) assert.ok(e.range.startRow >= 1 && e.range.startRow <= 9, JSON.stringify(e.range));
});

test('empty file, whitespace, comments only, declarations only', async () => {
  for (const text of ['', '\n\n  \t', '/* nothing */\n// here\n', 'struct foo { int a; };\nextern int foo_x;\nint foo_y(int);\n#define FOO 1\n']) {
    const ir = await lower(text);
    assert.deepEqual(ir.functions, []);
    assert.deepEqual(ir.syntaxErrors, []);
  }
  const ir = await lower('extern int foo_x;\nstatic unsigned long foo_y[4];\n');
  assert.deepEqual(ir.globals.sort(), ['foo_x', 'foo_y']);
});

test('binary garbage does not throw', async () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let round = 0; round < 20; round++) {
    let s = '';
    for (let i = 0; i < 4000; i++) s += String.fromCharCode(rnd() % 256);
    const ir = await lower(s);
    for (const f of ir.functions) checkWellFormed(f);
  }
  // Garbage glued to valid code: the valid function survives.
  const ir = await lower('\u0000\u00ff{{{((' + SAMPLE);
  for (const f of ir.functions) checkWellFormed(f);
});

test('3000-deep parentheses and braces do not blow the stack', async () => {
  const depth = 3000;
  const parens = `int foo_deep(int x)\n{\n\treturn ${'('.repeat(depth)}x${')'.repeat(depth)};\n}\n`;
  let ir = await lower(parens);
  assert.equal(ir.functions.length, 1);
  checkWellFormed(ir.functions[0]);
  const braces = `int foo_deep(int x)\n{\n${'{ foo_step(x); '.repeat(depth)}${'}'.repeat(depth)}\n\treturn x;\n}\n`;
  ir = await lower(braces);
  assert.equal(ir.functions.length, 1);
  checkWellFormed(ir.functions[0]);
  assert.ok(ir.functions[0].degraded.some((d) => /nesting/.test(d.reason)));
  const ifs = `int foo_deep(int x)\n{\n${'if (x) '.repeat(depth)}foo_leaf(x);\n\treturn x;\n}\n`;
  ir = await lower(ifs);
  checkWellFormed(ir.functions[0]);
  const unary = `int foo_deep(int x)\n{\n\treturn ${'!-~'.repeat(depth)}x + foo_tail(x);\n}\n`;
  ir = await lower(unary);
  checkWellFormed(ir.functions[0]);
  const conds = `int foo_deep(int x)\n{\n\tif (${Array.from({ length: depth }, (_, i) => `x == ${i}`).join(' || ')})\n\t\treturn 1;\n\treturn 0;\n}\n`;
  ir = await lower(conds);
  checkWellFormed(ir.functions[0]);
});

test('random deletions from a valid function never throw', async () => {
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    let s = SAMPLE;
    const cuts = 1 + rnd(4);
    for (let k = 0; k < cuts; k++) {
      const at = rnd(s.length);
      s = s.slice(0, at) + s.slice(at + 1 + rnd(12));
    }
    const ir = await lower(s);
    for (const f of ir.functions) checkWellFormed(f);
  }
});

test('cancellation stops the lowering early', async () => {
  const parser = await getParser();
  const text = blankKernelMacros(SAMPLE.repeat(50));
  const tree = parser.parse(text);
  try {
    const ir = lowerTree(tree, text, { cancelled: () => true });
    assert.ok(ir.functions.length < 50);
  } finally {
    tree.delete();
  }
});

test('strange but valid shapes: K&R-ish prototypes, function pointers, nested functions of macros', async () => {
  const ir = await lower(`
static int (*foo_hook)(struct page *page);
static const struct foo_ops foo_ops = { .read = foo_read, .write = foo_write };
int foo_call_hook(struct foo *f, struct page *page)
{
	int (*fn)(struct page *) = f->ops->pin;
	if (fn(page))
		return f->ops->unpin(page);
	return (*foo_hook)(page);
}
`);
  const fn = ir.functions.find((f) => f.name === 'foo_call_hook');
  assert.ok(fn);
  checkWellFormed(fn);
  assert.ok(ir.globals.includes('foo_hook'));
  assert.ok(ir.globals.includes('foo_ops'));
  assert.equal(fn.locals.fn, 'int (*)()');
  const ps = paths(fn);
  assert.ok(ps.some((p) => p.includes('f->ops->unpin(page)')), ps.join('\n'));
});

test('a missing closing brace does not hide the functions after it', async () => {
  const ir = await lower(`
int foo_one(int a)
{
	if (a) {
		foo_x();
	return 0;
}

static int foo_two(struct foo *f)
{
	return foo_y(f);
}

int foo_three(void)
{
	return 3;
}
`);
  assert.deepEqual(ir.functions.map((f) => f.name), ['foo_one', 'foo_two', 'foo_three']);
  for (const f of ir.functions) checkWellFormed(f);
  assert.deepEqual(paths(ir.functions[1]), ['$t1=foo_y(f) ; return $t1']);
  assert.ok(ir.syntaxErrors.length > 0);
});

test('thousands of functions each nested in the previous one', async () => {
  const n = 3000;
  let text = '';
  for (let i = 0; i < n; i++) text += `int foo_${i}(int a)\n{\n\tfoo_call(a);\n`;
  const ir = await lower(text);
  assert.equal(ir.functions.length, n);
  for (const f of ir.functions) checkWellFormed(f);
});

test('a function being typed at the end of the file (unclosed) is still lowered', async () => {
  const ir = await lower(`
static int foo_done(int a)
{
	return a;
}

static int foo_typing(struct foo *f, unsigned long addr)
{
	int ret;

	ret = pin_user_pages_fast(addr, 1, FOLL_WRITE, f->pages);
	if (ret < 0)
		return ret;
	for (i = 0; i < ret; i++) {
		put_page(f->pages[i]);
`);
  assert.deepEqual(ir.functions.map((f) => f.name), ['foo_done', 'foo_typing']);
  const fn = ir.functions[1];
  checkWellFormed(fn);
  assert.deepEqual(fn.params.map((p) => p.name), ['f', 'addr']);
  assert.deepEqual(fn.storage, ['static']);
  assert.ok(fn.degraded.some((d) => d.reason === 'function body not closed'));
  const ps = paths(fn);
  assert.ok(ps.includes('ret=pin_user_pages_fast(addr, 1, FOLL_WRITE, f->pages) ; [ret < 0] ; return ret'), ps.join('\n'));
  assert.ok(ps.some((p) => p.includes('put_page(f->pages[i])')), ps.join('\n'));
  assert.ok(ir.syntaxErrors.length > 0);
});

test('parse errors outside functions (struct bodies, tables) are still reported', async () => {
  const ir = await lower(`
struct foo_desc {
	int a
	int b;
};
static const int foo_tbl[] = { 1, 2 +, 3 };
static const char *foo_names[] = { "a", "b" };
`);
  assert.deepEqual(ir.syntaxErrors.map((e) => e.range.startRow).sort(), [2, 5]);
  assert.ok(ir.globals.includes('foo_names'));
});

test('the IR is plain data (JSON round-trip) with ranges inside the text', async () => {
  const ir = await lower(SAMPLE);
  const copy = JSON.parse(JSON.stringify(ir));
  assert.deepEqual(copy, ir);
  const fn = ir.functions[0];
  const lines = SAMPLE.split('\n');
  for (const b of fn.blocks) {
    for (const s of b.stmts) {
      assert.ok(s.range.start >= 0 && s.range.end <= SAMPLE.length && s.range.start <= s.range.end);
      assert.equal(lines[s.range.startRow].length >= s.range.startCol, true);
      // Rows/columns and offsets agree.
      const offset = lines.slice(0, s.range.startRow).reduce((n, l) => n + l.length + 1, 0) + s.range.startCol;
      assert.equal(offset, s.range.start);
    }
  }
});
