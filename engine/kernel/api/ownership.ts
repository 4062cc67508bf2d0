import type { ApiEntry } from '../api-schema';

// Who takes ownership of page references beyond the GUP family itself (issue 7, "ownership
// hand-off"). Data only, read by the GUP ownership analysis (engine/analysis/gup-refs.ts).
//
// - Functions that take over the references of the pages they are given (a `handoff` refs
//   facet): the pages then live in the table/skb the call filled, and whoever tears that down
//   releases them. `failure` says how the call reports that it did NOT take them.
// - Logging and tracing never take ownership of anything: an entry without a `refs` facet is a
//   known non-owning user, so a page passed to dev_err() is still the caller's to release.

const SG = 'include/linux/scatterlist.h';
const LOG = 'include/linux/printk.h';
const DEV = 'include/linux/dev_printk.h';

function logger(name: string, header: string): ApiEntry {
  return { name, signature: `void ${name}(...)`, header, summary: 'Logging: reads its arguments, takes no ownership of anything.' };
}

export const ownershipApis: ApiEntry[] = [
  {
    name: 'sg_alloc_table_from_pages',
    signature: 'int sg_alloc_table_from_pages(struct sg_table *sgt, struct page **pages, unsigned int n_pages, unsigned int offset, unsigned long size, gfp_t gfp_mask)',
    header: SG,
    summary: 'Builds a scatterlist over the pages; the table then refers to them, and its owner releases them when it is torn down (for_each_sg_page).',
    returns: '0 on success, -errno on failure (the pages are still the caller\'s).',
    refs: { op: 'handoff', pagesArg: 1, failure: 'returns-nonzero' },
  },
  {
    name: 'sg_alloc_table_from_pages_segment',
    signature: 'int sg_alloc_table_from_pages_segment(struct sg_table *sgt, struct page **pages, unsigned int n_pages, unsigned int offset, unsigned long size, unsigned int max_segment, gfp_t gfp_mask)',
    header: SG,
    since: 'v5.15',
    summary: 'sg_alloc_table_from_pages() with a maximum segment size.',
    returns: '0 on success, -errno on failure.',
    refs: { op: 'handoff', pagesArg: 1, failure: 'returns-nonzero' },
  },
  {
    name: '__sg_alloc_table_from_pages',
    signature: 'struct scatterlist *__sg_alloc_table_from_pages(struct sg_table *sgt, struct page **pages, unsigned int n_pages, unsigned int offset, unsigned long size, unsigned int max_segment, struct scatterlist *prv, unsigned int left_pages, gfp_t gfp_mask)',
    header: SG,
    removed: 'v5.15',
    summary: 'Older form of sg_alloc_table_from_pages_segment(); returns the last entry or ERR_PTR().',
    returns: 'The last scatterlist entry, or an ERR_PTR() on failure.',
    refs: { op: 'handoff', pagesArg: 1 },
  },
  {
    name: 'sg_alloc_append_table_from_pages',
    signature: 'int sg_alloc_append_table_from_pages(struct sg_append_table *sgt, struct page **pages, unsigned int n_pages, unsigned int offset, unsigned long size, unsigned int max_segment, unsigned int left_pages, gfp_t gfp_mask)',
    header: SG,
    since: 'v5.15',
    summary: 'Appends the pages to a growing scatterlist (ib_umem_get pins chunk by chunk); the table then refers to them.',
    returns: '0 on success, -errno on failure.',
    refs: { op: 'handoff', pagesArg: 1, failure: 'returns-nonzero' },
  },
  {
    name: 'skb_add_rx_frag',
    signature: 'void skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page, int off, int size, unsigned int truesize)',
    header: 'include/linux/skbuff.h',
    summary: 'Attaches the page as fragment i of the skb; the skb owns the reference from now on.',
    refs: { op: 'handoff', pagesArg: 2, failure: 'never' },
  },
  {
    name: '__skb_fill_page_desc',
    signature: 'void __skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size)',
    header: 'include/linux/skbuff.h',
    summary: 'Fills fragment i of the skb with the page; the skb owns the reference.',
    refs: { op: 'handoff', pagesArg: 2, failure: 'never' },
  },
  {
    name: 'page_dup_file_rmap',
    signature: 'void page_dup_file_rmap(struct page *page, bool compound)',
    header: 'include/linux/rmap.h',
    summary: 'Accounts one more mapping of a file page (fork copying a PTE); the reference the caller took for it belongs to that new mapping.',
    refs: { op: 'handoff', pagesArg: 0, failure: 'never' },
  },
  {
    name: 'page_try_dup_anon_rmap',
    signature: 'int page_try_dup_anon_rmap(struct page *page, bool compound, struct vm_area_struct *vma)',
    header: 'include/linux/rmap.h',
    since: 'v5.19',
    summary: 'Tries to account one more mapping of an anonymous page (fork); on success the reference the caller took belongs to the new mapping.',
    returns: '0 on success; -EBUSY when the page may be pinned and must be copied (the reference is still the caller\'s).',
    refs: { op: 'handoff', pagesArg: 0, failure: 'returns-nonzero' },
  },
  {
    name: 'page_remove_rmap',
    signature: 'void page_remove_rmap(struct page *page, struct vm_area_struct *vma, bool compound)',
    header: 'include/linux/rmap.h',
    summary: 'Takes down the reverse mapping of a PTE (or PMD/PUD) being cleared; the reference the mapping held is then the caller\'s to drop (zap_pte_range() frees it after the TLB flush).',
    refs: { op: 'unmap', pagesArg: 0 },
  },
  ...['printk', 'pr_err', 'pr_warn', 'pr_info', 'pr_notice', 'pr_debug', 'pr_devel', 'pr_emerg', 'pr_crit', 'pr_alert',
    'pr_err_ratelimited', 'pr_warn_ratelimited', 'pr_info_ratelimited', 'pr_err_once', 'pr_warn_once', 'pr_info_once'].map((n) => logger(n, LOG)),
  ...['dev_err', 'dev_warn', 'dev_info', 'dev_notice', 'dev_dbg', 'dev_crit', 'dev_alert', 'dev_emerg',
    'dev_err_ratelimited', 'dev_warn_ratelimited', 'dev_err_once', 'dev_warn_once', 'dev_info_once', 'dev_err_probe'].map((n) => logger(n, DEV)),
  ...['WARN', 'WARN_ON', 'WARN_ONCE', 'WARN_ON_ONCE', 'BUG_ON'].map((n) => logger(n, 'include/asm-generic/bug.h')),
  ...['trace_printk', 'pr_cont'].map((n) => logger(n, LOG)),
];

/**
 * Tracepoints (`trace_<event>()`) only record their arguments. A name family rather than a
 * list: every `TRACE_EVENT(foo)` defines a `trace_foo()`.
 */
const OBSERVER_PREFIXES = ['trace_'];

export function isObserverCall(name: string): boolean {
  return OBSERVER_PREFIXES.some((p) => name.startsWith(p));
}
