// A run on x86_64 in which no user copy faulted past its first byte answers for arm64 too
// (engine/kernel/profiles.ts differOnlyInFaultWindow; engine/sim/from-c/run.ts reuses it). These
// tests hold the reuse to what it stands for: every profile's outcome is the one a run of that
// profile alone gives, with and without the v5.14 one-byte-progress rule, on every fault-in loop
// of the fixtures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES, differOnlyInFaultWindow, type ArchProfile } from '../../../engine/kernel/profiles';
import { loadCParser } from '../../../engine/syntax/parser';
import { lowerC } from '../../../engine/lower/index';
import { FaultInLoopFinder } from '../../../engine/analysis/faultin/index';
import { copyFaulted, faultInCalled, simulateFunctionIR, type FromCOptions, type ProfileOutcome } from '../../../engine/sim/from-c/run';
import type { ProfileName } from '../../../engine/sim/scenario';
import { repoRoot } from '../../helpers/repo';

test('differOnlyInFaultWindow: x86_64 and arm64 differ only in the fault window; MTE and any other field keep profiles apart', () => {
  assert.equal(differOnlyInFaultWindow(PROFILES.x86_64, PROFILES.arm64), true);
  assert.equal(differOnlyInFaultWindow(PROFILES.arm64, PROFILES.x86_64), true);
  assert.equal(differOnlyInFaultWindow(PROFILES.arm64, PROFILES['arm64-mte']), false);
  assert.equal(differOnlyInFaultWindow(PROFILES.x86_64, PROFILES['arm64-mte']), false);
  // Every field but the window's is compared, including one added later.
  assert.equal(differOnlyInFaultWindow(PROFILES.x86_64, { ...PROFILES.arm64, pageSize: 16384 }), false);
  assert.equal(differOnlyInFaultWindow(PROFILES.x86_64, { ...PROFILES.arm64, kernelMappingTagChecked: true }), false);
  const later = { ...PROFILES.arm64, lpa2: true } as unknown as ArchProfile;
  assert.equal(differOnlyInFaultWindow(PROFILES.x86_64, later), false);
  assert.equal(differOnlyInFaultWindow(later, PROFILES.x86_64), false);
});

/** An outcome as the user sees it: what the run found, without what it read of its profile. */
function shown(o: ProfileOutcome | undefined): string {
  return JSON.stringify(o, (k, v) => (k === 'profileUse' ? undefined : v));
}

test('every fixture fault-in loop: each profile\'s outcome is that of the profile run alone, and arm64 reuses x86_64 runs', async () => {
  const dir = join(repoRoot(), 'test', 'fixtures', 'uaccess-livelock');
  const parser = await loadCParser();
  let compared = 0;
  let reused = 0;
  let runs = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.c'))) {
    const file = lowerC(parser, readFileSync(join(dir, f), 'utf8'));
    const byName = new Map(file.functions.map((fn) => [fn.name, fn] as const));
    const finder = new FaultInLoopFinder(byName);
    for (const fn of file.functions) {
      const loops = finder.loops(fn);
      if (!loops.length) continue;
      // The whole-function budget large enough never to bind: a profile run alone would otherwise
      // get all of it, and one of three only a third.
      const base: FromCOptions = { loopBlocks: new Set(loops.flatMap((l) => l.loop.body)), livelockRequires: [copyFaulted, faultInCalled], maxTotalStates: 1e7 };
      for (const variant of [{ decidingVerdicts: ['livelock' as const] }, { kernel: 'v5.10' }, {}]) {
        const all = simulateFunctionIR(fn, byName, { ...base, ...variant });
        runs += all.runs;
        reused += all.reused;
        for (const arch of ['x86_64', 'arm64', 'arm64-mte'] as ProfileName[]) {
          const alone = simulateFunctionIR(fn, byName, { ...base, ...variant, arch });
          assert.equal(alone.reused, 0);
          assert.equal(shown(all.outcomes.find((o) => o.arch === arch)), shown(alone.outcomes[0]), `${f} ${fn.name}() ${arch} ${JSON.stringify(variant)}`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared >= 15, `only ${compared} outcomes compared`);
  assert.ok(reused > 0 && reused < runs / 3, `${reused} of ${runs} runs reused: some, never more than the arm64 ones`);
});
