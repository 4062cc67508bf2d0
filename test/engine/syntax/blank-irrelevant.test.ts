import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankIrrelevantFunctions } from '../../../engine/syntax/blank-irrelevant';

const APIS = new Set(['pin_user_pages_fast', 'unpin_user_page']);

const FILE = `/* a driver */
#include <linux/mm.h>

static int plain_sum(const int *v, int n)
{
	int i, s = 0;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void drv_put(struct page *p)
{
	unpin_user_page(p);
}

static int drv_pin(unsigned long addr, struct page **pages)
{
	int ret = pin_user_pages_fast(addr, 1, FOLL_WRITE, pages);

	if (ret == 1)
		drv_put(pages[0]);
	return drv_check(ret);
}

static int drv_check(int ret)
{
	return ret < 0 ? ret : 0;
}
`;

test('irrelevant functions become spaces, newlines and every other offset unchanged', () => {
  const out = blankIrrelevantFunctions(FILE, APIS);
  assert.equal(out.length, FILE.length);
  assert.deepEqual(out.split('\n').length, FILE.split('\n').length);
  assert.ok(!out.includes('plain_sum'), 'a function naming no relevant API and not referenced is blanked');
  for (const kept of ['drv_put', 'drv_pin', 'drv_check', '#include']) assert.ok(out.includes(kept), `${kept} is kept`);
  // Everything that is kept sits at its original offset.
  for (let i = 0; i < FILE.length; i++) if (out[i] !== ' ') assert.equal(out[i], FILE[i]);
});

test('helpers and callers of relevant functions are kept (relevance spreads both ways)', () => {
  const out = blankIrrelevantFunctions(FILE, new Set(['unpin_user_page']));
  // drv_put names the API; drv_pin calls drv_put; drv_check is called by drv_pin.
  for (const kept of ['drv_put', 'drv_pin', 'drv_check']) assert.ok(out.includes(`static int ${kept}`) || out.includes(`static void ${kept}`), kept);
});

test('unsure input is returned unchanged', () => {
  const unbalanced = 'static int f(void)\n{\n\treturn 0;\n';
  assert.equal(blankIrrelevantFunctions(unbalanced, APIS), unbalanced);
  const openComment = 'static int f(void) { return 0; } /* never closed';
  assert.equal(blankIrrelevantFunctions(openComment, APIS), openComment);
});

test('functions with preprocessor lines, macro-made definitions and tables are kept', () => {
  const src = `static int with_ifdef(void)
{
#ifdef CONFIG_X
	return 1;
#endif
	return 0;
}

SYSCALL_DEFINE2(frob, int, a, int, b)
{
	return a + b;
}

static const struct file_operations fops = {
	.open = opener,
};

static int opener(struct inode *i, struct file *f)
{
	return 0;
}

static int lonely(void)
{
	return 7;
}
`;
  const out = blankIrrelevantFunctions(src, APIS);
  assert.ok(out.includes('with_ifdef') && out.includes('#ifdef'), 'a body with a directive is kept');
  assert.ok(out.includes('SYSCALL_DEFINE2'), 'upper-case (macro) definitions are kept');
  // A table names `opener` (a reference, not a call) and `opener` names no API: it cannot report.
  assert.ok(!out.includes('static int opener'), 'a function only named by a table is blanked');
  assert.ok(out.includes('.open = opener'), 'the table itself is kept');
  assert.ok(!out.includes('lonely'), 'an unreferenced plain function is blanked');
});

test('relevance spreads up to callers and down to callees, not across a shared helper', () => {
  const src = `static int helper(int x)
{
	return x + 1;
}

static int pinner(unsigned long a, struct page **p)
{
	return helper(pin_user_pages_fast(a, 1, 0, p));
}

static int caller(unsigned long a)
{
	struct page *p;

	return pinner(a, &p) + callee_of_caller(a);
}

static int callee_of_caller(unsigned long a)
{
	return (int)a;
}

static int other_user_of_helper(int y)
{
	return helper(y);
}

static const struct frob_ops ops = {
	.other = other_user_of_helper,
};
`;
  // (This text pass cannot tell a table from code: a table naming a needed function would count
  // as its caller and keep everything it names. The tree-based filter knows declarations.)
  const out = blankIrrelevantFunctions(src, APIS);
  for (const kept of ['static int helper', 'static int pinner', 'static int caller', 'static int callee_of_caller'])
    assert.ok(out.includes(kept), `${kept} is kept`);
  assert.ok(!out.includes('static int other_user_of_helper'), 'another caller of a needed helper cannot see anything relevant: blanked');
  assert.ok(out.includes('.other = other_user_of_helper'), 'the table is kept');
});

test('a function whose code holds an odd character is kept; in comments and literals it is not odd', () => {
  const body = (inside: string) => `static int plain_sum(const int *v, int n)\n{\n\tint s = 0;${inside}\n\treturn s;\n}\n`;
  const rest = '\nstatic void drv_put(struct page *p)\n{\n\tunpin_user_page(p);\n}\n';
  // Control characters, DEL, a backslash and non-ASCII (a no-break space, a letter) in code: the
  // parser's tokens around them are not what the scan assumes, so the item is parsed as it is.
  for (const odd of ['\u0000', '\u0001', '\u007f', '\\', '\u00a0', 'é', '\u3000']) {
    const text = body(` s += ${odd}1;`) + rest;
    assert.ok(blankIrrelevantFunctions(text, APIS).includes('plain_sum'), `kept with U+${odd.charCodeAt(0).toString(16)} in its code`);
  }
  // The same characters inside a comment, a string or a char literal, and a tab, form feed or
  // vertical tab in code, leave the function blankable.
  for (const fine of ['/* é \\ \u0001 */', '"é\\n"', "'\\\\'", '\t', '\f', '\v']) {
    const text = body(` s += 1; ${fine};`) + rest;
    assert.ok(!blankIrrelevantFunctions(text, APIS).includes('plain_sum'), `blanked with ${JSON.stringify(fine)}`);
  }
});
