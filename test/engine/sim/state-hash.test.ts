// The explorer's state identity (engine/kernel/state.ts stateHash) and the kernel parts a
// transition shares with its parent (engine/sim/interp.ts shareKernel): speed-ups that must not
// change which states count as the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS } from '../../../engine/sim/scenarios/index';
import { buildInitialState, runScenario, type ProfileName } from '../../../engine/sim/scenario';
import { PROFILES } from '../../../engine/kernel/profiles';
import { MAINLINE, kernelSwitches } from '../../../engine/kernel/versions';
import { lookupApi } from '../../../engine/kernel/api-table';
import { cloneState, stateHash, stateText, type SimState } from '../../../engine/kernel/state';
import { SIM_CHECKS, choiceCount, runTransition, type World } from '../../../engine/sim/interp';
import { copyFaulted, faultInCalled, simulateFunctionIR } from '../../../engine/sim/from-c/run';
import { fixtureLoops } from '../../helpers/fixture-loops';

const ARCHS: ProfileName[] = ['x86_64', 'arm64', 'arm64-mte'];

/** Up to `limit` states each scenario reaches (breadth first over threads and choices). */
function reachedStates(limit: number): SimState[] {
  const out: SimState[] = [];
  for (const sc of SCENARIOS) {
    const profile = PROFILES.x86_64;
    const kernel = sc.kernel ?? MAINLINE;
    const world: World = {
      program: { functions: Object.fromEntries(sc.functions.map((f) => [f.name, f])), ...(sc.choiceSites ? { choices: sc.choiceSites } : {}) },
      profile, sw: kernelSwitches(kernel), api: (name) => lookupApi(name),
    };
    const init = buildInitialState(sc, sc.layout, { ...(sc.globals ?? {}) }, profile, kernel).state;
    const queue = [init];
    for (let i = 0; i < queue.length && i < limit; i++) {
      const s = queue[i];
      out.push(s);
      for (let tid = 0; tid < s.threads.length; tid++) {
        if (s.threads[tid].done) continue;
        for (let c = 0; c < choiceCount(world, s, tid); c++) {
          const r = runTransition(world, s, tid, c);
          if (r.changed && !r.violation) queue.push(r.state);
        }
      }
    }
  }
  return out;
}

test('stateHash: two reached states hash alike exactly when their canonical texts are equal', () => {
  const states = reachedStates(60);
  const hashOfText = new Map<string, number>();
  const textOfHash = new Map<number, string>();
  for (const s of states) {
    const h = stateHash(s);
    const t = stateText(s);
    assert.ok(Number.isSafeInteger(h) && h >= 0);
    if (hashOfText.has(t)) assert.equal(hashOfText.get(t), h, 'the same text must give the same hash');
    if (textOfHash.has(h)) assert.equal(textOfHash.get(h), t, 'two texts gave one hash');
    hashOfText.set(t, h);
    textOfHash.set(h, t);
    // A copy is the same state.
    assert.equal(stateHash(cloneState(s)), h);
  }
  assert.ok(hashOfText.size > 200, `only ${hashOfText.size} distinct states reached`);
});

test('stateHash follows JSON: key order counts, undefined keys are absent, -0 is 0, NaN is null', () => {
  const base = reachedStates(1)[0];
  const variant = (edit: (s: SimState) => void): SimState => {
    const s = cloneState(base);
    edit(s);
    return s;
  };
  const same = (a: SimState, b: SimState): void => {
    assert.equal(stateText(a), stateText(b));
    assert.equal(stateHash(a), stateHash(b));
  };
  const differ = (a: SimState, b: SimState): void => {
    assert.notEqual(stateText(a), stateText(b));
    assert.notEqual(stateHash(a), stateHash(b));
  };
  same(base, variant((s) => { s.threads[0].waiting = undefined; }));
  same(variant((s) => { s.globals.x = 0; }), variant((s) => { s.globals.x = -0; }));
  same(variant((s) => { s.globals.x = null; }), variant((s) => { s.globals.x = Number.NaN; }));
  differ(variant((s) => { s.globals.x = 1; s.globals.y = 2; }), variant((s) => { s.globals.y = 2; s.globals.x = 1; }));
  differ(variant((s) => { s.globals.x = '1'; }), variant((s) => { s.globals.x = 1; }));
  differ(variant((s) => { s.globals.x = [1, 2]; }), variant((s) => { s.globals.x = [1, [2]]; }));
  differ(variant((s) => { s.globals.x = 2 ** 40; }), variant((s) => { s.globals.x = 2 ** 40 + 1; }));
  differ(variant((s) => { s.globals.x = 0.5; }), variant((s) => { s.globals.x = 0.25; }));
  // A kernel part (hashed once per object) changed in a copy.
  differ(base, variant((s) => { s.pages[0].refcount++; }));
});

test('shared kernel parts: no transition changes the state it started from or shares a part it changed (scenarios and uaccess-livelock fixtures)', async () => {
  SIM_CHECKS.verifySharing = true;
  SIM_CHECKS.sharingMismatches.length = 0;
  try {
    for (const sc of SCENARIOS) for (const arch of ARCHS) runScenario(sc, { arch, maxStates: 5000 });
    let simulated = 0;
    for (const { fn, byName, loopBlocks } of await fixtureLoops()) {
      simulateFunctionIR(fn, byName, {
        loopBlocks, decidingVerdicts: ['livelock'], livelockRequires: [copyFaulted, faultInCalled], maxTotalStates: 6000,
      });
      simulated++;
    }
    assert.ok(simulated >= 5, `only ${simulated} fixture functions simulated`);
    assert.deepEqual(SIM_CHECKS.sharingMismatches, []);
  } finally {
    SIM_CHECKS.verifySharing = false;
  }
});
