// The GUP family of the API table is data the analysis trusts: check it is self-consistent
// (argument positions inside the prototype, the brief's API list present, pairings sane).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gupApis, gupPageAliases, gupValueTests } from '../../../engine/kernel/api/gup';
import { lookupApi } from '../../../engine/kernel/api-table';

const paramCount = (sig: string): number => {
  const m = /\((.*)\)\s*$/.exec(sig);
  if (!m || m[1].trim() === 'void' || m[1].trim() === '') return 0;
  return m[1].split(',').length;
};

test('every GUP entry has a prototype, header and summary, and argument positions inside it', () => {
  for (const e of gupApis) {
    assert.ok(e.signature.includes(`${e.name}(`), e.name);
    assert.ok(e.header && e.summary, e.name);
    const r = e.refs;
    if (!r) continue;
    const n = paramCount(e.signature);
    assert.ok(r.pagesArg < n, `${e.name}: pagesArg ${r.pagesArg} of ${n}`);
    if ('countArg' in r && r.countArg !== undefined) assert.ok(r.countArg < n, `${e.name}: countArg`);
    if (r.op === 'acquire') {
      if (r.flagsArg !== undefined) assert.ok(r.flagsArg < n, `${e.name}: flagsArg`);
      assert.ok(!r.byArity || r.byArity[n], `${e.name}: the current prototype's arity is listed`);
      for (const [arity, pos] of Object.entries(r.byArity ?? {})) {
        assert.ok(pos.pagesArg < Number(arity) && (pos.countArg ?? 0) < Number(arity), `${e.name}/${arity}`);
      }
    }
  }
});

test('the brief\'s GUP API list is in the table with the right facet', () => {
  const acquire = ['get_user_pages', 'get_user_pages_remote', 'get_user_pages_unlocked', 'get_user_pages_fast', 'get_user_pages_fast_only',
    'pin_user_pages', 'pin_user_pages_remote', 'pin_user_pages_unlocked', 'pin_user_pages_fast', 'pin_user_pages_fast_only',
    '__get_user_pages_fast', 'iov_iter_get_pages', 'iov_iter_get_pages_alloc', 'iov_iter_get_pages2', 'iov_iter_get_pages_alloc2',
    'iov_iter_extract_pages', 'get_page', 'try_get_page', 'folio_get', 'try_grab_page'];
  const release = ['put_page', 'folio_put', 'release_pages', 'put_user_page', 'put_user_pages', 'put_user_pages_dirty_lock',
    'unpin_user_page', 'unpin_user_pages', 'unpin_user_pages_dirty_lock', 'unpin_user_page_range_dirty_lock', 'unpin_folio',
    'unpin_folios', 'iov_iter_put_pages', 'bio_release_pages'];
  const handoff = ['bio_add_page', 'bio_add_hw_page', 'bio_add_pc_page', '__bio_add_page', 'sg_set_page', 'skb_fill_page_desc'];
  for (const [names, op] of [[acquire, 'acquire'], [release, 'release'], [handoff, 'handoff']] as const) {
    for (const n of names) assert.equal(lookupApi(n)?.refs?.op, op, n);
  }
});

test('pin acquisitions pair with pin releases and get with get (SEMANTICS.md C.3)', () => {
  for (const n of ['pin_user_pages', 'pin_user_pages_fast', 'pin_user_pages_remote', 'iov_iter_extract_pages']) {
    const r = lookupApi(n)?.refs;
    assert.ok(r && r.op === 'acquire' && r.kind === 'pin', n);
  }
  for (const n of ['unpin_user_page', 'unpin_user_pages', 'unpin_user_pages_dirty_lock']) {
    const r = lookupApi(n)?.refs;
    assert.ok(r && r.op === 'release' && r.kind === 'pin', n);
  }
  for (const n of ['put_page', 'release_pages']) {
    const r = lookupApi(n)?.refs;
    assert.ok(r && r.op === 'release' && r.kind === 'get', n);
  }
  const fast = lookupApi('get_user_pages_fast_only')?.refs;
  assert.ok(fast && fast.op === 'acquire' && fast.returns === 'count-nonneg');
  const sink = lookupApi('bio_add_page')?.refs;
  assert.ok(sink && sink.op === 'handoff' && sink.failure === 'returns-zero');
});

test('helper data maps name functions the table knows or macros', () => {
  for (const n of Object.keys(gupPageAliases)) assert.ok(lookupApi(n), n);
  assert.equal(gupValueTests.IS_ERR_VALUE, 'is-err-value');
});
