// Dead-field reduction (engine/sim/liveness.ts): the interpreter keeps a struct field in the
// frame under its text, so a field no later statement of the function reads is dropped from the
// frame; what a call is handed may be read by the callee (an API facet reads `it->processed`
// from `it`), so every field hanging off a call's argument stays live at the call.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { forgetDeadLocals, liveness } from '../../../engine/sim/liveness';
import type { SimState } from '../../../engine/kernel/state';

const TEXT = `
static int demo_fields(struct demo_req *req, struct demo_iter *it)
{
	int n = 0;

	if (req->flags & 1)
		n = 1;
	while (req->count) {
		demo_step(it);
		it->processed = n;
		n++;
	}
	return n + req->result;
}
`;

test('a field read once at entry is dead afterwards; fields a call may read and fields read later stay live', async () => {
  const parser = await loadCParser();
  const fn = lowerC(parser, TEXT).functions.find((f) => f.name === 'demo_fields')!;
  const lv = liveness(fn);
  assert.ok(lv.fields.has('req->flags') && lv.fields.has('it->processed'));
  // req->flags is read by the entry block's branch only.
  fn.blocks.forEach((b, bi) => {
    if (bi === fn.entry) return;
    for (const live of lv.at[bi]) assert.ok(!live.has('req->flags'), `req->flags live in block ${bi}`);
  });
  let at: { block: number; idx: number } | undefined;
  fn.blocks.forEach((b, bi) => b.stmts.forEach((s, idx) => { if (s.kind === 'call' && s.callee === 'demo_step') at = { block: bi, idx }; }));
  assert.ok(at);
  const live = lv.at[at.block][at.idx];
  // demo_step(it) may read it->processed although the function only writes it; req->count and
  // req->result are read later.
  for (const k of ['it->processed', 'req->count', 'req->result', 'n']) assert.ok(live.has(k), k);

  const frame = { fn: 'demo_fields', block: at.block, idx: at.idx, env: { req: 0x1000, it: 0x2000, n: 3, 'req->flags': 1, 'req->count': 2, 'req->result': 5, 'it->processed': 7 } as Record<string, number | null> };
  const state = { threads: [{ frames: [frame] }] } as unknown as SimState;
  assert.equal(forgetDeadLocals({ demo_fields: fn }, state, 0), 1);
  assert.deepEqual(frame.env, { req: 0x1000, it: 0x2000, n: 3, 'req->count': 2, 'req->result': 5, 'it->processed': 7 });
});
