// Kernel-version switches, each cited to its kernel commit below. The default is current
// mainline; older behaviours (a bug window, a pre-fix rule) are selected by version.

export const MAINLINE = 'v6.18';

export interface KernelVersion {
  major: number;
  minor: number;
  /** Release candidate number; 0 for the release itself (v5.17-rc8 < v5.17). */
  rc: number;
  text: string;
}

export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:-rc(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), rc: m[3] ? Number(m[3]) : 0, text: text.startsWith('v') ? text : `v${text}` };
}

/** Negative when a < b. An -rc sorts before the release (rc 0 means released). */
export function compareVersions(a: KernelVersion, b: KernelVersion): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  const ra = a.rc === 0 ? Infinity : a.rc;
  const rb = b.rc === 0 ? Infinity : b.rc;
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

const parsedOnce = new Map<string, KernelVersion | undefined>();

/**
 * Whether `version` is older than `bound` (`since`, `until`, `removed` of the API table); undefined
 * when either does not parse. Parsed once per text: the simulator asks for every call it runs.
 */
export function versionBefore(version: string, bound: string): boolean | undefined {
  const get = (t: string): KernelVersion | undefined => {
    if (!parsedOnce.has(t)) parsedOnce.set(t, parseKernelVersion(t));
    return parsedOnce.get(t);
  };
  const v = get(version);
  const b = get(bound);
  return v && b ? compareVersions(v, b) < 0 : undefined;
}

function atLeast(v: KernelVersion, text: string): boolean {
  return compareVersions(v, parseKernelVersion(text)!) >= 0;
}

export interface KernelSwitches {
  version: string;
  /** fault_in_* result: v5.16+ bytes NOT faulted in; before, 0 or -EFAULT (commit bb523b406c84). */
  faultInReturns: 'bytes-not-faulted' | 'zero-or-efault';
  /** fault_in_subpage_writeable / probe_subpage_writeable exist (v5.19). */
  subpageProbe: boolean;
  /** arm64 copies make at least one byte of progress when byte 0 is accessible (v5.14, 295cf156231c). */
  oneByteProgress: boolean;
  /**
   * fault_in_safe_writeable() reports 0 when a LATER page failed: fe673d3f5bf1 (v5.17-rc8) up to
   * 8c03ebd7cdc0 (~v6.15, UNVERIFIED release) — mm/gup.c.
   */
  faultInSafeWriteableReturnsZero: boolean;
  /** do_wp_page reuse: mapcount (<= v5.8), page_count == 1 (v5.9-v5.18), anon-exclusive (v5.19+); mm/memory.c. */
  wpReuse: 'mapcount' | 'page-count' | 'anon-exclusive';
  /** clear_refs takes mmap_write_lock since v5.11-rc4 (29a951dfb3c3) and skips pinned PTEs (9348b73c2e1b). D.2. */
  clearRefsSkipsPinned: boolean;
  /** do_wp_page flushes a pending TLB flush on uffd-wp VMAs before COW (Nadav Amit, ~v5.12). D.2. */
  wpFlushesPendingUffd: boolean;
  /** vm_start may move under mmap_read_lock (stack expansion) before v6.5 (mm/mmap.c). */
  stackExpansionUnderReadLock: boolean;
  /** pin_user_pages of anon memory requires exclusivity (v5.19, mm/gup.c). */
  pinRequiresExclusive: boolean;
  /** GUP release names: put_user_page(s) v5.3-v5.5, unpin_user_page(s) v5.6+. */
  gupReleaseNames: 'put_user_page' | 'unpin_user_page';
}

export function kernelSwitches(text: string = MAINLINE): KernelSwitches {
  const v = parseKernelVersion(text) ?? parseKernelVersion(MAINLINE)!;
  return {
    version: v.text,
    faultInReturns: atLeast(v, 'v5.16-rc1') ? 'bytes-not-faulted' : 'zero-or-efault',
    subpageProbe: atLeast(v, 'v5.19-rc1'),
    oneByteProgress: atLeast(v, 'v5.14-rc2'),
    faultInSafeWriteableReturnsZero: atLeast(v, 'v5.17-rc8') && !atLeast(v, 'v6.15-rc1'),
    wpReuse: atLeast(v, 'v5.19-rc1') ? 'anon-exclusive' : atLeast(v, 'v5.9-rc4') ? 'page-count' : 'mapcount',
    clearRefsSkipsPinned: atLeast(v, 'v5.11-rc4'),
    wpFlushesPendingUffd: atLeast(v, 'v5.12-rc1'),
    stackExpansionUnderReadLock: !atLeast(v, 'v6.5-rc1'),
    pinRequiresExclusive: atLeast(v, 'v5.19-rc1'),
    gupReleaseNames: atLeast(v, 'v5.6-rc1') ? 'unpin_user_page' : 'put_user_page',
  };
}
