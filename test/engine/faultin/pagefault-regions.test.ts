// Page-fault-disabled regions: helper summaries, handles, hand-offs, depth counts and the
// budget note (engine/analysis/faultin/pagefault.ts, rule pagefault-disable-unbalanced).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PagefaultAnalysis } from '../../../engine/analysis/faultin/index';
import { lineOf, lower, rules } from './helpers';

const HELPERS = `
static void h_begin(void) { pagefault_disable(); }
static void h_end(void) { pagefault_enable(); }
static void *h_map(struct page *p) { return kmap_atomic(p) + 16; }
static void *h_map_maybe(struct page *p) { if (!p) return NULL; return kmap_atomic(p); }
static void h_unmap(void *va) { kunmap_atomic(va); }
static void h_map_obj(struct ctx *c) { c->va = kmap_atomic(c->page); }
static void h_unmap_obj(struct ctx *c) { kunmap_atomic(c->va); }
static void h_remap(struct ctx *c, struct page *p) { if (c->va) kunmap_atomic(c->va); c->va = kmap_atomic(p); }
static int h_balanced(struct page *p) { char *v = kmap_atomic(p); int x = v[0]; kunmap_atomic(v); return x; }

static int use_remap(struct ctx *c, struct page *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		h_remap(c, p);
	if (n > 4)
		return -E2BIG;
	if (c->va)
		kunmap_atomic(c->va);
	return 0;
}

static int use_obj(struct ctx *c, int bad)
{
	h_map_obj(c);
	if (bad)
		return -EINVAL;
	h_unmap_obj(c);
	return 0;
}

static int one_disable(int x)
{
	pagefault_disable();
	if (x)
		return -EFAULT;
	pagefault_enable();
	return 0;
}

static int handle_leak(struct page *p, int bad)
{
	char *v = h_map(p);

	if (bad)
		return -EIO;
	h_unmap(v);
	return 0;
}

static int maybe_null(struct page *p)
{
	char *v = h_map_maybe(p);

	if (!v)
		return -ENOENT;
	v[0] = 1;
	h_unmap(v);
	return 0;
}
`;

test('helper summaries: balanced, opens (pure / handle / object), closes, unknown', async () => {
  const { byName, fn } = await lower(HELPERS);
  const a = new PagefaultAnalysis(byName);
  assert.deepEqual(a.facts(fn('h_balanced')).summary, { kind: 'balanced' });
  assert.deepEqual(a.facts(fn('h_begin')).summary, { kind: 'opens', how: 'pure', handles: [] });
  assert.deepEqual(a.facts(fn('h_map')).summary, { kind: 'opens', how: 'handle', handles: [], nonNull: true });
  assert.deepEqual(a.facts(fn('h_map_maybe')).summary, { kind: 'opens', how: 'handle', handles: [] });
  assert.deepEqual(a.facts(fn('h_map_obj')).summary, { kind: 'opens', how: 'object', handles: ['c->va'] });
  assert.deepEqual(a.facts(fn('h_end')).summary, { kind: 'closes', args: [[]] });
  assert.deepEqual(a.facts(fn('h_unmap')).summary, { kind: 'closes', args: [['va']] });
  assert.deepEqual(a.facts(fn('h_unmap_obj')).summary, { kind: 'closes', args: [['c->va']] });
  assert.deepEqual(a.facts(fn('h_remap')).summary, { kind: 'unknown' });
});

test('depths count open regions: one disable is depth 1, an unknown helper adds nothing', async () => {
  const { byName, fn } = await lower(HELPERS);
  const a = new PagefaultAnalysis(byName);
  const one = a.facts(fn('one_disable'));
  assert.deepEqual(one.exitDepths, [0, 1]);
  assert.equal(one.leaks.length, 1);
  assert.equal(one.leaks[0]!.depth, 1);
  assert.equal(one.leaks[0]!.more, false);
  // The remap helper's summary is unknown: the caller neither opens nor leaks through it, and its
  // own guarded unmap of the cache's mapping is the object's business, not an underflow.
  const r = a.facts(fn('use_remap'));
  assert.deepEqual(r.leaks, []);
  assert.deepEqual(r.enableWithoutDisable, []);
  assert.deepEqual(r.exitDepths, [0]);
});

test('a region kept in an object is the object\'s; a returned handle is the caller\'s to pair', async () => {
  const { byName, fn } = await lower(HELPERS);
  const a = new PagefaultAnalysis(byName);
  assert.deepEqual(a.facts(fn('use_obj')).leaks, []);
  const h = a.facts(fn('handle_leak'));
  assert.equal(h.leaks.length, 1);
  assert.equal(h.leaks[0]!.opener.callee, 'h_map');
  // `if (!v)` after a helper that returns NULL without mapping: nothing open on that edge.
  assert.deepEqual(a.facts(fn('maybe_null')).leaks, []);
});

test('the rule reports the handle leak and stays silent on the hand-offs', async () => {
  const f = await rules(HELPERS, ['pagefault-disable-unbalanced']);
  assert.deepEqual(f.map((x) => `${x.function}:${x.range.startRow + 1}`).sort(),
    [`handle_leak:${lineOf(HELPERS, 'return -EIO;')}`, `one_disable:${lineOf(HELPERS, 'return -EFAULT;')}`].sort());
});

test('hitting the region bound is an info note naming the function and the bound', async () => {
  const maps = Array.from({ length: 8 }, (_, i) => `\tv${i} = kmap_atomic(p[${i}]);`).join('\n');
  const unmaps = Array.from({ length: 8 }, (_, i) => `\tkunmap_atomic(v${7 - i});`).join('\n');
  const src = `static int deep(struct page **p, int bad)\n{\n\tvoid *v0, *v1, *v2, *v3, *v4, *v5, *v6, *v7;\n${maps}\n\tif (bad)\n\t\treturn -EIO;\n${unmaps}\n\treturn 0;\n}\n`;
  const f = await rules(src, ['pagefault-disable-unbalanced']);
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'info');
  assert.match(f[0]!.message, /deep\(\).*6 regions open at once/);
});
