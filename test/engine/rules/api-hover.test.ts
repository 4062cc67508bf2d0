import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainApi } from '../../../engine/explain/api-hover';
import { allApis, extendApiTable } from '../../../engine/kernel/api-table';

test('pin_user_pages hover: signature, pin bias, release, short return, version', () => {
  const h = explainApi('pin_user_pages_fast');
  assert.ok(h);
  assert.match(h, /int pin_user_pages_fast\(unsigned long start, int nr_pages, unsigned int gup_flags, struct page \*\*pages\);/);
  assert.match(h, /GUP_PIN_COUNTING_BIAS \(1024\) per small page/);
  assert.match(h, /`unpin_user_page\(\)`/);
  assert.match(h, /may be fewer than `nr_pages`/);
  assert.match(h, /since v5\.6/);
  // the source is cited publicly (the kernel document), never the working notes
  assert.match(h, /source: Documentation\/core-api\/pin_user_pages\.rst/);
  assert.doesNotMatch(h, /SEMANTICS/);
});

test('get_user_pages hover explains both flag outcomes and the put_page release', () => {
  const h = explainApi('get_user_pages')!;
  assert.match(h, /\+1 ref per page \(FOLL_GET\)/);
  assert.match(h, /FOLL_PIN/);
  assert.match(h, /`put_page\(\)`/);
});

test('release and hand-off hovers say what they fit and what misuse does', () => {
  assert.match(explainApi('put_page')!, /leaks 1023 refs/);
  assert.match(explainApi('unpin_user_pages')!, /returned/);
  assert.match(explainApi('bio_add_page')!, /Takes ownership.*returns 0 when it did not take the page/);
});

test('every table entry renders, including facets from other families', () => {
  for (const e of allApis()) {
    const h = explainApi(e.name);
    assert.ok(h && h.includes(e.signature), e.name);
  }
  extendApiTable([{ name: 'zz_copy_thing', signature: 'int zz_copy_thing(void *p)', header: 'x.h', summary: 'test', uaccess: { direction: 'to-user', nofault: true, returns: 'bytes-not-done', userArg: 0 } }]);
  const h = explainApi('zz_copy_thing')!;
  assert.match(h, /\*\*uaccess:\*\* direction: to-user, nofault: true/);
  assert.equal(explainApi('no_such_function'), undefined);
});
