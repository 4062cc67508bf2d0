// GUP calls are interpreted by name through the API table's `refs` facet (engine/kernel/api/gup.ts),
// and a workspace can declare an API the table lacks (extendApiTable).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extendApiTable, lookupApi } from '../../../engine/kernel/api-table';
import { fn } from '../../../engine/sim/builder';
import { runScenario, type Scenario } from '../../../engine/sim/scenario';

const Z = 0x7f0000040000;

function one(name: string, body: Parameters<typeof fn>[2], kernel?: string): Scenario {
  return {
    name, title: name, source: 'test', side: 'before', oracle: 'refs', functions: [fn('f', ['uaddr'], body)],
    threads: [{ fn: 'f', args: [Z] }], layout: { vmas: [{ start: Z, pages: 2, kind: 'anon' }] }, expect: {}, ...(kernel ? { kernel } : {}),
  };
}

test('table GUP entries drive the simulator: pin + unpin_user_pages_dirty_lock ok, pin + release_pages underflow', () => {
  for (const n of ['pin_user_pages', 'unpin_user_pages_dirty_lock', 'release_pages', 'get_user_pages']) {
    assert.ok(lookupApi(n)?.refs, `${n} has a refs facet in the table`);
  }
  const ok = one('pin-dirty-lock', (b) => {
    b.decl('pages', 'struct page *', 2);
    b.call('pin_user_pages', ['uaddr', 2, 'FOLL_WRITE', 'pages'], 'ret');
    b.if('ret <= 0', () => b.ret('ret'));
    b.call('unpin_user_pages_dirty_lock', ['pages', 'ret', 1]);
    b.ret(0);
  });
  assert.equal(runScenario(ok, { arch: 'x86_64' }).verdict, 'ok');
  const bad = one('pin-release-pages', (b) => {
    b.decl('pages', 'struct page *', 2);
    b.call('pin_user_pages', ['uaddr', 2, 'FOLL_WRITE', 'pages'], 'ret');
    b.if('ret <= 0', () => b.ret('ret'));
    b.call('release_pages', ['pages', 'ret']);
    b.ret(0);
  });
  const r = runScenario(bad, { arch: 'x86_64' });
  assert.equal(r.verdict, 'underflow');
  assert.match(r.note, /released as a plain reference/);
  const leak = one('get-no-release', (b) => {
    b.decl('pages', 'struct page *', 2);
    b.call('get_user_pages', ['uaddr', 2, 'FOLL_WRITE', 'pages'], 'ret');
    b.ret(0);
  });
  assert.equal(runScenario(leak, { arch: 'x86_64' }).verdict, 'leak');
});

test('an API declared by the workspace is interpreted from its facets', () => {
  extendApiTable([{
    name: 'demo_grab_pages', signature: 'long demo_grab_pages(unsigned long start, long nr, struct page **pages)', header: 'demo.h',
    summary: 'a driver helper that pins', refs: { op: 'acquire', kind: 'pin', pagesArg: 2, countArg: 1, returns: 'count-or-errno' },
  }]);
  const sc = one('demo', (b) => {
    b.decl('pages', 'struct page *', 2);
    b.call('demo_grab_pages', ['uaddr', 2, 'pages'], 'ret');
    b.if('ret > 0', () => b.call('put_page', ['pages[0]']));
    b.ret(0);
  });
  const r = runScenario(sc, { arch: 'arm64' });
  assert.equal(r.verdict, 'underflow');
  assert.ok(r.steps.some((s) => /pinned 2 of 2 page/.test(s.note ?? '')));
});
