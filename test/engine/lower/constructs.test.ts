// Each C construct the checks rely on lowers to the expected CFG, asserted on entry→exit paths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWellFormed, lower, lowerOne, paths, showExpr, showStmt } from './helpers';
import type { CallStmt, FunctionIR } from '../../../engine/ir';

function calls(fn: FunctionIR): CallStmt[] {
  return fn.blocks.flatMap((b) => b.stmts.filter((s): s is CallStmt => s.kind === 'call'));
}

test('straight-line: a call assigned to a local writes its result there', async () => {
  const fn = await lowerOne(`
static int foo_pin(unsigned long start, int nr, struct page **pages)
{
	int ret;

	ret = pin_user_pages(start, nr, FOLL_WRITE | FOLL_LONGTERM, pages);
	return ret;
}
`);
  checkWellFormed(fn);
  const c = calls(fn);
  assert.equal(c.length, 1);
  assert.equal(c[0].callee, 'pin_user_pages');
  assert.deepEqual(c[0].result, { kind: 'var', name: 'ret' });
  assert.deepEqual(c[0].args.map(showExpr), ['start', 'nr', '(FOLL_WRITE | FOLL_LONGTERM)', 'pages']);
  assert.equal(c[0].argRanges.length, 4);
  assert.deepEqual(paths(fn), ['ret=pin_user_pages(start, nr, (FOLL_WRITE | FOLL_LONGTERM), pages) ; return ret']);
  assert.equal(fn.params.map((p) => `${p.type} ${p.name}`).join(', '), 'unsigned long start, int nr, struct page ** pages');
  assert.equal(fn.returnType, 'int');
  assert.deepEqual(fn.storage, ['static']);
  assert.equal(fn.name, 'foo_pin');
  const text = `pin_user_pages`;
  assert.ok(c[0].calleeRange.end - c[0].calleeRange.start === text.length);
});

test('if/else and early return give one path per branch', async () => {
  const fn = await lowerOne(`
int foo_get(struct foo *f)
{
	if (!f->pages)
		return -ENOMEM;
	else if (f->nr > 16)
		f->nr = 16;
	else
		foo_reset(f);
	foo_commit(f);
	return 0;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn).sort(), [
    '[!f->pages] ; return -ENOMEM',
    '[f->pages] ; [f->nr <= 16] ; foo_reset(f) ; foo_commit(f) ; return 0',
    '[f->pages] ; [f->nr > 16] ; foo_commit(f) ; return 0',
  ].sort());
  const ret = fn.blocks.flatMap((b) => b.stmts).find((s) => s.kind === 'return');
  assert.deepEqual(ret && ret.kind === 'return' ? ret.value : undefined, { kind: 'unary', op: '-', arg: { kind: 'const', name: 'ENOMEM' } });
});

test('a call inside a condition is hoisted to a temporary', async () => {
  const fn = await lowerOne(`
long foo_fill(unsigned long addr, long n, struct page **pages)
{
	if (get_user_pages(addr, n, 0, pages) != n)
		return -EFAULT;
	if (IS_ERR(pages[0]))
		return PTR_ERR(pages[0]);
	return n;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn).sort(), [
    '$t1=get_user_pages(addr, n, 0, pages) ; [$t1 != n] ; return -EFAULT',
    '$t1=get_user_pages(addr, n, 0, pages) ; [$t1 == n] ; $t2=IS_ERR(pages[0]) ; [$t2] ; $t3=PTR_ERR(pages[0]) ; return $t3',
    '$t1=get_user_pages(addr, n, 0, pages) ; [$t1 == n] ; $t2=IS_ERR(pages[0]) ; [!$t2] ; return n',
  ].sort());
});

test('comma in return, ternary with calls on both sides', async () => {
  const fn = await lowerOne(`
int foo_drop(struct page *p, int y)
{
	int x;

	x = y ? foo_a(p) : foo_b(p);
	if (x)
		return put_page(p), 0;
	return x;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn).sort(), [
    '[!y] ; x=foo_b(p) ; [!x] ; return x',
    '[!y] ; x=foo_b(p) ; [x] ; put_page(p) ; return 0',
    '[y] ; x=foo_a(p) ; [!x] ; return x',
    '[y] ; x=foo_a(p) ; [x] ; put_page(p) ; return 0',
  ].sort());
  const put = calls(fn).find((c) => c.callee === 'put_page');
  assert.equal(put?.result, undefined, 'a discarded call has no result');
});

test('&&, || and ! in conditions short-circuit into separate edges', async () => {
  const fn = await lowerOne(`
void foo_check(int a, int b, int c)
{
	if (a && (b || !c))
		foo_yes();
	else
		foo_no();
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn).sort(), [
    '[!a] ; foo_no() ; return',
    '[a] ; [!b] ; [!c] ; foo_yes() ; return',
    '[a] ; [!b] ; [c] ; foo_no() ; return',
    '[a] ; [b] ; foo_yes() ; return',
  ].sort());
});

test('calls on the right of && only run when the left holds', async () => {
  const fn = await lowerOne(`
int foo_both(struct foo *f)
{
	if (f->ready && foo_try_lock(f) == 0)
		return 1;
	return 0;
}
`);
  assert.deepEqual(paths(fn).sort(), [
    '[!f->ready] ; return 0',
    '[f->ready] ; $t1=foo_try_lock(f) ; [$t1 != 0] ; return 0',
    '[f->ready] ; $t1=foo_try_lock(f) ; [$t1 == 0] ; return 1',
  ].sort());
});

test('assignment inside a condition', async () => {
  const fn = await lowerOne(`
int foo_assign(void)
{
	int ret;

	if ((ret = foo_prepare()) < 0)
		return ret;
	while ((ret = foo_next()) > 0)
		foo_consume(ret);
	return 0;
}
`);
  checkWellFormed(fn);
  const ps = paths(fn);
  assert.ok(ps.includes('ret=foo_prepare() ; [ret < 0] ; return ret'), ps.join('\n'));
  assert.ok(ps.includes('ret=foo_prepare() ; [ret >= 0] ; ret=foo_next() ; [ret <= 0] ; return 0'), ps.join('\n'));
  assert.ok(ps.includes('ret=foo_prepare() ; [ret >= 0] ; ret=foo_next() ; [ret > 0] ; foo_consume(ret) ; ret=foo_next() ; [ret <= 0] ; return 0'), ps.join('\n'));
  assert.equal(fn.params.length, 0, '(void) has no parameters');
});

test('goto forward to a cleanup label, and a backward goto loop', async () => {
  const fn = await lowerOne(`
int foo_io(struct foo *f)
{
	int ret;

retry:
	ret = foo_start(f);
	if (ret == -EAGAIN)
		goto retry;
	if (ret)
		goto out;
	foo_work(f);
out:
	foo_finish(f);
	return ret;
}
`);
  checkWellFormed(fn);
  const ps = paths(fn, { maxVisits: 1 });
  assert.deepEqual(ps.sort(), [
    'ret=foo_start(f) ; [ret != -EAGAIN] ; [!ret] ; foo_work(f) ; foo_finish(f) ; return ret',
    'ret=foo_start(f) ; [ret != -EAGAIN] ; [ret] ; foo_finish(f) ; return ret',
  ].sort());
  const out = fn.blocks.find((b) => b.label === 'out');
  assert.ok(out, 'label block named');
  const retry = fn.blocks.find((b) => b.label === 'retry');
  assert.ok(retry);
  const loop = fn.loops.find((l) => l.kind === 'goto');
  assert.ok(loop, 'backward goto forms a loop');
  assert.equal(loop.header, retry.id);
  assert.ok(!loop.body.includes(out.id));
  const gotoEdge = fn.blocks.flatMap((b) => b.succs).find((e) => e.label === 'goto out');
  assert.ok(gotoEdge && gotoEdge.to === out.id);
});

test('while with break and continue', async () => {
  const fn = await lowerOne(`
int foo_scan(struct foo *f, int n)
{
	while (n--) {
		if (foo_skip(f))
			continue;
		if (foo_done(f))
			break;
		foo_step(f);
	}
	return n;
}
`);
  checkWellFormed(fn);
  const loop = fn.loops[0];
  assert.equal(loop.kind, 'while');
  assert.equal(fn.loops.length, 1);
  const ps = paths(fn, { assigns: true });
  // `n--` in a condition: the old value is tested, then n is decremented.
  assert.ok(ps.includes('$t1:=n ; n:=(n - 1) ; [!$t1] ; return n'), ps.join('\n'));
  assert.ok(ps.some((p) => p.includes('$t2=foo_skip(f) ; [!$t2] ; $t3=foo_done(f) ; [$t3] ; return n')), ps.join('\n'));
  // All loop blocks are in the body; the exit after the loop is not.
  const headerEdges = fn.blocks[loop.header].succs;
  assert.ok(headerEdges.length >= 1);
  for (const b of loop.body) assert.ok(b !== fn.exit);
  const retBlock = fn.blocks.find((b) => b.stmts.some((s) => s.kind === 'return'));
  assert.ok(retBlock && !loop.body.includes(retBlock.id));
});

test('for loop: induction variable, empty parts, nested loops', async () => {
  const fn = await lowerOne(`
void foo_release(struct page **pages, int nr, int ret)
{
	int i, j;

	for (i = 0; i < ret; i++)
		put_page(pages[i]);
	for (;;) {
		for (j = nr - 1; j >= 0; j -= 2)
			foo_touch(pages[j]);
		if (foo_idle())
			break;
	}
}
`);
  checkWellFormed(fn);
  assert.equal(fn.loops.length, 3);
  const first = fn.loops.find((l) => l.induction?.variable === 'i');
  assert.ok(first);
  assert.equal(showExpr(first.induction?.init), '0');
  assert.equal(showExpr(first.induction?.cond), '(i < ret)');
  assert.equal(showExpr(first.induction?.step), '(i + 1)');
  const inner = fn.loops.find((l) => l.induction?.variable === 'j');
  assert.ok(inner);
  assert.equal(showExpr(inner.induction?.step), '(j - 2)');
  const outer = fn.loops.find((l) => !l.induction);
  assert.ok(outer);
  // Nested: the inner loop's blocks are inside the outer loop's body.
  for (const b of inner.body) assert.ok(outer.body.includes(b), `inner block ${b} not in outer body`);
  // for(;;) only exits through break.
  const ps = paths(fn, { maxVisits: 2 });
  assert.ok(ps.every((p) => p.includes('foo_idle()')), ps.join('\n'));
  assert.ok(ps.some((p) => p.startsWith('[i < ret] ; put_page(pages[i]) ; [i >= ret]')), ps.join('\n'));
});

test('do/while runs the body at least once; do { } while (0) is not a loop', async () => {
  const fn = await lowerOne(`
int foo_copy(struct foo *f)
{
	int left;

	do {
		left = foo_copy_chunk(f);
	} while (left > 0);
	do {
		foo_once(f);
	} while (0);
	return left;
}
`);
  checkWellFormed(fn);
  assert.equal(fn.loops.length, 1);
  assert.equal(fn.loops[0].kind, 'do');
  const ps = paths(fn);
  assert.ok(ps.includes('left=foo_copy_chunk(f) ; [left <= 0] ; foo_once(f) ; return left'), ps.join('\n'));
  assert.ok(ps.includes('left=foo_copy_chunk(f) ; [left > 0] ; left=foo_copy_chunk(f) ; [left <= 0] ; foo_once(f) ; return left'), ps.join('\n'));
});

test('switch: cases, fallthrough, default, break', async () => {
  const fn = await lowerOne(`
int foo_cmd(struct foo *f, unsigned int cmd)
{
	int ret = 0;

	switch (foo_decode(cmd)) {
	case FOO_PIN:
		foo_pin(f);
		fallthrough;
	case FOO_MAP:
		foo_map(f);
		break;
	case 3:
		return -EINVAL;
	default:
		ret = -ENOTTY;
	}
	return ret;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn).sort(), [
    '$t1=foo_decode(cmd) ; [$t1 == 3] ; return -EINVAL',
    '$t1=foo_decode(cmd) ; [$t1 == FOO_MAP] ; foo_map(f) ; return ret',
    '$t1=foo_decode(cmd) ; [$t1 == FOO_PIN] ; foo_pin(f) ; foo_map(f) ; return ret',
    '$t1=foo_decode(cmd) ; return ret',
  ].sort());
  const def = fn.blocks.flatMap((b) => b.succs).find((e) => e.label === 'default');
  assert.ok(def);
});

test('switch without default can skip every case', async () => {
  const fn = await lowerOne(`
void foo_sw(int x)
{
	switch (x) {
	case 1:
		foo_one();
		break;
	}
	foo_after();
}
`);
  assert.deepEqual(paths(fn).sort(), ['[x == 1] ; foo_one() ; foo_after() ; return', 'foo_after() ; return'].sort());
});

test('kernel loop macros: for_each_sg with a block, list_for_each_entry with one statement, unknown *for_each*', async () => {
  const fn = await lowerOne(`
void foo_walk(struct sg_table *sgt, struct list_head *head, int nents)
{
	struct scatterlist *sg;
	struct foo_item *pos;
	int i;

	for_each_sg(sgt->sgl, sg, nents, i) {
		foo_sg(sg);
	}
	list_for_each_entry(pos, head, node)
		foo_item_put(pos);
	foo_bar_for_each_thing(pos, head) {
		if (foo_stop(pos))
			break;
	}
	foo_end();
}
`);
  checkWellFormed(fn);
  assert.deepEqual(fn.loops.map((l) => [l.kind, l.macro]), [
    ['macro', 'for_each_sg'],
    ['macro', 'list_for_each_entry'],
    ['macro', 'foo_bar_for_each_thing'],
  ]);
  const sgLoop = fn.loops[0];
  assert.equal(sgLoop.induction?.variable, 'i');
  assert.equal(showExpr(sgLoop.induction?.cond), '(i < nents)');
  assert.equal(showExpr(sgLoop.induction?.step), '(i + 1)');
  // Body runs zero times on some path and the cursor is havoc'ed at the top of each iteration.
  const ps = paths(fn, { havocs: true });
  assert.ok(ps.includes('[i >= nents] ; foo_end() ; return'), ps.join('\n'));
  assert.ok(ps.some((p) => p.startsWith('[i < nents] ; havoc sg ; foo_sg(sg) ; [i >= nents] ; havoc pos ; foo_item_put(pos)')), ps.join('\n'));
  assert.ok(ps.some((p) => p.includes('havoc pos ; $t1=foo_stop(pos) ; [$t1] ; foo_end()')), ps.join('\n'));
  assert.ok(!ps.some((p) => p.includes('havoc head')), 'a parameter list head is not a cursor');
  // The macros' missing `;` is understood, not reported.
  assert.deepEqual(fn.degraded, []);
});

test('guard(mutex)(&lock) is a call; scoped_guard is a block holding the lock', async () => {
  const fn = await lowerOne(`
int foo_locked(struct foo *f)
{
	guard(mutex)(&f->lock);
	scoped_guard(spinlock, &f->slock) {
		f->count++;
	}
	return foo_value(f);
}
`);
  checkWellFormed(fn);
  const c = calls(fn);
  assert.equal(c[0].callee, 'guard(mutex)');
  assert.deepEqual(c[0].args.map(showExpr), ['&f->lock']);
  assert.equal(c[1].callee, 'scoped_guard(spinlock)');
  assert.deepEqual(c[1].args.map(showExpr), ['&f->slock']);
  const ps = paths(fn, { assigns: true });
  // The cleanups run where the scopes end: the scoped_guard at its `}`, the guard at return
  // (after the return value is computed).
  assert.deepEqual(ps, [
    'guard(mutex)(&f->lock) ; scoped_guard(spinlock)(&f->slock) ; f->count:=(f->count + 1) ; ~scoped_guard(spinlock)(&f->slock) ; ' +
      '$t1=foo_value(f) ; ~guard(mutex)(&f->lock) ; return $t1',
  ]);
});

test('guards are released on every way out of their scope', async () => {
  const fn = await lowerOne(`
int foo_scoped(struct foo *f, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		guard(spinlock)(&f->item_lock);
		if (foo_skip(f, i))
			continue;
		if (foo_stop(f, i))
			break;
		if (foo_fail(f, i))
			goto out;
		foo_work(f, i);
	}
	scoped_guard(mutex, &f->lock) {
		if (!f->ready)
			return -EAGAIN;
		foo_ready(f);
	}
out:
	return 0;
}
`);
  checkWellFormed(fn);
  const ps = paths(fn, { maxVisits: 2 });
  // Every path that takes a guard releases it before the next iteration, the exit, or return.
  for (const p of ps) {
    const toks = p.split(' ; ');
    let held = 0;
    for (const t of toks) {
      if (/^(guard|scoped_guard)\(/.test(t)) held++;
      if (/^~/.test(t)) held--;
      assert.ok(held >= 0 && held <= 1, p);
      if (t.startsWith('return')) assert.equal(held, 0, p);
    }
  }
  assert.ok(ps.some((p) => p.includes('$t1=foo_skip(f, i) ; [$t1] ; ~guard(spinlock)(&f->item_lock)')), ps.join('\n'));
  assert.ok(ps.some((p) => p.includes('[!f->ready] ; ~scoped_guard(mutex)(&f->lock) ; return -EAGAIN')), ps.join('\n'));
});

test('updates, compound assignment, casts, sizeof, fields, literals', async () => {
  const fn = await lowerOne(`
void foo_exprs(struct foo *f, char __user *buf, size_t len)
{
	unsigned long addr = (unsigned long)buf + 0x10UL;
	int x = sizeof(struct foo);
	char c = '\\n';

	f->done += len;
	f->pages[f->nr]--;
	++x;
	addr = addr & ~(PAGE_SIZE - 1);
	f->err = -EFAULT;
	c = 'A';
	x = 017 + 0b11;
}
`);
  checkWellFormed(fn);
  const assigns = fn.blocks.flatMap((b) => b.stmts).filter((s) => s.kind === 'assign').map(showStmt);
  assert.deepEqual(assigns, [
    'addr:=(buf + 0x10UL)',
    'x:=?',
    'c:=\'\\n\'',
    'f->done:=(f->done + len)',
    'f->pages[f->nr]:=(f->pages[f->nr] - 1)',
    'x:=(x + 1)',
    'addr:=(addr & ~(PAGE_SIZE - 1))',
    'f->err:=-EFAULT',
    'c:=\'A\'',
    'x:=(017 + 0b11)',
  ]);
  const stmts = fn.blocks.flatMap((b) => b.stmts);
  const hex = stmts.find((s) => s.kind === 'assign' && s.target.kind === 'var' && s.target.name === 'addr');
  assert.ok(hex && hex.kind === 'assign' && hex.value.kind === 'binary' && hex.value.right.kind === 'int' && hex.value.right.value === 16);
  const nl = stmts.find((s) => s.kind === 'assign' && s.target.kind === 'var' && s.target.name === 'c');
  assert.ok(nl && nl.kind === 'assign' && nl.value.kind === 'int' && nl.value.value === 10);
  const oct = stmts.filter((s) => s.kind === 'assign' && s.target.kind === 'var' && s.target.name === 'x').pop();
  assert.ok(oct && oct.kind === 'assign' && oct.value.kind === 'binary' && oct.value.left.kind === 'int' && oct.value.left.value === 15 && oct.value.right.kind === 'int' && oct.value.right.value === 3);
  const compound = stmts.find((s) => s.kind === 'assign' && s.op === '+=');
  assert.ok(compound);
  // __user was blanked, the parameter type survives without it.
  assert.equal(fn.params[1].type, 'char *');
});

test('likely/unlikely/READ_ONCE are transparent, WRITE_ONCE assigns', async () => {
  const fn = await lowerOne(`
int foo_flags(struct foo *f)
{
	int v = READ_ONCE(f->flags);

	if (unlikely(!v))
		return -EINVAL;
	if (likely(foo_ok(f)))
		WRITE_ONCE(f->flags, 0);
	return v;
}
`);
  checkWellFormed(fn);
  const ps = paths(fn, { assigns: true });
  assert.deepEqual(ps.sort(), [
    'v:=f->flags ; [!v] ; return -EINVAL',
    'v:=f->flags ; [v] ; $t1=foo_ok(f) ; [!$t1] ; return v',
    'v:=f->flags ; [v] ; $t1=foo_ok(f) ; [$t1] ; f->flags:=0 ; return v',
  ].sort());
});

test('declarations: locals with types, arrays with their length, initializers lowered to assigns', async () => {
  const fn = await lowerOne(`
int foo_decls(void)
{
	struct page *pages[16];
	struct page **pp = NULL;
	struct page *extra[FOO_MAX] = { NULL };
	const char *name;
	unsigned long flags, mask = 3;
	int nr = foo_count();

	return nr;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(fn.locals, {
    pages: 'struct page *[16]',
    pp: 'struct page **',
    extra: 'struct page *[]',
    name: 'const char *',
    flags: 'unsigned long',
    mask: 'unsigned long',
    nr: 'int',
  });
  const decls = fn.blocks.flatMap((b) => b.stmts).filter((s) => s.kind === 'decl');
  const pages = decls.find((d) => d.kind === 'decl' && d.name === 'pages');
  assert.ok(pages && pages.kind === 'decl' && pages.arrayLength === 16);
  const extra = decls.find((d) => d.kind === 'decl' && d.name === 'extra');
  assert.ok(extra && extra.kind === 'decl' && extra.arrayLength === -1);
  assert.deepEqual(paths(fn, { assigns: true }), ['pp:=NULL ; extra:=? ; mask:=3 ; nr=foo_count() ; return nr']);
});

test('SYSCALL_DEFINE3 becomes sys_<name> with typed parameters', async () => {
  const ir = await lower(`
SYSCALL_DEFINE3(foo_pin, unsigned long, start, size_t, len, int, flags)
{
	if (!len)
		return 0;
	return foo_do_pin(start, len, flags);
}
`);
  const fn = ir.functions.find((f) => f.name === 'sys_foo_pin');
  assert.ok(fn, ir.functions.map((f) => f.name).join(','));
  checkWellFormed(fn);
  assert.deepEqual(fn.params.map((p) => `${p.type} ${p.name}`), ['unsigned long start', 'size_t len', 'int flags']);
  const src = 'SYSCALL_DEFINE3(foo_pin, unsigned long, start, size_t, len, int, flags)';
  assert.deepEqual(fn.params.map((p) => [p.range.startCol, p.range.endCol]), [
    [src.indexOf('unsigned long'), src.indexOf(', size_t')],
    [src.indexOf('size_t'), src.indexOf(', int')],
    [src.indexOf('int,'), src.indexOf(')')],
  ]);
  assert.equal(paths(fn).length, 2);
  assert.deepEqual(ir.syntaxErrors, []);
});

test('functions inside #ifdef and #ifdef inside a body', async () => {
  const ir = await lower(`
#ifdef CONFIG_FOO
static int foo_a(void)
{
	int x = 0;
#ifdef CONFIG_FOO_DEBUG
	foo_debug();
#else
	foo_quiet();
#endif
	return x;
}
#endif
int foo_b(void) { return 1; }
`);
  assert.deepEqual(ir.functions.map((f) => f.name), ['foo_a', 'foo_b']);
  const a = ir.functions[0];
  checkWellFormed(a);
  assert.deepEqual(paths(a).sort(), ['foo_debug() ; return x', 'foo_quiet() ; return x']);
});

test('statement expression and GNU ?: ', async () => {
  const fn = await lowerOne(`
int foo_gnu(struct foo *f)
{
	int r = ({ foo_a(f); foo_b(f); });
	return foo_c(f) ?: r;
}
`);
  checkWellFormed(fn);
  const ps = paths(fn, { assigns: true });
  assert.deepEqual(ps.sort(), [
    'foo_a(f) ; r=foo_b(f) ; $t1=foo_c(f) ; [!$t1] ; $t1:=r ; return $t1',
    'foo_a(f) ; r=foo_b(f) ; $t1=foo_c(f) ; [$t1] ; return $t1',
  ].sort());
});

test('globals and function names of a whole file', async () => {
  const ir = await lower(`
#include <linux/mm.h>

static DEFINE_MUTEX(foo_lock);
static int foo_count;
struct page *foo_pages[4];
int foo_proto(int x);

static int foo_one(void) { return foo_count; }
int foo_two(int a)
{
	return foo_one() + a;
}
EXPORT_SYMBOL_GPL(foo_two);
`);
  assert.deepEqual(ir.functions.map((f) => f.name), ['foo_one', 'foo_two']);
  assert.ok(ir.globals.includes('foo_count'));
  assert.ok(ir.globals.includes('foo_pages'));
  assert.ok(!ir.globals.includes('foo_proto'));
  assert.deepEqual(ir.syntaxErrors, []);
});

test('loop macros whose body starts with a declaration, or that sit under an if', async () => {
  const fn = await lowerOne(`
void foo_reset(int mode, struct list_head *head)
{
	struct foo_item *pos, *n;

	for_each_possible_cpu(cpu) {
		struct foo_pcpu *p = per_cpu_ptr(foo_pcpu, cpu);

		foo_clear(p);
	}
	if (mode)
		list_for_each_entry_safe(pos, n, head, node) {
			int busy = foo_busy(pos);

			if (!busy)
				foo_free(pos);
		}
	foo_done();
}
`);
  checkWellFormed(fn);
  assert.deepEqual(fn.loops.map((l) => l.macro), ['for_each_possible_cpu', 'list_for_each_entry_safe']);
  assert.deepEqual(fn.degraded, []);
  const ps = paths(fn, { havocs: true });
  assert.ok(ps.includes('[!mode] ; foo_done() ; return') || ps.some((p) => p.endsWith('[!mode] ; foo_done() ; return')), ps.join('\n'));
  assert.ok(ps.some((p) => p.includes('havoc cpu ; p=per_cpu_ptr(foo_pcpu, cpu) ; foo_clear(p)')), ps.join('\n'));
  assert.ok(ps.some((p) => p.includes('[mode] ; havoc pos ; havoc n ; busy=foo_busy(pos) ; [!busy] ; foo_free(pos)')), ps.join('\n'));
  // The list walk is inside the `if`: with mode false it never runs.
  assert.ok(ps.filter((p) => p.includes('[!mode]')).every((p) => !p.includes('foo_busy')), ps.join('\n'));
});

test('empty join blocks are threaded away but labels and jump edges stay', async () => {
  const fn = await lowerOne(`
int foo_thread(int a)
{
	if (a)
		goto out;
	if (a > 3) {
	} else {
	}
out:
	return a;
}
`);
  checkWellFormed(fn);
  const out = fn.blocks.find((b) => b.label === 'out');
  assert.ok(out);
  assert.ok(fn.blocks.some((b) => b.succs.some((e) => e.label === 'goto out' && e.to === out.id)));
  assert.ok(fn.blocks.length <= 6, `blocks: ${fn.blocks.length}`);
});

test('macros with type arguments are calls with an unknown argument, not syntax errors', async () => {
  const ir = await lower(`
static DEFINE_PER_CPU(struct foo_pcpu, foo_stats);
module_param(foo_debug, int, 0644);

static int foo_types(struct work_struct *work, unsigned long a, unsigned long b)
{
	struct foo *f = container_of(work, struct foo, work);
	unsigned long n = min_t(unsigned long, a, b);
	struct foo_item *it = list_first_entry(&f->items, struct foo_item, node);

	return foo_use(f, it, n);
}
`);
  assert.deepEqual(ir.syntaxErrors, []);
  const fn = ir.functions[0];
  assert.deepEqual(fn.degraded, []);
  assert.deepEqual(paths(fn), [
    'f=container_of(work, ?, work) ; n=min_t(?, a, b) ; it=list_first_entry(&f->items, ?, node) ; $t1=foo_use(f, it, n) ; return $t1',
  ]);
  const c = fn.blocks.flatMap((b) => b.stmts).find((s) => s.kind === 'call' && s.callee === 'container_of');
  assert.ok(c && c.kind === 'call' && c.args[1].kind === 'unknown' && c.args[1].text === 'struct foo');
  assert.ok(ir.globals.includes('foo_stats'));
});

test('a real syntax error inside call arguments is still reported', async () => {
  const ir = await lower(`
int foo_broken(int a)
{
	return foo_call(a, a +* );
}
`);
  assert.ok(ir.syntaxErrors.length > 0);
  assert.ok(ir.functions[0].degraded.length > 0);
});

test('an unknown annotation macro in a signature is tolerated', async () => {
  const ir = await lower(`
static int __foo_section_init foo_setup(struct foo *f)
{
	return foo_a(f);
}
`);
  assert.deepEqual(ir.syntaxErrors, []);
  const fn = ir.functions[0];
  assert.equal(fn.name, 'foo_setup');
  assert.equal(fn.returnType, 'int');
  assert.deepEqual(fn.degraded, []);
  assert.deepEqual(paths(fn), ['$t1=foo_a(f) ; return $t1']);
});

test('scoped_cond_guard: the block runs only when the lock is taken, else its fail statement', async () => {
  const fn = await lowerOne(`
int foo_cg(struct foo *f)
{
	scoped_cond_guard(mutex_intr, return -EINTR, &f->lock) {
		foo_locked(f);
	}
	return 0;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn).sort(), [
    '$t1=scoped_cond_guard(mutex_intr)(&f->lock) ; [!$t1] ; return -EINTR',
    '$t1=scoped_cond_guard(mutex_intr)(&f->lock) ; [$t1] ; foo_locked(f) ; ~scoped_cond_guard(mutex_intr)(&f->lock) ; return 0',
  ]);
});

test('break inside a switch inside a loop leaves the switch; continue in do/while goes to the test', async () => {
  const fn = await lowerOne(`
int foo_mix(struct foo *f)
{
	int n = 0;

	do {
		switch (foo_kind(f)) {
		case 1:
			break;
		case 2:
			continue;
		default:
			return -EINVAL;
		}
		n++;
	} while (foo_more(f));
	return n;
}
`);
  checkWellFormed(fn);
  assert.equal(fn.loops.length, 1);
  const ps = paths(fn, { maxVisits: 1 });
  assert.deepEqual(ps.sort(), [
    '$t1=foo_kind(f) ; [$t1 == 1] ; $t2=foo_more(f) ; [!$t2] ; return n',
    '$t1=foo_kind(f) ; [$t1 == 2] ; $t2=foo_more(f) ; [!$t2] ; return n',
    '$t1=foo_kind(f) ; return -EINVAL',
  ].sort());
  const withAssigns = paths(fn, { maxVisits: 1, assigns: true });
  assert.ok(withAssigns.some((p) => p.includes('[$t1 == 1] ; n:=(n + 1) ; $t2=foo_more(f)')), withAssigns.join('\n'));
  assert.ok(withAssigns.some((p) => p.includes('[$t1 == 2] ; $t2=foo_more(f)')), withAssigns.join('\n'));
});

test('loop macros nested without braces: the inner one takes the block', async () => {
  const fn = await lowerOne(`
void foo_nested(struct foo_table *t)
{
	struct foo_bucket *b;
	struct foo_item *it;

	list_for_each_entry(b, &t->buckets, node)
		list_for_each_entry(it, &b->items, node) {
			foo_visit(it);
		}
	foo_done(t);
}
`);
  checkWellFormed(fn);
  assert.equal(fn.loops.length, 2);
  const [outer, inner] = fn.loops;
  for (const b of inner.body) assert.ok(outer.body.includes(b), 'inner loop inside the outer one');
  const visit = fn.blocks.find((b) => b.stmts.some((s) => s.kind === 'call' && s.callee === 'foo_visit'));
  assert.ok(visit && inner.body.includes(visit.id));
  const done = fn.blocks.find((b) => b.stmts.some((s) => s.kind === 'call' && s.callee === 'foo_done'));
  assert.ok(done && !outer.body.includes(done.id));
  assert.deepEqual(fn.degraded, []);
});

test('a one-argument loop macro followed by a single call (read by tree-sitter as a declaration)', async () => {
  const fn = await lowerOne(`
void foo_reset_all(void)
{
	int cpu;

	for_each_online_cpu(cpu)
		foo_reset(cpu);
	foo_end();
}
`);
  checkWellFormed(fn);
  assert.deepEqual(fn.loops.map((l) => l.macro), ['for_each_online_cpu']);
  const ps = paths(fn, { havocs: true });
  assert.ok(ps.includes('foo_end() ; return'), ps.join('\n'));
  assert.ok(ps.includes('havoc cpu ; foo_reset(cpu) ; foo_end() ; return'), ps.join('\n'));
  assert.deepEqual(fn.degraded, []);
});

test('case labels inside #ifdef blocks and nested braces still dispatch from the switch', async () => {
  const fn = await lowerOne(`
long foo_ioctl_cmd(struct file *file, unsigned int cmd)
{
	switch (cmd) {
	case FOO_GET:
		return foo_get(file);
#ifdef CONFIG_COMPAT
	case FOO_GET32:
		return foo_get32(file);
#endif
	case FOO_SET: {
		int r = foo_set(file);
		if (r)
			return r;
		break;
	}
	}
	return -ENOTTY;
}
`);
  checkWellFormed(fn);
  assert.deepEqual(fn.degraded, []);
  const ps = paths(fn);
  for (const want of [
    '[cmd == FOO_GET] ; $t1=foo_get(file) ; return $t1',
    '[cmd == FOO_GET32] ; $t2=foo_get32(file) ; return $t2',
    '[cmd == FOO_SET] ; r=foo_set(file) ; [r] ; return r',
    '[cmd == FOO_SET] ; r=foo_set(file) ; [!r] ; return -ENOTTY',
    'return -ENOTTY',
  ]) assert.ok(ps.includes(want), `${want}\n--\n${ps.join('\n')}`);
});

test('a statement-level macro with one argument (read as a type) is a call', async () => {
  const fn = await lowerOne(`
void foo_unused(int x)
{
	UNUSED_PARAM(x);
	foo_go();
}
`);
  checkWellFormed(fn);
  assert.deepEqual(paths(fn), ['UNUSED_PARAM(x) ; foo_go() ; return']);
});
