// The shape of one API-table entry. The table (engine/kernel/api/*.ts, merged in
// engine/kernel/api-table.ts) is the single place where a kernel function's behaviour is
// written down (ARCHITECTURE.md): rules, hovers and the simulator read it; nobody else
// hard-codes kernel API names. Each concern is a facet; an entry carries only the facets
// that apply to it. Facet types live next to the data that uses them.

import type { RefEffect } from './api/refs-schema';
import type { AllocFacet, ArithFacet, ErrPtrFacet, IterCursorFacet, RoundsFacet } from './api/values-schema';
import type { UaccessEffect, FaultInEffect, LockEffect, PagefaultEffect, PagefaultHandle, MemEffect } from './api/mm-schema';
import type { FaultLockFacet, FaultLockWindowFacet, FaultsFacet, IoHoldFacet, KmappingFacet, KunmapFacet, PageWalkFacet, PteValueFacet, RawDirtyFacet, VmaWriteFacet, WriteBitTestFacet, WrprotectFacet } from './api/seed-schema';

export interface ApiEntry {
  name: string;
  /** C prototype as of the version in `since` (or current mainline). */
  signature: string;
  /** Header that declares it, e.g. `include/linux/mm.h`. */
  header: string;
  /** First kernel version that has it, e.g. `v5.6`. */
  since?: string;
  /** First kernel version that no longer has it. */
  removed?: string;
  /** One sentence: what the call does, in the kernel's words. */
  summary: string;
  /** What the return value means. */
  returns?: string;
  /** Public citation of where the facts come from: kernel files / Documentation pages / commits
   * and, for facts from a mailing-list thread, its subject, date and lore link. */
  source?: string;
  refs?: RefEffect;
  uaccess?: UaccessEffect;
  faultIn?: FaultInEffect;
  lock?: LockEffect;
  pagefault?: PagefaultEffect;
  /** For map/unmap calls that disable/enable page faults: where the mapping (handle) goes. */
  pagefaultHandle?: PagefaultHandle;
  mem?: MemEffect;
  /** Allocators: whether the memory comes back zeroed (engine/kernel/api/values-schema.ts). */
  alloc?: AllocFacet;
  /** Error-pointer makers and tests (include/linux/err.h). */
  errPtr?: ErrPtrFacet;
  /** min/max/clamp and their typed forms, computed by the simulator (include/linux/minmax.h). */
  arith?: ArithFacet;
  /** iov_iter_count/advance/revert: the iterator's cursor in the simulator (include/linux/uio.h). */
  iterCursor?: IterCursorFacet;
  /** iomap_iter(): a round only after a round with progress, as the caller reports it (fs/iomap/iter.c). */
  rounds?: RoundsFacet;
  /** Seed-rule facets (engine/kernel/api/seed-schema.ts). */
  faultLock?: FaultLockFacet;
  faultLockWindow?: FaultLockWindowFacet;
  faults?: FaultsFacet;
  wrprotect?: WrprotectFacet;
  pageWalk?: PageWalkFacet;
  kmapping?: KmappingFacet;
  kunmap?: KunmapFacet;
  vmaWrite?: VmaWriteFacet;
  pteValue?: PteValueFacet;
  rawDirty?: RawDirtyFacet;
  ioHold?: IoHoldFacet;
  writeBitTest?: WriteBitTestFacet;
}

/** Only facets, for an entry another family wrote (engine/kernel/api-table.ts registerFacets). */
export type FacetEntry = { name: string } & Partial<Pick<ApiEntry, 'faultLock' | 'faultLockWindow' | 'faults' | 'wrprotect' | 'pageWalk' | 'kmapping' | 'kunmap' | 'vmaWrite' | 'pteValue' | 'rawDirty' | 'lock' | 'ioHold'>>;
