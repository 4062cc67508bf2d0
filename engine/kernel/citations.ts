// The public mailing-list threads Faultline's facts come from, as anyone can look them up:
// subject, author, date and a lore.kernel.org search for the subject.
//
// The API table's and the simulator scenarios' `source` fields cite these threads directly —
// `thread “<subject>” (<date>, <lore link>)`, see citeThread() — next to the kernel files,
// Documentation pages and commits a fact is drawn from. This table is the reference those
// citations are checked against (test/engine/public-text.test.ts).

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

/** The mailing-list threads the rules and scenarios are traced to. */
export const THREADS: Record<string, Thread> = {
  faultInLivelock: thread('Avoid live-lock in fault-in+uaccess loops with sub-page faults', 'Catalin Marinas', '2021-12-03'),
  softDirtyLocking: thread('fs/task_mmu: acquire mmap_lock for write on soft-dirty cleanup', 'Andrea Arcangeli', '2021-01-05'),
  gupTracking: thread('Keep track of GUPed pages in fs and block', 'Jerome Glisse', '2019-04-16'),
  gfs2Deadlocks: thread('gfs2: Fix mmap + page fault deadlocks', 'Catalin Marinas', '2021-10-29'),
  vhostMetadata: thread('vhost: access vq metadata through kernel virtual address', 'Jerome Glisse', '2019-03-07'),
};

/** How a `source` field cites a thread: thread “subject” (date, lore link). */
export function citeThread(t: Thread): string {
  return `thread “${t.subject}” (${t.date}, ${t.lore})`;
}
