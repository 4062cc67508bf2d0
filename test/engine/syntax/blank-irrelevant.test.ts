import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankIrrelevant, blankIrrelevantFunctions } from '../../../engine/syntax/blank-irrelevant';

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

// File-scope data items (RuleRelevance.fileScope): blanked when no running rule reads them from
// the parse ('none'), or when no kept item names any of their identifiers ('variables').
const DATA_FILE = `#include <linux/mm.h>

static const unsigned int drv_reg_table[] = {
	0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
};

static struct page *drv_stash;

struct drv_unused_state {
	int a;
	long b;
};

static int drv_helper_proto(int x);

static const struct file_operations drv_fops = {
	.open = drv_pin,
};

static int drv_pin(unsigned long addr)
{
	return pin_user_pages_fast(addr, 1, FOLL_WRITE, &drv_stash);
}
`;

function blankedLines(text: string, out: string): string[] {
  const bl = out.split('\n');
  return text.split('\n').filter((l, i) => l.trim() !== '' && bl[i].trim() === '').map((l) => l.trim());
}

test('file-scope data items: none of them with "all", all that name no API with "none", unnamed ones with "variables"', () => {
  const all = blankIrrelevant(DATA_FILE, APIS, 'all');
  assert.equal(all.text, DATA_FILE);
  const none = blankIrrelevant(DATA_FILE, APIS, 'none');
  assert.equal(none.text.length, DATA_FILE.length);
  for (let i = 0; i < DATA_FILE.length; i++) if (none.text[i] !== ' ') assert.equal(none.text[i], DATA_FILE[i]);
  const gone = blankedLines(DATA_FILE, none.text);
  for (const l of ['static const unsigned int drv_reg_table[] = {', '0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,', 'static struct page *drv_stash;', 'struct drv_unused_state {', 'static int drv_helper_proto(int x);', 'static const struct file_operations drv_fops = {', '.open = drv_pin,']) {
    assert.ok(gone.includes(l), `blanked with "none": ${l}`);
  }
  for (const l of ['#include <linux/mm.h>', 'static int drv_pin(unsigned long addr)']) assert.ok(none.text.includes(l), `kept: ${l}`);
  // The parser is told to skip the blanked table's inside.
  assert.ok(none.gaps.some(([s, e]) => s <= DATA_FILE.indexOf('0x10') && e > DATA_FILE.indexOf('0x80')));
  // 'variables': the declaration of drv_stash stays (drv_pin names it); the ops table stays too
  // (it names drv_pin, a kept function: one of its identifiers could be what it declares).
  const vars = blankIrrelevant(DATA_FILE, APIS, 'variables').text;
  for (const l of ['static struct page *drv_stash;', 'static const struct file_operations drv_fops = {']) assert.ok(vars.includes(l), `kept with "variables": ${l}`);
  for (const l of ['drv_reg_table', 'drv_unused_state', 'drv_helper_proto']) assert.ok(!vars.includes(l), `blanked with "variables": ${l}`);
});

test('file-scope data items the scan is not sure of are kept', () => {
  const fn = '\nstatic int drv_pin(unsigned long a, struct page **p)\n{\n\treturn pin_user_pages_fast(a, 1, 0, p);\n}\n';
  const kept = (item: string, why: string) => assert.ok(blankIrrelevant(item + fn, APIS, 'none').text.includes(item.trim()), why);
  kept('static int drv_mode =\n#ifdef CONFIG_DRV_FAST\n\t1;\n#else\n\t0;\n#endif\n', 'a preprocessor line inside');
  kept('static int drv_tab[] = { (1, 2 };', 'unbalanced');
  kept('static void *drv_ops_ref = unpin_user_page;', 'names a relevant API');
  kept('static int drv_old(a)\n\tint a;\n{\n\treturn a;\n}\n', 'the next item starts with a brace (an old-style definition)');
  kept('static int drv_mode2 =\n#ifdef CONFIG_DRV_FAST\n\t1;\n#else\n\t0;\n#endif\n', 'the rest of an item split by #ifdef at depth 0');
  kept('#ifdef CONFIG_DRV_FAST\nstatic int drv_lvl = 1;\n#else\nstatic int drv_lvl =\n#endif\n\t0;\n', 'the item after it is split by #ifdef at depth 0');
  // Complete declarations in #ifdef branches are blanked.
  const branches = '#ifdef CONFIG_DRV_FAST\nstatic int drv_speed = 2;\n#else\nstatic int drv_speed = 1;\n#endif\n';
  assert.ok(!blankIrrelevant(branches + fn, APIS, 'none').text.includes('drv_speed'));
  kept('static int drv_odd = 1\\\n;', 'an odd character in its code');
});
