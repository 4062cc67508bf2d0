// The mode a lock call takes its lock in. Most entries of the API table have one fixed mode
// (mmap_read_lock: read); a few take it from an argument (gfs2_glock_nq_init(gl, state, ...):
// LM_ST_EXCLUSIVE or a shared state), which the table states as `exclusiveWhen`. The rules'
// lock sets (locksets.ts) and the simulator (sim/interp.ts) both ask here, so a message and its
// trace say the same mode.

import type { Expr } from '../ir';
import type { LockEffect } from '../kernel/api/mm-schema';

export function lockCallMode(l: LockEffect, args: readonly Expr[]): LockEffect['mode'] {
  const w = l.exclusiveWhen;
  if (w) {
    const a = args[w.arg];
    // An upper-case name is a constant to the lowering and the model builder, a variable otherwise.
    if (a && (a.kind === 'var' || a.kind === 'const') && w.names.includes(a.name)) return 'exclusive';
  }
  return l.mode;
}
