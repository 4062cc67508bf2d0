import type { ApiEntry } from '../api-schema';

// GUP acquire / release / hand-off family (mm/gup.c; Documentation/core-api/pin_user_pages.rst).
// Data only: the GUP analysis (engine/analysis/gup-refs.ts), the rules and the hovers read these
// entries.
//
// Return conventions (mm/gup.c): rule R — nr_pages == 0 -> 0, none taken -> -errno,
// otherwise the number taken, which may be less than nr_pages; rule R' (the *_fast variants) —
// may return the k pages the lockless walk took even if the slow path failed.

const R = 'Number of pages taken (may be fewer than nr_pages); -errno only when none were taken; 0 when nr_pages is 0. Release exactly the returned count.';
const RFAST = "Number of pages taken (may be fewer than nr_pages: the lockless walk's pages are returned even if the slow path fails); -errno only when none were taken.";
const RONLY = 'Number of pages taken, 0..nr_pages; never negative (0 on failure). IRQ-safe, no slow path.';
const RBYTES = 'Bytes covered by the pages taken (from *start within the first page), or -errno when none were taken. The page count is DIV_ROUND_UP(start + bytes, PAGE_SIZE).';

export const gupApis: ApiEntry[] = [
  // ---- acquire: FOLL_GET family (put_page to release) -----------------------------------
  {
    name: 'get_user_pages',
    signature: 'long get_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h',
    summary: 'Takes a reference (FOLL_GET) on each user page of [start, start + nr_pages pages) of current->mm; the caller holds mmap_lock. Before v6.5 a fifth `struct vm_area_struct **vmas` argument followed pages.',
    returns: R,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c (v6.5 removed vmas); thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: {
      op: 'acquire', kind: 'flags', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-or-errno',
      byArity: { 4: { pagesArg: 3, countArg: 1, flagsArg: 2 }, 5: { pagesArg: 3, countArg: 1, flagsArg: 2 }, 8: { pagesArg: 6, countArg: 3 } },
    },
  },
  {
    name: 'get_user_pages_remote',
    signature: 'long get_user_pages_remote(struct mm_struct *mm, unsigned long start, unsigned long nr_pages, unsigned int gup_flags, struct page **pages, int *locked)',
    header: 'include/linux/mm.h',
    summary: 'Like get_user_pages() on another mm; the caller holds its mmap_lock, which may be dropped when `locked` is given. Before v6.5: (mm, start, nr_pages, gup_flags, pages, vmas, locked).',
    returns: R,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: {
      op: 'acquire', kind: 'flags', pagesArg: 4, countArg: 2, flagsArg: 3, returns: 'count-or-errno',
      byArity: { 6: { pagesArg: 4, countArg: 2, flagsArg: 3 }, 7: { pagesArg: 4, countArg: 2, flagsArg: 3 }, 8: { pagesArg: 5, countArg: 3, flagsArg: 4 } },
    },
  },
  {
    name: 'get_user_pages_unlocked',
    signature: 'long get_user_pages_unlocked(unsigned long start, unsigned long nr_pages, struct page **pages, unsigned int gup_flags)',
    header: 'include/linux/mm.h',
    summary: 'get_user_pages() that takes and drops mmap_lock itself; rejects FOLL_LONGTERM.',
    returns: R,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'flags', pagesArg: 2, countArg: 1, flagsArg: 3, returns: 'count-or-errno' },
  },
  {
    name: 'get_user_pages_fast',
    signature: 'int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h',
    summary: 'Lockless page-table walk first, then the slow path under mmap_lock; forces FOLL_GET.',
    returns: RFAST,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c (fast variants return the lockless walk\'s pages)',
    refs: { op: 'acquire', kind: 'flags', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-or-errno' },
  },
  {
    name: 'get_user_pages_fast_only',
    signature: 'int get_user_pages_fast_only(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h',
    since: 'v5.9',
    summary: 'Lockless walk only (no fallback), usable from IRQ context; FOLL_GET.',
    returns: RONLY,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'flags', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-nonneg' },
  },
  {
    name: '__get_user_pages_fast',
    signature: 'int __get_user_pages_fast(unsigned long start, int nr_pages, int write, struct page **pages)',
    header: 'include/linux/mm.h',
    removed: 'v5.10',
    summary: 'The pre-v5.10 name of get_user_pages_fast_only(): lockless walk only, FOLL_GET (vhost\'s metadata prefetch used it; thread “vhost: access vq metadata through kernel virtual address”, 2019-03-07). Removal version UNVERIFIED.',
    returns: RONLY,
    source: 'drivers/vhost/vhost.c (v5.3-rc1 kernel-address metadata access, reverted); thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22)',
    refs: { op: 'acquire', kind: 'get', pagesArg: 3, countArg: 1, writeArg: 2, returns: 'count-nonneg' },
  },
  // ---- acquire: FOLL_PIN family (unpin_user_page* to release) ---------------------------
  {
    name: 'pin_user_pages',
    signature: 'long pin_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'Pins (FOLL_PIN) each user page of current->mm; the caller holds mmap_lock. Before v6.5 a fifth `vmas` argument followed pages.',
    returns: R,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: {
      op: 'acquire', kind: 'pin', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-or-errno',
      byArity: { 4: { pagesArg: 3, countArg: 1, flagsArg: 2 }, 5: { pagesArg: 3, countArg: 1, flagsArg: 2 } },
    },
  },
  {
    name: 'pin_user_pages_remote',
    signature: 'long pin_user_pages_remote(struct mm_struct *mm, unsigned long start, unsigned long nr_pages, unsigned int gup_flags, struct page **pages, int *locked)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'pin_user_pages() on another mm. Before v6.5: (mm, start, nr_pages, gup_flags, pages, vmas, locked).',
    returns: R,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: {
      op: 'acquire', kind: 'pin', pagesArg: 4, countArg: 2, flagsArg: 3, returns: 'count-or-errno',
      byArity: { 6: { pagesArg: 4, countArg: 2, flagsArg: 3 }, 7: { pagesArg: 4, countArg: 2, flagsArg: 3 }, 8: { pagesArg: 5, countArg: 3, flagsArg: 4 } },
    },
  },
  {
    name: 'pin_user_pages_unlocked',
    signature: 'long pin_user_pages_unlocked(unsigned long start, unsigned long nr_pages, struct page **pages, unsigned int gup_flags)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'pin_user_pages() that takes and drops mmap_lock itself.',
    returns: R,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'pin', pagesArg: 2, countArg: 1, flagsArg: 3, returns: 'count-or-errno' },
  },
  {
    name: 'pin_user_pages_fast',
    signature: 'int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'Lockless walk first, then the slow path; FOLL_PIN. Abandons the fast path if fork write-protects concurrently.',
    returns: RFAST,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c (fast variants return the lockless walk\'s pages)',
    refs: { op: 'acquire', kind: 'pin', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-or-errno' },
  },
  {
    name: 'pin_user_pages_fast_only',
    signature: 'int pin_user_pages_fast_only(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages)',
    header: 'include/linux/mm.h',
    since: 'v5.9',
    summary: 'Lockless walk only, FOLL_PIN; IRQ-safe.',
    returns: RONLY,
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'pin', pagesArg: 3, countArg: 1, flagsArg: 2, returns: 'count-nonneg' },
  },
  // ---- acquire: iov_iter page extraction (lib/iov_iter.c) ----------------------------------
  {
    name: 'iov_iter_get_pages',
    signature: 'ssize_t iov_iter_get_pages(struct iov_iter *i, struct page **pages, size_t maxsize, unsigned maxpages, size_t *start)',
    header: 'include/linux/uio.h',
    removed: 'v6.1',
    summary: 'Takes a reference (FOLL_GET via get_user_pages_fast for user-backed iterators) on up to maxpages pages of the iterator; does NOT advance it. Removal version UNVERIFIED.',
    returns: RBYTES,
    source: 'lib/iov_iter.c; Documentation/core-api/pin_user_pages.rst; thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'acquire', kind: 'get', pagesArg: 1, countArg: 3, returns: 'bytes-or-errno' },
  },
  {
    name: 'iov_iter_get_pages_alloc',
    signature: 'ssize_t iov_iter_get_pages_alloc(struct iov_iter *i, struct page ***pages, size_t maxsize, size_t *start)',
    header: 'include/linux/uio.h',
    removed: 'v6.1',
    summary: 'Allocates the page array (kvfree it) and takes a reference on each page; does NOT advance the iterator. Removal version UNVERIFIED.',
    returns: RBYTES,
    source: 'lib/iov_iter.c; Documentation/core-api/pin_user_pages.rst; thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'acquire', kind: 'get', pagesArg: 1, allocatesArray: true, returns: 'bytes-or-errno' },
  },
  {
    name: 'iov_iter_get_pages2',
    signature: 'ssize_t iov_iter_get_pages2(struct iov_iter *i, struct page **pages, size_t maxsize, unsigned maxpages, size_t *start)',
    header: 'include/linux/uio.h',
    since: 'v6.0',
    summary: 'iov_iter_get_pages() that advances the iterator; bvec pages get get_page().',
    returns: RBYTES,
    source: 'lib/iov_iter.c; Documentation/core-api/pin_user_pages.rst',
    refs: { op: 'acquire', kind: 'get', pagesArg: 1, countArg: 3, returns: 'bytes-or-errno' },
  },
  {
    name: 'iov_iter_get_pages_alloc2',
    signature: 'ssize_t iov_iter_get_pages_alloc2(struct iov_iter *i, struct page ***pages, size_t maxsize, size_t *start)',
    header: 'include/linux/uio.h',
    since: 'v6.0',
    summary: 'iov_iter_get_pages_alloc() that advances the iterator.',
    returns: RBYTES,
    source: 'lib/iov_iter.c; Documentation/core-api/pin_user_pages.rst',
    refs: { op: 'acquire', kind: 'get', pagesArg: 1, allocatesArray: true, returns: 'bytes-or-errno' },
  },
  {
    name: 'iov_iter_extract_pages',
    signature: 'ssize_t iov_iter_extract_pages(struct iov_iter *i, struct page ***pages, size_t maxsize, unsigned int maxpages, iov_iter_extraction_t extraction_flags, size_t *offset0)',
    header: 'include/linux/uio.h',
    since: 'v6.3',
    summary: 'Extracts pages from the iterator and advances it: ITER_IOVEC/ITER_UBUF pages are pinned (FOLL_PIN, no refs); KVEC/BVEC/XARRAY pages are merely listed. iov_iter_extract_will_pin() tells which.',
    returns: RBYTES,
    source: 'lib/iov_iter.c; Documentation/core-api/pin_user_pages.rst',
    refs: {
      op: 'acquire', kind: 'pin', pagesArg: 1, allocatesArray: true, countArg: 3, returns: 'bytes-or-errno',
      mayTakeNothing: 'only user-backed iterators are pinned; kernel-backed pages are merely listed (iov_iter_extract_will_pin())',
    },
  },
  // ---- acquire: mm/gup.c internals (code that implements the entries above) ------------
  {
    name: '__get_user_pages_locked',
    signature: 'static long __get_user_pages_locked(struct mm_struct *mm, unsigned long start, unsigned long nr_pages, struct page **pages, struct vm_area_struct **vmas, int *locked, unsigned int flags)',
    header: 'mm/gup.c',
    summary: 'mm/gup.c internal behind get_user_pages*() and pin_user_pages*(): takes FOLL_GET or FOLL_PIN references as the gup_flags it is passed say.',
    returns: R,
    source: 'mm/gup.c (v5.9 to v6.4 prototype)',
    refs: { op: 'acquire', kind: 'flags', pagesArg: 3, countArg: 2, flagsArg: 6, returns: 'count-or-errno', kindFromCaller: true },
  },
  {
    name: '__get_user_pages',
    signature: 'static long __get_user_pages(struct mm_struct *mm, unsigned long start, unsigned long nr_pages, unsigned int gup_flags, struct page **pages, struct vm_area_struct **vmas, int *locked)',
    header: 'mm/gup.c',
    summary: 'mm/gup.c page-table walk under mmap_lock: takes FOLL_GET or FOLL_PIN references as gup_flags say.',
    returns: R,
    source: 'mm/gup.c (v5.x to v6.4 prototype)',
    refs: { op: 'acquire', kind: 'flags', pagesArg: 4, countArg: 2, flagsArg: 3, returns: 'count-or-errno', kindFromCaller: true },
  },
  // ---- acquire: single page references -------------------------------------------------
  {
    name: 'get_page',
    signature: 'void get_page(struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'Takes one plain reference on the page (its folio).',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'get', pagesArg: 0, single: true, returns: 'void' },
  },
  {
    name: 'try_get_page',
    signature: 'bool try_get_page(struct page *page)',
    header: 'include/linux/mm.h',
    since: 'v5.1',
    summary: 'Takes one plain reference unless the refcount looks overflowed.',
    returns: 'true if the reference was taken, false if not (nothing to release).',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'get', pagesArg: 0, single: true, returns: 'bool' },
  },
  {
    name: 'folio_get',
    signature: 'void folio_get(struct folio *folio)',
    header: 'include/linux/mm.h',
    since: 'v5.16',
    summary: 'Takes one plain reference on the folio.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'get', pagesArg: 0, single: true, returns: 'void' },
  },
  {
    name: 'try_grab_page',
    signature: 'bool try_grab_page(struct page *page, unsigned int flags)',
    header: 'include/linux/mm.h',
    since: 'v5.7',
    summary: 'GUP-internal: takes a FOLL_GET reference or a FOLL_PIN pin on one page depending on `flags`. Later kernels return 0 / -errno instead of bool (version UNVERIFIED).',
    returns: 'true if the reference or pin was taken.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'acquire', kind: 'flags', pagesArg: 0, single: true, flagsArg: 1, returns: 'bool' },
  },
  // ---- release ------------------------------------------------------------------------
  {
    name: 'put_page',
    signature: 'void put_page(struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'Drops one plain reference (FOLL_GET). On a pinned small page it drops 1 of the 1024 pin bias: the page stays "maybe DMA pinned" and is never freed.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'get', pagesArg: 0, single: true },
  },
  {
    name: 'folio_put',
    signature: 'void folio_put(struct folio *folio)',
    header: 'include/linux/mm.h',
    since: 'v5.16',
    summary: 'Drops one plain reference on the folio.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'get', pagesArg: 0, single: true },
  },
  {
    name: 'release_pages',
    signature: 'void release_pages(struct page **pages, int nr)',
    header: 'include/linux/mm.h',
    summary: 'put_page() on each of the first nr entries of the array, batched.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'get', pagesArg: 0, countArg: 1 },
  },
  {
    name: 'put_user_page',
    signature: 'void put_user_page(struct page *page)',
    header: 'include/linux/mm.h',
    since: 'v5.3',
    removed: 'v5.6',
    summary: 'Release for a page taken by get_user_pages*() (proposed in the thread “Keep track of GUPed pages in fs and block”, 2019-04-16); a placeholder for put_page() until pin tracking, renamed unpin_user_page() in v5.6. Introduction version UNVERIFIED.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c; thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'release', kind: 'either', pagesArg: 0, single: true },
  },
  {
    name: 'put_user_pages',
    signature: 'void put_user_pages(struct page **pages, unsigned long npages)',
    header: 'include/linux/mm.h',
    since: 'v5.3',
    removed: 'v5.6',
    summary: 'put_user_page() on each of the first npages entries; renamed unpin_user_pages() in v5.6.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c; thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'release', kind: 'either', pagesArg: 0, countArg: 1 },
  },
  {
    name: 'put_user_pages_dirty_lock',
    signature: 'void put_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool make_dirty)',
    header: 'include/linux/mm.h',
    since: 'v5.3',
    removed: 'v5.6',
    summary: 'set_page_dirty_lock() (if make_dirty) then put_user_page() on each page; renamed unpin_user_pages_dirty_lock() in v5.6.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'either', pagesArg: 0, countArg: 1, dirties: 'by-flag' },
  },
  {
    name: 'unpin_user_page',
    signature: 'void unpin_user_page(struct page *page)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'Drops one FOLL_PIN pin (GUP_PIN_COUNTING_BIAS, 1024, on a small page). On a FOLL_GET page it subtracts 1024 from a refcount that only got +1: underflow / premature free.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, single: true },
  },
  {
    name: 'unpin_user_pages',
    signature: 'void unpin_user_pages(struct page **pages, unsigned long npages)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'unpin_user_page() on each of the first npages entries; WARNs and does nothing if npages is an IS_ERR_VALUE ("gup/pup returned a hard -ERRNO error to the caller, who erroneously passed it here").',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, countArg: 1 },
  },
  {
    name: 'unpin_user_pages_dirty_lock',
    signature: 'void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool make_dirty)',
    header: 'include/linux/mm.h',
    since: 'v5.6',
    summary: 'If make_dirty, marks each page dirty under the page lock (set_page_dirty_lock), then unpins it.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c; mm/page-writeback.c',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, countArg: 1, dirties: 'by-flag' },
  },
  {
    name: 'unpin_user_page_range_dirty_lock',
    signature: 'void unpin_user_page_range_dirty_lock(struct page *page, unsigned long npages, bool make_dirty)',
    header: 'include/linux/mm.h',
    since: 'v5.12',
    summary: 'Unpins npages physically contiguous pages starting at page, dirtying them under the page lock if make_dirty. Since-version UNVERIFIED.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, countArg: 1, dirties: 'by-flag' },
  },
  {
    name: 'unpin_folio',
    signature: 'void unpin_folio(struct folio *folio)',
    header: 'include/linux/mm.h',
    since: 'v6.11',
    summary: 'Drops one FOLL_PIN pin on the folio. Since-version UNVERIFIED.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, single: true },
  },
  {
    name: 'unpin_folios',
    signature: 'void unpin_folios(struct folio **folios, unsigned long nfolios)',
    header: 'include/linux/mm.h',
    since: 'v6.11',
    summary: 'unpin_folio() on each of the first nfolios entries. Since-version UNVERIFIED.',
    source: 'Documentation/core-api/pin_user_pages.rst; mm/gup.c',
    refs: { op: 'release', kind: 'pin', pagesArg: 0, countArg: 1 },
  },
  {
    name: 'iov_iter_put_pages',
    signature: 'void iov_iter_put_pages(struct page **pages, size_t npages)',
    header: 'include/linux/uio.h',
    summary: 'Historic: the release proposed in the thread “Keep track of GUPed pages in fs and block” (2019-04-16) to balance every iov_iter_get_pages*(); it drops the references those took. Never in mainline in this form; signature assumed.',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22), Boaz Harrosh: "for every iov_iter_get_pages() you have an iov_iter_put_pages()"',
    refs: { op: 'release', kind: 'get', pagesArg: 0, countArg: 1 },
  },
  {
    name: 'bio_release_pages',
    signature: 'void bio_release_pages(struct bio *bio, bool mark_dirty)',
    header: 'include/linux/bio.h',
    summary: 'Releases the pages of a bio the way they were taken: unpin if BIO_PAGE_PINNED, put_page if BIO_PAGE_REFFED (v6.4/v6.5 era; before, put_page).',
    source: 'lib/iov_iter.c; Documentation/core-api/pin_user_pages.rst',
    refs: { op: 'release', kind: 'either', pagesArg: 0, container: true },
  },
  // ---- hand-off sinks: the callee owns the reference afterwards --------------------------
  {
    name: 'bio_add_page',
    signature: 'int bio_add_page(struct bio *bio, struct page *page, unsigned int len, unsigned int offset)',
    header: 'include/linux/bio.h',
    summary: 'Adds the page to the bio; its reference is released at completion (bio_release_pages / the bi_end_io handler; thread “Keep track of GUPed pages in fs and block”, 2019-04-16).',
    returns: 'len if the page was added, 0 if not (the caller still owns the reference).',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'handoff', pagesArg: 1, failure: 'returns-zero' },
  },
  {
    name: 'bio_add_hw_page',
    signature: 'int bio_add_hw_page(struct request_queue *q, struct bio *bio, struct page *page, unsigned int len, unsigned int offset, unsigned int max_sectors, bool *same_page)',
    header: 'block/blk.h',
    summary: 'Adds the page to a passthrough bio within hardware limits; completion releases it.',
    returns: 'len if added, 0 if not.',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'handoff', pagesArg: 2, failure: 'returns-zero' },
  },
  {
    name: 'bio_add_pc_page',
    signature: 'int bio_add_pc_page(struct request_queue *q, struct bio *bio, struct page *page, unsigned int len, unsigned int offset)',
    header: 'include/linux/bio.h',
    summary: 'Adds the page to a passthrough bio; completion releases it.',
    returns: 'len if added, 0 if not.',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'handoff', pagesArg: 2, failure: 'returns-zero' },
  },
  {
    name: '__bio_add_page',
    signature: 'void __bio_add_page(struct bio *bio, struct page *page, unsigned int len, unsigned int off)',
    header: 'include/linux/bio.h',
    summary: 'Adds the page to a bio known to have room; never fails.',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'handoff', pagesArg: 1, failure: 'never' },
  },
  {
    name: 'putback_lru_page',
    signature: 'void putback_lru_page(struct page *page)',
    header: 'mm/internal.h',
    summary: 'Puts an isolated page back on its LRU list and drops the reference the isolation held (mm/vmscan.c): it consumes one reference. Never fails.',
    source: 'mm/vmscan.c putback_lru_page() (Linux 6.1; later kernels have folio_putback_lru())',
    refs: { op: 'handoff', pagesArg: 0, failure: 'never' },
  },
  {
    name: 'sg_set_page',
    signature: 'void sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len, unsigned int offset)',
    header: 'include/linux/scatterlist.h',
    summary: 'Points the scatterlist entry at the page; whoever tears down the table releases it. Never fails.',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22)',
    refs: { op: 'handoff', pagesArg: 1, failure: 'never' },
  },
  {
    name: 'skb_fill_page_desc',
    signature: 'void skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size)',
    header: 'include/linux/skbuff.h',
    summary: 'Attaches the page as fragment i of the skb, which drops the reference when freed. Never fails.',
    source: 'thread “Keep track of GUPed pages in fs and block” (2019-04-16, https://lore.kernel.org/all/?q=s%3A%22Keep%20track%20of%20GUPed%20pages%20in%20fs%20and%20block%22), networking users',
    refs: { op: 'handoff', pagesArg: 2, failure: 'never' },
  },
  // ---- known non-owning users: no refs facet, so the caller keeps the reference ----------
  {
    name: 'kmap',
    signature: 'void *kmap(struct page *page)',
    header: 'include/linux/highmem.h',
    summary: 'Maps the page into kernel address space; takes no reference.',
    source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22)',
  },
  {
    name: 'kunmap',
    signature: 'void kunmap(struct page *page)',
    header: 'include/linux/highmem.h',
    summary: 'Undoes kmap(); takes or drops no reference.',
    source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22)',
  },
  {
    name: 'kmap_local_page',
    signature: 'void *kmap_local_page(struct page *page)',
    header: 'include/linux/highmem.h',
    since: 'v5.11',
    summary: 'Short-lived, CPU-local mapping of the page; takes no reference.',
    source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22)',
  },
  {
    name: 'kmap_atomic',
    signature: 'void *kmap_atomic(struct page *page)',
    header: 'include/linux/highmem.h',
    summary: 'Atomic kernel mapping of the page (disables page faults); takes no reference.',
    source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22)',
  },
  {
    name: 'page_address',
    signature: 'void *page_address(const struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'Kernel direct-map address of a lowmem page; takes no reference.',
    source: 'thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22), vhost used page_address of GUP pages',
  },
  {
    name: 'flush_dcache_page',
    signature: 'void flush_dcache_page(struct page *page)',
    header: 'include/linux/highmem.h',
    summary: 'Makes kernel writes to the page visible to user mappings on aliasing caches; takes no reference.',
    source: 'drivers/vhost/vhost.c (v5.3-rc1 kernel-address metadata access, reverted)',
  },
  {
    name: 'set_page_dirty',
    signature: 'bool set_page_dirty(struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'Marks the page dirty through its mapping; racy without the page lock on file pages (thread “vhost: access vq metadata through kernel virtual address”, 2019-03-07). Takes no reference.',
    source: 'Documentation/core-api/pin_user_pages.rst (dirtying pinned file pages); mm/page-writeback.c',
  },
  {
    name: 'set_page_dirty_lock',
    signature: 'int set_page_dirty_lock(struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'lock_page(); set_page_dirty(); unlock_page(). Sleeps. Takes no reference.',
    source: 'Documentation/core-api/pin_user_pages.rst (dirtying pinned file pages); mm/page-writeback.c',
  },
  {
    name: 'kfree',
    signature: 'void kfree(const void *objp)',
    header: 'include/linux/slab.h',
    summary: 'Frees slab memory. Freeing a page array does not drop the page references it holds.',
  },
  {
    name: 'kvfree',
    signature: 'void kvfree(const void *addr)',
    header: 'include/linux/slab.h',
    summary: 'Frees kmalloc or vmalloc memory (iov_iter_get_pages_alloc arrays). Does not drop the page references the array holds.',
  },
  {
    name: 'PageHighMem',
    signature: 'int PageHighMem(const struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'True for a highmem page (no permanent kernel mapping). Takes no reference.',
  },
  {
    name: 'PageAnon',
    signature: 'bool PageAnon(const struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'True for an anonymous page. Takes no reference.',
  },
  {
    name: 'PageCompound',
    signature: 'int PageCompound(const struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'True for a page that is part of a compound page. Takes no reference.',
  },
  {
    name: 'PageReserved',
    signature: 'int PageReserved(const struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'True for a reserved page. Takes no reference.',
  },
  {
    name: 'PageDirty',
    signature: 'int PageDirty(const struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'Tests the dirty flag. Takes no reference.',
  },
  {
    name: 'SetPageDirty',
    signature: 'void SetPageDirty(struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'Sets the dirty flag without telling the mapping (only safe for anon pages: thread “vhost: access vq metadata through kernel virtual address”, 2019-03-07). Takes no reference.',
  },
  {
    name: 'page_folio',
    signature: 'struct folio *page_folio(struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'The folio a page belongs to. Takes no reference.',
  },
  {
    name: 'folio_page',
    signature: 'struct page *folio_page(struct folio *folio, unsigned long n)',
    header: 'include/linux/page-flags.h',
    since: 'v5.16',
    summary: 'Page n of the folio. Takes no reference: a reference on the folio is held through any of its pages (release_pages() and put_page() act on the folio).',
  },
  {
    name: 'compound_head',
    signature: 'struct page *compound_head(struct page *page)',
    header: 'include/linux/page-flags.h',
    summary: 'The head page of a compound page. Takes no reference.',
  },
  {
    name: 'page_to_phys',
    signature: 'phys_addr_t page_to_phys(struct page *page)',
    header: 'arch/*/include/asm/io.h',
    summary: 'Physical address of the page. Takes no reference.',
  },
  {
    name: 'page_to_virt',
    signature: 'void *page_to_virt(struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'Direct-map address of the page. Takes no reference.',
  },
  {
    name: 'page_count',
    signature: 'int page_count(const struct page *page)',
    header: 'include/linux/mm.h',
    summary: "Reads the refcount of the page's folio. Takes no reference.",
  },
  {
    name: 'page_maybe_dma_pinned',
    signature: 'bool page_maybe_dma_pinned(struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'True if the page is probably pinned (refcount >= GUP_PIN_COUNTING_BIAS, or exact pincount for large folios). Takes no reference.',
  },
  {
    name: 'is_zero_page',
    signature: 'bool is_zero_page(const struct page *page)',
    header: 'include/linux/mm.h',
    summary: 'True for the shared zero page (GUP only pretends to pin it). Takes no reference.',
  },
  {
    name: 'lock_page',
    signature: 'void lock_page(struct page *page)',
    header: 'include/linux/pagemap.h',
    summary: 'Takes the page lock (sleeps). Takes no reference.',
  },
  {
    name: 'unlock_page',
    signature: 'void unlock_page(struct page *page)',
    header: 'include/linux/pagemap.h',
    summary: 'Drops the page lock. Takes no reference.',
  },
  {
    name: 'trylock_page',
    signature: 'bool trylock_page(struct page *page)',
    header: 'include/linux/pagemap.h',
    summary: 'Tries to take the page lock. Takes no reference.',
  },
  {
    name: 'memcpy_from_page',
    signature: 'void memcpy_from_page(char *to, struct page *page, size_t offset, size_t len)',
    header: 'include/linux/highmem.h',
    summary: 'Copies out of the page through a temporary mapping. Takes no reference.',
  },
  {
    name: 'memcpy_to_page',
    signature: 'void memcpy_to_page(struct page *page, size_t offset, const char *from, size_t len)',
    header: 'include/linux/highmem.h',
    summary: 'Copies into the page through a temporary mapping. Takes no reference.',
  },
  {
    name: 'sg_page',
    signature: 'struct page *sg_page(struct scatterlist *sg)',
    header: 'include/linux/scatterlist.h',
    summary: 'The page a scatterlist entry points at. Takes no reference.',
  },
  {
    name: 'page_to_pfn',
    signature: 'unsigned long page_to_pfn(const struct page *page)',
    header: 'include/asm-generic/memory_model.h',
    summary: 'The page frame number; takes no reference.',
  },
];

/**
 * The gup_flags bit that turns a get_user_pages*-style call into a pin
 * (Documentation/core-api/pin_user_pages.rst). The analysis looks for it in the flags argument (a
 * constant, an `|` combination, or a variable assigned such a combination).
 */
export const GUP_PIN_FLAG = 'FOLL_PIN';

/**
 * Function-like macros that wrap a test of a GUP return value in branch conditions:
 * 'identity' passes the value through (likely(ret < 0)), 'is-err-value' is true exactly for a
 * negative errno (IS_ERR_VALUE(ret)). Data, so the analysis never names them itself.
 */
export const gupValueTests: Record<string, 'identity' | 'is-err-value'> = {
  likely: 'identity',
  unlikely: 'identity',
  WARN_ON: 'identity',
  WARN_ON_ONCE: 'identity',
  IS_ERR_VALUE: 'is-err-value',
};

/**
 * Function-like macros whose value derived from a GUP result is zero only when the sum of their
 * first argument is zero: `npages = DIV_ROUND_UP(off + n, PAGE_SIZE)` with a non-negative
 * offset; `npages == 0` then means the call took nothing. Maps the macro to that argument.
 */
export const gupZeroDerivers: Record<string, number> = {
  DIV_ROUND_UP: 0,
  PAGE_ALIGN: 0,
};

/**
 * Functions that return the same reference-holding object as one of their arguments, in another
 * type (page -> folio, tail page -> head page): `unpin_folio(page_folio(pages[i]))` releases
 * pages[i]. Maps the function to the argument it passes through.
 */
export const gupPageAliases: Record<string, number> = {
  page_folio: 0,
  folio_page: 0,
  compound_head: 0,
};

/**
 * Functions whose result is a handle on the page they are given (its kernel address, its PFN,
 * its physical address): code that keeps or returns the handle keeps the page reference with
 * it and releases it later through the inverse conversion (virt_to_page(), pfn_to_page()).
 * Maps the function to the page argument.
 */
export const gupPageCarriers: Record<string, number> = {
  page_address: 0,
  page_to_pfn: 0,
  page_to_phys: 0,
  page_to_virt: 0,
  folio_pfn: 0,
  folio_address: 0,
};

/**
 * Functions that free the memory of a page ARRAY (not the references it holds), by the argument
 * holding it. Freeing the array of a caller's struct means the pages can no longer be released by
 * anyone: the GUP analysis then reports a leak even on a success return.
 */
export const gupArrayFreers: Record<string, number> = {
  kfree: 0,
  kvfree: 0,
  vfree: 0,
};

/** Every gup_flags bit is named FOLL_*; any other constant in a flags expression is a macro we cannot see into. */
export const GUP_FLAG_PREFIX = 'FOLL_';
