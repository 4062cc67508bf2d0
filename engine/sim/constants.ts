// Named constants the interpreter gives values to (the lowering keeps them as `const` nodes).
// Values follow the kernel's headers where it matters to the model (errno numbers, GUP flags).

import type { ArchProfile, ProfileUse } from '../kernel/profiles';

const FIXED: Record<string, number> = {
  NULL: 0, EFAULT: 14, EAGAIN: 11, EINVAL: 22, EINTR: 4, ENOMEM: 12, EIO: 5,
  EPERM: 1, ENOENT: 2, ESRCH: 3, ENXIO: 6, E2BIG: 7, EBADF: 9, EBUSY: 16, EEXIST: 17, ENODEV: 19, ENOTDIR: 20,
  EISDIR: 21, ENFILE: 23, EMFILE: 24, ENOTTY: 25, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EPIPE: 32,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ENODATA: 61, EOVERFLOW: 75,
  EOPNOTSUPP: 95, ENOBUFS: 105, ETIMEDOUT: 110, EALREADY: 114, EINPROGRESS: 115, ECANCELED: 125,
  ERESTARTSYS: 512, ENOIOCTLCMD: 515, EIOCBQUEUED: 529,
  FOLL_WRITE: 0x01, FOLL_GET: 0x04, FOLL_FORCE: 0x10, FOLL_NOWAIT: 0x20, FOLL_NOFAULT: 0x80,
  FOLL_LONGTERM: 0x100, FOLL_PIN: 0x40000, FOLL_TOUCH: 0x02,
  LM_ST_SHARED: 3, LM_ST_EXCLUSIVE: 1, LM_ST_DEFERRED: 2,
  MTE_GRANULE_SIZE: 16, UACCESS_MARGIN: 16,
  // include/linux/iomap.h (6.1): the mapping went stale, a round without progress maps again (iomap_iter()).
  IOMAP_F_STALE: 0x200,
};

/** `use`: where a simulation run records what it read of the profile (engine/kernel/profiles.ts ProfileUse). */
export function constantValue(name: string, profile: ArchProfile, use?: ProfileUse): number | undefined {
  if (name === 'PAGE_SIZE') return profile.pageSize;
  if (name === 'PAGE_SHIFT') return Math.log2(profile.pageSize);
  if (name === 'PAGE_MASK') return -profile.pageSize;
  if (name === 'SUBPAGE_GRANULE') {
    if (use) use.subpageGranule = true;
    return profile.subpageGranule || 1;
  }
  return FIXED[name];
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(FIXED).filter(([k, v]) => /^E[A-Z0-9]+$/.test(k) && v > 0).map(([k, v]) => [v, k]));

/** `-EFAULT` for -14 (an errno the table knows), else the number. */
export function errnoName(v: number): string | undefined {
  if (!Number.isInteger(v) || v >= 0) return undefined;
  const n = ERRNO_NAMES.get(-v);
  return n ? `-${n}` : undefined;
}
