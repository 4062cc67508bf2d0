// Every function of the uaccess-livelock fixtures with a fault-in retry loop, lowered, with its
// file's functions and the loop blocks the rule hands the simulator: the tests that run the
// simulation over "every fixture loop" share this walk.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionIR } from '../../engine/ir';
import { loadCParser } from '../../engine/syntax/parser';
import { lowerC } from '../../engine/lower/index';
import { FaultInLoopFinder } from '../../engine/analysis/faultin/index';
import { repoRoot } from './repo';

export interface FixtureLoop {
  /** The fixture's file name. */
  file: string;
  fn: FunctionIR;
  byName: Map<string, FunctionIR>;
  /** The blocks of its fault-in loops (FromCOptions.loopBlocks). */
  loopBlocks: Set<number>;
}

export async function fixtureLoops(): Promise<FixtureLoop[]> {
  const dir = join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock');
  const parser = await loadCParser();
  const out: FixtureLoop[] = [];
  for (const file of readdirSync(dir).filter((x) => x.endsWith('.c')).sort()) {
    const ir = lowerC(parser, readFileSync(join(dir, file), 'utf8'));
    const byName = new Map(ir.functions.map((fn) => [fn.name, fn] as const));
    const finder = new FaultInLoopFinder(byName);
    for (const fn of ir.functions) {
      const loops = finder.loops(fn);
      if (loops.length) out.push({ file, fn, byName, loopBlocks: new Set(loops.flatMap((l) => l.loop.body)) });
    }
  }
  return out;
}
