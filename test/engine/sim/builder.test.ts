import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exprText, fn, parseExpr } from '../../../engine/sim/builder';

test('the expression parser keeps C precedence and the IR expression kinds', () => {
  const e = parseExpr('ubuf + sk_offset * 2 == -EFAULT && pages[i]->flags');
  assert.equal(e.kind, 'binary');
  assert.equal(exprText(e), 'ubuf + sk_offset * 2 == -EFAULT && pages[i]->flags');
  if (e.kind !== 'binary') return;
  assert.equal(e.op, '&&');
  const cmp = e.left;
  assert.ok(cmp.kind === 'binary' && cmp.op === '==');
  if (cmp.kind === 'binary') {
    assert.ok(cmp.left.kind === 'binary' && cmp.left.op === '+');
    assert.deepEqual(cmp.right, { kind: 'unary', op: '-', arg: { kind: 'const', name: 'EFAULT' } });
  }
  assert.deepEqual(parseExpr('0x40'), { kind: 'int', value: 64, text: '0x40' });
  assert.deepEqual(parseExpr('&gl'), { kind: 'unary', op: '&', arg: { kind: 'var', name: 'gl' } });
  assert.throws(() => parseExpr('a +'), /unexpected end/);
});

test('the builder produces a well-formed FunctionIR: loops, ifs, returns into the single exit', () => {
  const f = fn('loop', ['ubuf', 'len'], (b) => {
    b.assign('done', 0);
    b.loop(() => {
      b.call('copy_to_user', ['ubuf + done', 'src', 'len - done'], 'left');
      b.if('left == 0', () => b.ret('len'));
      b.if('left == len', () => b.break());
      b.assign('done', 'len - left');
    });
    b.ret('-EFAULT');
  });
  assert.equal(f.params.length, 2);
  assert.equal(f.loops.length, 1);
  const ids = new Set(f.blocks.map((b) => b.id));
  for (const b of f.blocks) for (const e of b.succs) assert.ok(ids.has(e.to), 'edges point at blocks');
  assert.equal(f.blocks[f.exit].succs.length, 0);
  const returns = f.blocks.filter((b) => b.stmts.some((s) => s.kind === 'return'));
  assert.equal(returns.length, 2);
  for (const b of returns) assert.deepEqual(b.succs.map((e) => e.to), [f.exit]);
  const calls = f.blocks.flatMap((b) => b.stmts).filter((s) => s.kind === 'call');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].kind === 'call' && calls[0].callee, 'copy_to_user');
  const header = f.blocks[f.loops[0].header];
  assert.ok(f.blocks.some((b) => b.succs.some((e) => e.to === header.id && e.label === 'loop back')));
});
