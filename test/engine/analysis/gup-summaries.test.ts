import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { helperSummary } from '../../../engine/analysis/gup-summaries';

const SRC = `
static void rel_all(struct page **p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		put_page(p[i]);
}

static void rel_flag(struct page **p, int n, bool pinned)
{
	if (pinned)
		unpin_user_pages(p, n);
	else
		release_pages(p, n);
}

static int rel_on_error(struct page **p, int n)
{
	if (check(n)) {
		unpin_user_pages(p, n);
		return -EINVAL;
	}
	return 0;
}

static void keep(struct holder *h, struct page **p, int n)
{
	h->pages = p;
	h->n = n;
}

static void wrap(struct page **pp, int count)
{
	rel_all(pp, count);
}

static void ping(struct page **p, int n);
static void pong(struct page **p, int n)
{
	ping(p, n);
}

static void ping(struct page **p, int n)
{
	if (n)
		pong(p, n - 1);
}

static void elsewhere(struct page **p)
{
	external_consume(p);
}
`;

test('helper summaries: kind, count parameter, always vs some paths, hand-off, recursion, escape', async () => {
  const file = lowerC(await loadCParser(), SRC);
  const s = (name: string) => helperSummary(file, name);
  assert.deepEqual(s('rel_all')?.params[0].release && { k: s('rel_all')!.params[0].release!.kind, c: s('rel_all')!.params[0].release!.countParam, a: s('rel_all')!.params[0].release!.always }, { k: 'get', c: 1, a: true });
  assert.equal(s('rel_flag')?.params[0].release?.kind, 'either');
  assert.equal(s('rel_on_error')?.params[0].release?.always, false);
  assert.equal(s('keep')?.params[1].handoff, true);
  assert.equal(s('keep')?.params[0].release, undefined);
  const w = s('wrap')?.params[0].release;
  assert.ok(w && w.kind === 'get' && w.countParam === 1 && w.always, 'release seen through a nested helper');
  assert.equal(s('ping')?.params[0].escape, true, 'recursion counts as unknown');
  assert.equal(s('elsewhere')?.params[0].escape, true);
  assert.equal(s('not_in_file'), undefined);
});
