// Bad input never crashes or hangs: IR the interpreter cannot run ends inconclusive, huge sizes
// are bounded, unknown calls are havoc.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fn } from '../../../engine/sim/builder';
import { runScenario, type Scenario } from '../../../engine/sim/scenario';
import type { FunctionIR } from '../../../engine/ir';

const BUF = 0x7f0000001000;

function sc(functions: FunctionIR[], args: (number | string)[] = [BUF]): Scenario {
  return {
    name: 'robust', title: 't', source: 'test', side: 'before', oracle: '-', functions,
    threads: [{ fn: functions[0].name, args }], layout: { vmas: [{ start: BUF, pages: 2, kind: 'anon' }] }, expect: {},
  };
}

test('recursion is bounded and reported, not a crash', () => {
  const r = runScenario(sc([fn('rec', ['p'], (b) => { b.call('rec', ['p']); b.ret(0); })]), { arch: 'x86_64' });
  assert.equal(r.verdict, 'inconclusive');
  assert.match(r.note, /call depth/);
});

test('a block with no feasible edge ends inconclusive', () => {
  const f = fn('stuck', [], (b) => b.ret(0));
  f.blocks[0].succs = [{ to: f.exit, cond: { kind: 'int', value: 0 } }];
  const r = runScenario(sc([f], []), { arch: 'x86_64' });
  assert.equal(r.verdict, 'inconclusive');
  assert.match(r.note, /no feasible edge/);
});

test('huge sizes, indices and unknown calls are bounded', () => {
  const t0 = Date.now();
  const f = fn('huge', ['ubuf'], (b) => {
    b.decl('big', 'long', 1 << 30);
    b.assign('big[100000000000]', 1);
    b.call('some_unknown_helper', ['ubuf'], 'x');
    b.call('copy_to_user', ['ubuf', 'src', 0x7fffffffffff], 'left');
    b.call('fault_in_writeable', ['ubuf', 0x7fffffffffff], 'nr');
    b.call('pagefault_disable');
    b.call('pagefault_enable');
    b.assign('y', '1 << 4000');
    b.assign('z', 'y & 3');
    b.ret('left');
  });
  const r = runScenario(sc([f]), { arch: 'arm64-mte' });
  assert.equal(r.verdict, 'ok');
  assert.ok(Date.now() - t0 < 5000);
});

test('pagefault_enable without disable is an underflow, not a crash', () => {
  const r = runScenario(sc([fn('bad', [], (b) => { b.call('pagefault_enable'); b.ret(0); })], []), { arch: 'x86_64' });
  assert.equal(r.verdict, 'underflow');
});
