// Public citations for the facts the API table and the simulator scenarios record.
//
// The table's `source` fields and some summaries name where a fact was gathered in the
// project's working notes: a section of the kernel-semantics notes ("SEMANTICS.md C.2") or one
// of the mailing-list threads the work started from ("seed 002"). Users do not have those notes,
// so everything a user reads (hovers, `explain`, `simulate`, the generated docs) goes through
// publicText(), which replaces such references with what anyone can look up: the mailing-list
// thread (subject, author, date, lore link) and the kernel files, documents and commits the
// section is drawn from.

export interface Thread {
  subject: string;
  author: string;
  /** ISO date of the message the work cites. */
  date: string;
  /** lore.kernel.org search for the thread's subject. */
  lore: string;
}

const lore = (subject: string) => `https://lore.kernel.org/all/?q=${encodeURIComponent(`s:"${subject}"`)}`;

function thread(subject: string, author: string, date: string): Thread {
  return { subject, author, date, lore: lore(subject) };
}

/** The mailing-list threads, by the number the working notes give them. */
export const THREADS: Record<string, Thread> = {
  '000': thread('Avoid live-lock in fault-in+uaccess loops with sub-page faults', 'Catalin Marinas', '2021-12-03'),
  '001': thread('fs/task_mmu: acquire mmap_lock for write on soft-dirty cleanup', 'Andrea Arcangeli', '2021-01-05'),
  '002': thread('Keep track of GUPed pages in fs and block', 'Jerome Glisse', '2019-04-16'),
  '003': thread('gfs2: Fix mmap + page fault deadlocks', 'Catalin Marinas', '2021-10-29'),
  '004': thread('vhost: access vq metadata through kernel virtual address', 'Jerome Glisse', '2019-03-07'),
};

/** What each section of the semantics notes is drawn from (kernel files, documents, commits). */
const SECTIONS: Record<string, string> = {
  A: 'mm/gup.c and include/linux/pagemap.h (the fault_in_*() helpers; v5.16 rework bb523b406c84)',
  B: 'include/linux/uaccess.h, arch/arm64/lib/copy_{to,from}_user.S and Documentation/arm64/memory-tagging-extension.rst',
  C: 'Documentation/core-api/pin_user_pages.rst and mm/gup.c',
  D: 'commit 09854ba94c6a ("mm: do_wp_page() simplification") and fs/proc/task_mmu.c',
  E: 'Documentation/core-api/pin_user_pages.rst (dirtying pinned file pages) and mm/page-writeback.c',
  F: 'commit 00bfe02f4796 (gfs2: page faults disabled around the copy) and include/linux/mmap_lock.h',
  G: 'fs/btrfs/ioctl.c (search_ioctl)',
  H: 'drivers/vhost/vhost.c (the v5.3-rc1 kernel-address metadata access and its revert)',
  I: 'include/linux/mmap_lock.h and kernel/locking/rwsem.c',
};

function cite(t: Thread): string {
  return `“${t.subject}” (${t.author}, ${t.date}, ${t.lore})`;
}

/** Sources for a list of section names such as "C.1, C.3" or "A.1-A.3" or "D, E, H". */
function sections(list: string): string {
  const letters: string[] = [];
  for (const m of list.matchAll(/\b([A-I])(?:\.\d+)?/g)) if (!letters.includes(m[1])) letters.push(m[1]);
  return letters.map((l) => SECTIONS[l]).filter(Boolean).join('; ');
}

const SECTION_LIST = String.raw`[A-I](?:\.\d+)?(?:\s*(?:-|–|,|and)\s*[A-I](?:\.\d+)?)*`;
const NOTES_REF = new RegExp(String.raw`(?:\.\./shared/)?SEMANTICS(?:\.md)?(?:,? (?:sections? )?(${SECTION_LIST}))?`, 'g');
const THREAD_REF = /\b[Ss]eeds? (\d{3})((?:\/\d{3})*)('s)?/g;
const RULES_REF = /(?:\.\.\/shared\/)?RULES\.md(?: "[^"]*")?/g;

/** `text` with every reference to the working notes replaced by its public sources. */
export function publicText(text: string): string {
  return text
    .replace(THREAD_REF, (m, first: string, more: string, poss: string | undefined) => {
      const ids = [first, ...more.split('/').filter(Boolean)];
      const known = ids.map((id) => THREADS[id]).filter((t): t is Thread => !!t);
      if (known.length === 0) return m;
      const refs = known.map(cite).join(' and ');
      return poss ? `${refs}, the thread's` : `the thread${known.length > 1 ? 's' : ''} ${refs}`;
    })
    .replace(NOTES_REF, (_m, list: string | undefined) => (list ? sections(list) || 'the kernel sources' : 'the kernel sources'))
    .replace(RULES_REF, "Faultline's rule list");
}
