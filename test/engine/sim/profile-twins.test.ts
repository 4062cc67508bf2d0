// A simulation run answers for another profile that agrees on every profile field the run read
// (engine/kernel/profiles.ts runAnswersFor; engine/sim/from-c/run.ts reuses it). These
// tests hold the reuse to what it stands for: every profile's outcome is the one a run of that
// profile alone gives, with and without the v5.14 one-byte-progress rule, on every fault-in loop
// of the fixtures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILES, noProfileUse, runAnswersFor, type ArchProfile } from '../../../engine/kernel/profiles';
import type { Layout } from '../../../engine/kernel/state';
import { faultIn, userCopy } from '../../../engine/kernel/ops';
import { constantValue } from '../../../engine/sim/constants';
import { fixtureLoops } from '../../helpers/fixture-loops';
import { opCtxFor } from '../../helpers/op-ctx';
import { copyFaulted, faultInCalled, simulateFunctionIR, type FromCOptions, type ProfileOutcome } from '../../../engine/sim/from-c/run';
import type { ProfileName } from '../../../engine/sim/scenario';

test('runAnswersFor: a run answers for a profile that agrees on every field it read', () => {
  const none = noProfileUse();
  const window = { ...none, faultWindow: true };
  const granule = { ...none, subpageGranule: true };
  // x86_64 and arm64 differ only in the fault window; arm64 and arm64-mte only in the granule.
  assert.equal(runAnswersFor(none, PROFILES.x86_64, PROFILES.arm64), true);
  assert.equal(runAnswersFor(window, PROFILES.x86_64, PROFILES.arm64), false);
  assert.equal(runAnswersFor(granule, PROFILES.x86_64, PROFILES.arm64), true);
  assert.equal(runAnswersFor(none, PROFILES.arm64, PROFILES['arm64-mte']), true);
  assert.equal(runAnswersFor(window, PROFILES.arm64, PROFILES['arm64-mte']), true);
  assert.equal(runAnswersFor(granule, PROFILES.arm64, PROFILES['arm64-mte']), false);
  assert.equal(runAnswersFor(none, PROFILES.x86_64, PROFILES['arm64-mte']), true);
  assert.equal(runAnswersFor(window, PROFILES.x86_64, PROFILES['arm64-mte']), false);
  // Every other field is compared, including one added later.
  assert.equal(runAnswersFor(none, PROFILES.x86_64, { ...PROFILES.arm64, pageSize: 16384 }), false);
  assert.equal(runAnswersFor(none, PROFILES.x86_64, { ...PROFILES.arm64, kernelMappingTagChecked: true }), false);
  const later = { ...PROFILES.arm64, lpa2: true } as unknown as ArchProfile;
  assert.equal(runAnswersFor(none, PROFILES.x86_64, later), false);
  assert.equal(runAnswersFor(none, later, PROFILES.x86_64), false);
});

const BUF = 0x7f0000001000;

test('a run records the profile fields it used where it uses them, on any profile', () => {
  const secondPageMissing: Layout = { vmas: [{ start: BUF, pages: 2, kind: 'anon', present: [0] }] };
  // A copy that faults at its first byte stops there on every profile; one that faults later does not.
  const atFirst = opCtxFor(secondPageMissing, 'x86_64');
  userCopy(atFirst, BUF + 0x1000, 0x20, true, false, 'copy');
  assert.deepEqual(atFirst.profileUse, noProfileUse());
  const later = opCtxFor(secondPageMissing, 'x86_64');
  userCopy(later, BUF + 0x1000 - 8, 0x20, true, false, 'copy');
  assert.deepEqual(later.profileUse, { ...noProfileUse(), faultWindow: true });
  // A sub-page probe would run: whether it does is the granule's to say (x86_64 has none).
  const probe = opCtxFor({ vmas: [{ start: BUF, pages: 2, kind: 'anon' }] }, 'x86_64');
  faultIn(probe, BUF, 0x40, { access: 'write', probe: 'granule', returns: 'bytes-not-faulted', subpageOnly: true }, 'probe_subpage_writeable');
  assert.equal(probe.profileUse.subpageGranule, true);
  const pageProbe = opCtxFor({ vmas: [{ start: BUF, pages: 2, kind: 'anon' }] }, 'x86_64');
  faultIn(pageProbe, BUF, 0x40, { access: 'write', probe: 'page', returns: 'bytes-not-faulted' }, 'fault_in_writeable');
  assert.equal(pageProbe.profileUse.subpageGranule, false);
  // A page with mismatched tags, read on a profile without MTE.
  const tagged = opCtxFor({ vmas: [{ start: BUF, pages: 2, kind: 'anon' }], badGranules: [BUF + 0x40] }, 'arm64');
  userCopy(tagged, BUF, 0x20, false, false, 'copy');
  assert.equal(tagged.profileUse.subpageGranule, true);
  // The code reading SUBPAGE_GRANULE; PAGE_SIZE is the same on every profile.
  const use = noProfileUse();
  constantValue('PAGE_SIZE', PROFILES.x86_64, use);
  assert.equal(use.subpageGranule, false);
  constantValue('SUBPAGE_GRANULE', PROFILES.x86_64, use);
  assert.equal(use.subpageGranule, true);
});

/** An outcome as the user sees it: what the run found, without what it read of its profile. */
function shown(o: ProfileOutcome | undefined): string {
  return JSON.stringify(o, (k, v) => (k === 'profileUse' ? undefined : v));
}

test('every fixture fault-in loop: each profile\'s outcome is that of the profile run alone, and arm64 reuses x86_64 runs', async () => {
  let compared = 0;
  let reused = 0;
  let runs = 0;
  for (const { file: f, fn, byName, loopBlocks } of await fixtureLoops()) {
    // The whole-function budget large enough never to bind: a profile run alone would otherwise
    // get all of it, and one of three only a third.
    const base: FromCOptions = { loopBlocks, livelockRequires: [copyFaulted, faultInCalled], maxTotalStates: 1e7 };
    for (const variant of [{ decidingVerdicts: ['livelock' as const] }, { kernel: 'v5.10' }, {}]) {
      const all = simulateFunctionIR(fn, byName, { ...base, ...variant });
      runs += all.runs;
      reused += all.reused;
      let states = 0;
      let transitions = 0;
      for (const arch of ['x86_64', 'arm64', 'arm64-mte'] as ProfileName[]) {
        const alone = simulateFunctionIR(fn, byName, { ...base, ...variant, arch });
        assert.equal(alone.reused, 0);
        states += alone.statesExplored;
        transitions += alone.transitions;
        assert.equal(shown(all.outcomes.find((o) => o.arch === arch)), shown(alone.outcomes[0]), `${f} ${fn.name}() ${arch} ${JSON.stringify(variant)}`);
        compared++;
      }
      // Every run, not only the one shown per profile, explored what it would have alone.
      assert.deepEqual([all.statesExplored, all.transitions], [states, transitions], `${f} ${fn.name}() ${JSON.stringify(variant)}`);
    }
  }
  assert.ok(compared >= 15, `only ${compared} outcomes compared`);
  console.log(`# ${reused} of ${runs} runs reused`);
  assert.ok(reused > 0 && reused < runs, `${reused} of ${runs} runs reused`);
});
