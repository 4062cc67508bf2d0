import type { ApiEntry, FacetEntry } from '../api-schema';
import type { WrprotectFacet } from './seed-schema';

// Write-protecting PTEs and walking page tables (thread "fs/task_mmu: acquire mmap_lock for write
// on soft-dirty cleanup", Jan 2021; commit 29a951dfb3c3 "mm: fix clear_refs_write locking",
// January 2021; fs/proc/task_mmu.c). wrprotect-under-read-lock reads these facets; TLB flushes and inc_tlb_flush_pending() are `mem` ops of ./mm.ts.

function wp(name: string, signature: string, header: string, w: WrprotectFacet, summary: string): ApiEntry {
  return { name, signature, header, summary, source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking", v5.11); fs/proc/task_mmu.c', wrprotect: w };
}

const PGT = 'include/linux/pgtable.h';

export const wrprotectApis: ApiEntry[] = [
  wp('ptep_set_wrprotect', 'void ptep_set_wrprotect(struct mm_struct *mm, unsigned long addr, pte_t *ptep)', PGT, { kind: 'wrprotect' },
    'Clear the write bit of a PTE in place; the TLB is not flushed.'),
  wp('huge_ptep_set_wrprotect', 'void huge_ptep_set_wrprotect(struct mm_struct *mm, unsigned long addr, pte_t *ptep)', 'include/linux/hugetlb.h', { kind: 'wrprotect' },
    'Clear the write bit of a hugetlb PTE; the TLB is not flushed.'),
  wp('pmdp_set_wrprotect', 'void pmdp_set_wrprotect(struct mm_struct *mm, unsigned long addr, pmd_t *pmdp)', PGT, { kind: 'wrprotect' },
    'Clear the write bit of a huge PMD in place; the TLB is not flushed.'),
  wp('pte_wrprotect', 'pte_t pte_wrprotect(pte_t pte)', 'arch/*/include/asm/pgtable.h', { kind: 'wrprotect', valueArg: 0 },
    'A read-only copy of a PTE value, to be stored back (set_pte_at / ptep_modify_prot_commit) without a flush.'),
  wp('pmd_wrprotect', 'pmd_t pmd_wrprotect(pmd_t pmd)', 'arch/*/include/asm/pgtable.h', { kind: 'wrprotect', valueArg: 0 }, 'A read-only copy of a PMD value.'),
  wp('pte_clear_soft_dirty', 'pte_t pte_clear_soft_dirty(pte_t pte)', 'arch/*/include/asm/pgtable.h', { kind: 'soft-dirty', valueArg: 0 },
    'A PTE value with soft-dirty cleared; clear_refs pairs it with pte_wrprotect() so the next write faults.'),
  wp('pmd_clear_soft_dirty', 'pmd_t pmd_clear_soft_dirty(pmd_t pmd)', 'arch/*/include/asm/pgtable.h', { kind: 'soft-dirty', valueArg: 0 }, 'A PMD value with soft-dirty cleared.'),
  wp('pte_mkuffd_wp', 'pte_t pte_mkuffd_wp(pte_t pte)', 'arch/*/include/asm/pgtable.h', { kind: 'uffd-wp', valueArg: 0 },
    'A PTE value marked userfaultfd write-protected (and read-only).'),
  wp('pmd_mkuffd_wp', 'pmd_t pmd_mkuffd_wp(pmd_t pmd)', 'arch/*/include/asm/pgtable.h', { kind: 'uffd-wp', valueArg: 0 }, 'A PMD value marked userfaultfd write-protected.'),
  { name: 'walk_page_range', signature: 'int walk_page_range(struct mm_struct *mm, unsigned long start, unsigned long end, const struct mm_walk_ops *ops, void *private)',
    header: 'include/linux/pagewalk.h', summary: 'Walk the page tables of [start, end) calling the ops\' per-entry callbacks; the caller holds mmap_lock (read is enough for the walk itself).',
    source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking", v5.11); fs/proc/task_mmu.c', pageWalk: { opsArg: 3, callbacks: ['pgd_entry', 'p4d_entry', 'pud_entry', 'pmd_entry', 'pte_entry', 'hugetlb_entry'] } },
  { name: 'walk_page_vma', signature: 'int walk_page_vma(struct vm_area_struct *vma, const struct mm_walk_ops *ops, void *private)',
    header: 'include/linux/pagewalk.h', summary: 'walk_page_range() over one VMA.', source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking", v5.11); fs/proc/task_mmu.c',
    pageWalk: { opsArg: 1, callbacks: ['pgd_entry', 'p4d_entry', 'pud_entry', 'pmd_entry', 'pte_entry', 'hugetlb_entry'] } },
  { name: 'walk_page_range_novma', signature: 'int walk_page_range_novma(struct mm_struct *mm, unsigned long start, unsigned long end, const struct mm_walk_ops *ops, pgd_t *pgd, void *private)',
    header: 'include/linux/pagewalk.h', summary: 'Walk kernel page tables without VMAs.', source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking", v5.11); fs/proc/task_mmu.c',
    pageWalk: { opsArg: 3, callbacks: ['pgd_entry', 'p4d_entry', 'pud_entry', 'pmd_entry', 'pte_entry', 'hugetlb_entry'] } },
  { name: 'ptep_clear_flush', signature: 'pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long address, pte_t *ptep)', header: PGT,
    summary: 'Clear a PTE and flush its TLB entry at once (nothing deferred).', source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking", v5.11); fs/proc/task_mmu.c', mem: { op: 'flush-tlb-page', addrArg: 1 } },
];

function newPte(name: string, signature: string): ApiEntry {
  return { name, signature, header: 'arch/*/include/asm/pgtable.h', summary: 'Build a PTE/PMD value for a page being mapped (not yet visible to any TLB).', source: 'commit 29a951dfb3c3 ("mm: fix clear_refs_write locking", v5.11); fs/proc/task_mmu.c', pteValue: { source: 'new' } };
}

wrprotectApis.push(
  newPte('mk_pte', 'pte_t mk_pte(struct page *page, pgprot_t pgprot)'),
  newPte('pfn_pte', 'pte_t pfn_pte(unsigned long pfn, pgprot_t prot)'),
  newPte('mk_huge_pte', 'pte_t mk_huge_pte(struct page *page, pgprot_t pgprot)'),
  newPte('mk_pmd', 'pmd_t mk_pmd(struct page *page, pgprot_t pgprot)'),
  newPte('pfn_pmd', 'pmd_t pfn_pmd(unsigned long pfn, pgprot_t prot)'),
  newPte('mk_huge_pmd', 'pmd_t mk_huge_pmd(struct page *page, pgprot_t prot)'),
);

// Write-bit tests of a page-table entry value: the check that makes dirtying a GUP'd page from an
// mmu notifier's callback safe (the pte was writable, so page_mkwrite ran; thread “vhost: access vq
// metadata through kernel virtual address”, 2019-03-07).
function writeBit(name: string, signature: string, header: string): ApiEntry {
  return { name, signature, header, summary: 'Whether the page-table entry value allows writes (its write bit).',
    source: `${header}; thread “vhost: access vq metadata through kernel virtual address” (2019-03-07, https://lore.kernel.org/all/?q=s%3A%22vhost%3A%20access%20vq%20metadata%20through%20kernel%20virtual%20address%22)`,
    writeBitTest: { arg: 0 } };
}

wrprotectApis.push(
  writeBit('pte_write', 'int pte_write(pte_t pte)', 'arch/*/include/asm/pgtable.h'),
  writeBit('pmd_write', 'int pmd_write(pmd_t pmd)', 'arch/*/include/asm/pgtable.h'),
  writeBit('pud_write', 'int pud_write(pud_t pud)', 'arch/*/include/asm/pgtable.h'),
  writeBit('huge_pte_write', 'int huge_pte_write(pte_t pte)', 'include/asm-generic/hugetlb.h'),
);

export const wrprotectFacets: FacetEntry[] = [
  { name: 'clear_soft_dirty', wrprotect: { kind: 'soft-dirty' } },
  { name: 'mwriteprotect_range', wrprotect: { kind: 'uffd-wp' } },
];

/**
 * The kernel functions a write fault on a write-protected anonymous PTE runs (mm/memory.c), as a
 * simulator trace names the kernel's steps: handle_mm_fault() reaches do_wp_page(), which reuses
 * the page or copies it in wp_page_copy() (reuse by page_count since v5.9, commit 09854ba94c6a).
 */
export const WP_FAULT_PATH = { fault: 'handle_mm_fault()', decide: 'do_wp_page()', copy: 'wp_page_copy()' } as const;
