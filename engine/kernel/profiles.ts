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
 * size and granule every run reads (engine/kernel/ops.ts records it in the run's OpCtx).
 */
export interface ProfileUse {
  /**
   * A user copy faulted past its first byte: where it stopped depended on `faultWindow` (and on
   * `zeroProgressBeforeV514`, which applies only there). A copy that faults at its first byte
   * stops there on every profile.
   */
  faultWindow: boolean;
}

/** The fields only a run that used the fault window (ProfileUse.faultWindow) depends on; `name` labels the result. */
const FAULT_WINDOW_FIELDS: ReadonlySet<string> = new Set(['name', 'faultWindow', 'zeroProgressBeforeV514']);

/**
 * Whether `a` and `b` differ in nothing but the fault window: then a run on `a` that did not use
 * it (ProfileUse) makes every decision a run on `b` would, and is that run under `b`'s name
 * (x86_64 and arm64: a third of the runs of the fault-in loop simulation). Every other field is
 * compared, so a field added later keeps two profiles apart until this says otherwise.
 */
export function differOnlyInFaultWindow(a: ArchProfile, b: ArchProfile): boolean {
  for (const k of Object.keys(a) as (keyof ArchProfile)[]) {
    if (!FAULT_WINDOW_FIELDS.has(k) && a[k] !== b[k]) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}
