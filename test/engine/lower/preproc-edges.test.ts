// `#if`/`#ifdef` branches inside a body: unconditional edges that also say which preprocessor
// conditions hold on them (Edge.preproc), so two blocks on the same symbol can be correlated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerOne } from './helpers';
import type { FunctionIR } from '../../../engine/ir';

function preprocEdges(fn: FunctionIR): string[] {
  const out: string[] = [];
  for (const b of fn.blocks) for (const e of b.succs) {
    if (!e.preproc) continue;
    assert.equal(e.cond, undefined, 'a preprocessor edge is not an assume');
    out.push(`${e.label}: ${e.preproc.map((p) => `${p.value ? '' : '!'}${p.key}`).join(' && ')}`);
  }
  return out.sort();
}

test('#ifdef / #else / #ifndef / #if / #elif record their conditions on the edges', async () => {
  const fn = await lowerOne(`
int f(int x)
{
#ifdef CONFIG_A
	x = 1;
#else
	x = 2;
#endif
#ifndef CONFIG_B
	x++;
#endif
#if defined(CONFIG_C)
	x--;
#elif CONFIG_D > 2
	x += 2;
#endif
	return x;
}
`);
  assert.deepEqual(preprocEdges(fn), [
    '#else: !defined(CONFIG_A)',
    '#if not compiled: defined(CONFIG_B)',
    '#if not compiled: !defined(CONFIG_C) && !CONFIG_D > 2',
    '#if: !defined(CONFIG_B)',
    '#if: !defined(CONFIG_C) && CONFIG_D > 2',
    '#if: defined(CONFIG_A)',
    '#if: defined(CONFIG_C)',
  ].sort());
});
