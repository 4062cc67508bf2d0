import type { ApiEntry } from '../api-schema';

// Allocators that return zeroed memory and the error-pointer helpers (include/linux/slab.h,
// include/linux/vmalloc.h, include/linux/err.h). Data only: the GUP analysis reads these to
// know, on one path, that a field of a freshly zeroed object is still NULL, or that a value
// is an error pointer (engine/analysis/gup/value-facts.ts). Also values the simulator computes
// instead of letting the adversary choose them: min/max (include/linux/minmax.h), the iov_iter
// cursor (include/linux/uio.h) and what iomap_iter() returns (include/linux/iomap.h).

const SLAB = 'include/linux/slab.h';
const VMALLOC = 'include/linux/vmalloc.h';
const ERR = 'include/linux/err.h';
const MINMAX = 'include/linux/minmax.h';
const UIO = 'include/linux/uio.h';

function arith(name: string, signature: string, op: 'min' | 'max' | 'clamp', args: number[], summary: string): ApiEntry {
  return { name, signature, header: MINMAX, summary, source: MINMAX, arith: { op, args } };
}

function cursor(name: string, signature: string, op: 'count' | 'advance' | 'revert', summary: string, extra: Partial<ApiEntry> = {}): ApiEntry {
  return { name, signature, header: UIO, summary, source: 'include/linux/uio.h; lib/iov_iter.c', iterCursor: { op, iterArg: 0, ...(op === 'count' ? {} : { bytesArg: 1 }) }, ...extra };
}

function zalloc(name: string, signature: string, header: string, summary: string): ApiEntry {
  return { name, signature, header, summary, returns: 'The zeroed memory, or NULL.', alloc: { zeroed: true } };
}

export const valueApis: ApiEntry[] = [
  zalloc('kzalloc', 'void *kzalloc(size_t size, gfp_t flags)', SLAB, 'kmalloc() with __GFP_ZERO: the memory comes back zero-filled.'),
  zalloc('kzalloc_node', 'void *kzalloc_node(size_t size, gfp_t flags, int node)', SLAB, 'kzalloc() on a given NUMA node.'),
  zalloc('kcalloc', 'void *kcalloc(size_t n, size_t size, gfp_t flags)', SLAB, 'Zeroed array allocation (overflow-checked n * size).'),
  zalloc('kcalloc_node', 'void *kcalloc_node(size_t n, size_t size, gfp_t flags, int node)', SLAB, 'kcalloc() on a given NUMA node.'),
  zalloc('kvzalloc', 'void *kvzalloc(size_t size, gfp_t flags)', SLAB, 'kzalloc(), falling back to vmalloc: zero-filled either way.'),
  zalloc('kvzalloc_node', 'void *kvzalloc_node(size_t size, gfp_t flags, int node)', SLAB, 'kvzalloc() on a given NUMA node.'),
  zalloc('kvcalloc', 'void *kvcalloc(size_t n, size_t size, gfp_t flags)', SLAB, 'Zeroed array allocation, falling back to vmalloc.'),
  zalloc('kmem_cache_zalloc', 'void *kmem_cache_zalloc(struct kmem_cache *k, gfp_t flags)', SLAB, 'Allocates a zero-filled object from the cache.'),
  zalloc('devm_kzalloc', 'void *devm_kzalloc(struct device *dev, size_t size, gfp_t gfp)', 'include/linux/device.h', 'Device-managed kzalloc().'),
  zalloc('devm_kcalloc', 'void *devm_kcalloc(struct device *dev, size_t n, size_t size, gfp_t flags)', 'include/linux/device.h', 'Device-managed kcalloc().'),
  zalloc('vzalloc', 'void *vzalloc(unsigned long size)', VMALLOC, 'Zero-filled virtually contiguous memory.'),
  zalloc('vzalloc_node', 'void *vzalloc_node(unsigned long size, int node)', VMALLOC, 'vzalloc() on a given NUMA node.'),
  {
    name: 'kmalloc',
    signature: 'void *kmalloc(size_t size, gfp_t flags)',
    header: SLAB,
    summary: 'Allocates memory; zero-filled only when flags include __GFP_ZERO.',
    returns: 'The memory, or NULL.',
    alloc: { zeroFlagArg: 1 },
  },
  {
    name: 'ERR_PTR',
    signature: 'void *ERR_PTR(long error)',
    header: ERR,
    summary: 'Encodes a negative errno as a pointer value.',
    returns: 'An error pointer (IS_ERR() is true of it).',
    errPtr: 'make',
  },
  {
    name: 'ERR_CAST',
    signature: 'void *ERR_CAST(const void *ptr)',
    header: ERR,
    summary: 'Passes an error pointer on under another pointer type.',
    errPtr: 'make',
  },
  {
    name: 'IS_ERR',
    signature: 'bool IS_ERR(const void *ptr)',
    header: ERR,
    summary: 'True when the pointer encodes an errno (ERR_PTR()).',
    errPtr: 'test',
  },
  {
    name: 'IS_ERR_OR_NULL',
    signature: 'bool IS_ERR_OR_NULL(const void *ptr)',
    header: ERR,
    summary: 'True when the pointer is NULL or encodes an errno.',
    errPtr: 'test-or-null',
  },

  // Arithmetic macros: the simulator computes them instead of letting the adversary choose.
  arith('min', 'min(x, y)', 'min', [0, 1], 'The smaller of x and y (type-checked macro).'),
  arith('max', 'max(x, y)', 'max', [0, 1], 'The larger of x and y (type-checked macro).'),
  arith('min_t', 'min_t(type, x, y)', 'min', [1, 2], 'The smaller of x and y, both cast to type.'),
  arith('max_t', 'max_t(type, x, y)', 'max', [1, 2], 'The larger of x and y, both cast to type.'),
  arith('min3', 'min3(x, y, z)', 'min', [0, 1, 2], 'The smallest of three values.'),
  arith('max3', 'max3(x, y, z)', 'max', [0, 1, 2], 'The largest of three values.'),
  arith('clamp', 'clamp(val, lo, hi)', 'clamp', [0, 1, 2], 'val bounded to [lo, hi].'),
  arith('clamp_t', 'clamp_t(type, val, lo, hi)', 'clamp', [1, 2, 3], 'val bounded to [lo, hi], all cast to type.'),
  arith('clamp_val', 'clamp_val(val, lo, hi)', 'clamp', [0, 1, 2], 'val bounded to [lo, hi] in the type of val.'),

  // The iterator's cursor (the copies and fault-ins that move it are in ./mm.ts).
  cursor('iov_iter_count', 'size_t iov_iter_count(const struct iov_iter *i)', 'count', 'Bytes left in the iterator.', { returns: 'The bytes not yet consumed.' }),
  cursor('iov_iter_advance', 'void iov_iter_advance(struct iov_iter *i, size_t bytes)', 'advance', 'Consumes bytes of the iterator without copying them.'),
  cursor('iov_iter_revert', 'void iov_iter_revert(struct iov_iter *i, size_t bytes)', 'revert', 'Gives back the last bytes consumed (after a short copy the caller does not keep).'),

  // The iomap iteration (buffered, direct and DAX I/O, fiemap, seek, swapfile all loop on it).
  {
    name: 'iomap_iter',
    signature: 'int iomap_iter(struct iomap_iter *iter, const struct iomap_ops *ops)',
    header: 'include/linux/iomap.h',
    since: 'v5.15',
    summary: 'Iterates over the filesystem\'s mappings of a file range: the caller runs its loop body while the call returns > 0, and the body stores in iter->processed the bytes it processed, 0, or a negative errno. A round that processed nothing ends the iteration (unless the mapping went stale: IOMAP_F_STALE).',
    returns: '1: a mapping to process; 0: done (the range used up, or the previous round processed nothing); negative: the previous round\'s errno, or ->iomap_begin() / ->iomap_end() failed.',
    source: 'fs/iomap/iter.c iomap_iter() and iomap_iter_advance(), include/linux/iomap.h (Linux 6.1; iter->processed from v5.15 up to v6.15, which renamed it status and has the body advance the iterator)',
    rounds: { iterArg: 0, resultField: 'processed', remap: { field: 'iomap.flags', flag: 'IOMAP_F_STALE' } },
  },
];
