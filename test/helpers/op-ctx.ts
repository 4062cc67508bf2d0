// An operation context over a layout's initial state, for tests that call the memory model's
// operations (engine/kernel/ops.ts) directly, outside a simulation run.

import { PROFILES, noProfileUse, type ProfileUse } from '../../engine/kernel/profiles';
import { kernelSwitches } from '../../engine/kernel/versions';
import type { Layout } from '../../engine/kernel/state';
import type { OpCtx } from '../../engine/kernel/ops';
import { buildInitialState, type Scenario } from '../../engine/sim/scenario';
import { fn } from '../../engine/sim/builder';

/** The context of one thread (a trivial function) on `arch`, recording what it reads of the profile. */
export function opCtxFor(layout: Layout, arch: keyof typeof PROFILES, kernel = 'v6.18'): OpCtx & { profileUse: ProfileUse } {
  const sc = { name: 't', threads: [{ fn: 'f' }], functions: [fn('f', [], (b) => b.ret(0))] } as unknown as Scenario;
  const { state } = buildInitialState(sc, layout, {}, PROFILES[arch], kernel);
  return { s: state, tid: 0, profile: PROFILES[arch], sw: kernelSwitches(kernel), fp: new Map(), label: 'L', notes: [], deltas: [], profileUse: noProfileUse() };
}
