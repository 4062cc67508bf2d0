// Architecture profiles as data (ARCHITECTURE.md "Architecture profiles are data"; the table at
// the kernel sources cited per field). The simulator reads nothing else about an architecture.

export interface ArchProfile {
  name: 'x86_64' | 'arm64' | 'arm64-mte';
  pageSize: number;
  /**
   * How far before the faulting byte a failing user copy may stop (arch/arm64/lib/copy_to_user.S:
   * arm64 copy_to_user up to 15 bytes, copy_from_user up to 63; x86 is byte-exact).
   */
  faultWindow: { toUser: number; fromUser: number };
  /** Sub-page fault granule: MTE sync mode faults per 16-byte granule
   * (Documentation/arm64/memory-tagging-extension.rst); 0 = none. */
  subpageGranule: number;
  /** Kernel-mapping accesses of GUP'd pages are tag-checked? (match-all tag in the kernel mapping: never.) */
  kernelMappingTagChecked: boolean;
  /** arm64 copies are subject to the v5.14 one-byte-progress fix (295cf156231c). */
  zeroProgressBeforeV514: boolean;
}

export const PROFILES: Record<ArchProfile['name'], ArchProfile> = {
  x86_64: {
    name: 'x86_64', pageSize: 4096, faultWindow: { toUser: 0, fromUser: 0 }, subpageGranule: 0,
    kernelMappingTagChecked: false, zeroProgressBeforeV514: false,
  },
  arm64: {
    name: 'arm64', pageSize: 4096, faultWindow: { toUser: 15, fromUser: 63 }, subpageGranule: 0,
    kernelMappingTagChecked: false, zeroProgressBeforeV514: true,
  },
  'arm64-mte': {
    name: 'arm64-mte', pageSize: 4096, faultWindow: { toUser: 15, fromUser: 63 }, subpageGranule: 16,
    kernelMappingTagChecked: false, zeroProgressBeforeV514: true,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ArchProfile['name'][];

export function getProfile(name: string): ArchProfile | undefined {
  return (PROFILES as Record<string, ArchProfile>)[name];
}

/**
 * What a simulation run read of its profile that two profiles may disagree on, beyond the page
 * size every run reads (engine/kernel/ops.ts and engine/sim/constants.ts record it where the run
 * reads it). A profile field a run did not use cannot have changed its course.
 */
export interface ProfileUse {
  /**
   * A user copy faulted past its first byte: where it stopped depended on `faultWindow` (and on
   * `zeroProgressBeforeV514`, which applies only there). A copy that faults at its first byte
   * stops there on every profile.
   */
  faultWindow: boolean;
  /**
   * `subpageGranule` decided something: a page with tag-mismatched granules was accessed, a
   * fault-in's sub-page probe would run, or the code read SUBPAGE_GRANULE.
   */
  subpageGranule: boolean;
}

export function noProfileUse(): ProfileUse {
  return { faultWindow: false, subpageGranule: false };
}

/** The profile fields behind each kind of use; every other field but `name` (the result's label) is read by every run. */
const USED_ONLY_AS_RECORDED: Record<keyof ProfileUse, readonly (keyof ArchProfile)[]> = {
  faultWindow: ['faultWindow', 'zeroProgressBeforeV514'],
  subpageGranule: ['subpageGranule'],
};

/**
 * Whether a run on profile `ran` that used `use` of it is also the run on `other`: the two
 * profiles agree on every field the run read (the fields behind each use it made, and every field
 * not listed above). Then the run on `other` makes every decision this one made, state for state
 * (x86_64 answers for arm64 when no copy faulted past its first byte; either, for arm64-mte on a
 * layout with no tag mismatch, when no sub-page probe ran). A field added later is compared
 * until it is listed here.
 */
export function runAnswersFor(use: ProfileUse, ran: ArchProfile, other: ArchProfile): boolean {
  const unread = new Set<string>(['name']);
  for (const k of Object.keys(USED_ONLY_AS_RECORDED) as (keyof ProfileUse)[]) {
    if (!use[k]) for (const f of USED_ONLY_AS_RECORDED[k]) unread.add(f);
  }
  const keys = Object.keys(ran) as (keyof ArchProfile)[];
  if (keys.length !== Object.keys(other).length) return false;
  return keys.every((k) => unread.has(k) || JSON.stringify(ran[k]) === JSON.stringify(other[k]));
}
