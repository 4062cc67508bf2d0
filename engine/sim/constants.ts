// Named constants the interpreter gives values to (the lowering keeps them as `const` nodes).
// Values follow the kernel's headers where it matters to the model (errno numbers, GUP flags).

import type { ArchProfile } from '../kernel/profiles';

const FIXED: Record<string, number> = {
  NULL: 0, EFAULT: 14, EAGAIN: 11, EINVAL: 22, EINTR: 4, ENOMEM: 12, EIO: 5,
  FOLL_WRITE: 0x01, FOLL_GET: 0x04, FOLL_FORCE: 0x10, FOLL_NOWAIT: 0x20, FOLL_NOFAULT: 0x80,
  FOLL_LONGTERM: 0x100, FOLL_PIN: 0x40000, FOLL_TOUCH: 0x02,
  LM_ST_SHARED: 3, LM_ST_EXCLUSIVE: 1, LM_ST_DEFERRED: 2,
  MTE_GRANULE_SIZE: 16, UACCESS_MARGIN: 16,
};

export function constantValue(name: string, profile: ArchProfile): number | undefined {
  if (name === 'PAGE_SIZE') return profile.pageSize;
  if (name === 'PAGE_SHIFT') return Math.log2(profile.pageSize);
  if (name === 'PAGE_MASK') return -profile.pageSize;
  if (name === 'SUBPAGE_GRANULE') return profile.subpageGranule || 1;
  return FIXED[name];
}
