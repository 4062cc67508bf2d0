// A small patch series of our own, in the shape `b4 am` writes (one mbox, one mail per patch,
// subjects with [PATCH n/N]), against a hand-written base file. Shared by the series tests.

export const WOBBLE_PATH = 'drivers/misc/wobble.c';

export const WOBBLE_BASE = [
  '#include <linux/mm.h>',
  '',
  'static int wobble_reset(struct wobble *w)',
  '{',
  '\tw->state = 0;',
  '\treturn 0;',
  '}',
  '',
].join('\n');

/** 1/N: adds wobble_pin(), which pins and releases correctly. */
export const ADD_PIN = [
  '@@ -5,3 +5,19 @@ static int wobble_reset(struct wobble *w)',
  ' \tw->state = 0;',
  ' \treturn 0;',
  ' }',
  '+',
  '+static int wobble_pin(struct wobble *w, unsigned long uaddr, struct page **pages, int nr)',
  '+{',
  '+\tlong got;',
  '+',
  '+\tgot = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);',
  '+\tif (got <= 0)',
  '+\t\treturn got ? got : -EFAULT;',
  '+\tif (got != nr) {',
  '+\t\tunpin_user_pages(pages, got);',
  '+\t\treturn -EFAULT;',
  '+\t}',
  '+\tw->pages = pages;',
  '+\tw->nr = got;',
  '+\treturn 0;',
  '+}',
];

/** 2/N: an early return after the pin that does not unpin (the leak). */
export const ADD_BUSY = [
  '@@ -13,4 +13,6 @@ static int wobble_pin(struct wobble *w, unsigned long uaddr, struct page **pages, int nr)',
  ' \tgot = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);',
  ' \tif (got <= 0)',
  ' \t\treturn got ? got : -EFAULT;',
  '+\tif (w->busy)',
  '+\t\treturn -EBUSY;',
  ' \tif (got != nr) {',
];

/** A change elsewhere in the file (the other function). */
export const COUNT_RESETS = [
  '@@ -3,5 +3,6 @@',
  ' static int wobble_reset(struct wobble *w)',
  ' {',
  ' \tw->state = 0;',
  '+\tw->resets++;',
  ' \treturn 0;',
  ' }',
];

/** A change inside wobble_pin that leaves the leak alone (after ADD_BUSY). */
export const MARK_PINNED = [
  '@@ -22,3 +22,4 @@ static int wobble_pin(struct wobble *w, unsigned long uaddr, struct page **pages, int nr)',
  ' \tw->pages = pages;',
  ' \tw->nr = got;',
  '+\tw->pinned = true;',
  ' \treturn 0;',
];

/** A removal-only hunk (after ADD_PIN): drops the release on the short-pin path (a leak). */
export const DROP_RELEASE = [
  '@@ -15,5 +15,4 @@ static int wobble_pin(struct wobble *w, unsigned long uaddr, struct page **pages, int nr)',
  ' \t\treturn got ? got : -EFAULT;',
  ' \tif (got != nr) {',
  '-\t\tunpin_user_pages(pages, got);',
  ' \t\treturn -EFAULT;',
  ' \t}',
];

/** The fix of ADD_BUSY's leak (after ADD_BUSY). */
export const FIX_BUSY = [
  '@@ -15,4 +15,6 @@ static int wobble_pin(struct wobble *w, unsigned long uaddr, struct page **pages, int nr)',
  ' \t\treturn got ? got : -EFAULT;',
  '-\tif (w->busy)',
  '-\t\treturn -EBUSY;',
  '+\tif (w->busy) {',
  '+\t\tunpin_user_pages(pages, got);',
  '+\t\treturn -EBUSY;',
  '+\t}',
  ' \tif (got != nr) {',
];

export interface SeriesPatch { subject: string; hunks: string[][] }

/** One mail of a git format-patch series. */
export function mail(n: number, total: number, p: SeriesPatch): string {
  const body = p.hunks.map((h) => h.join('\n')).join('\n');
  return [
    `From 0000000000000000000000000000000000000${n.toString().padStart(3, '0')} Mon Sep 17 00:00:00 2001`,
    'From: Wobble Developer <dev@example.org>',
    `Date: Mon, 3 Mar 2025 10:0${n}:00 +0100`,
    `Subject: [PATCH ${n}/${total}] wobble: ${p.subject}`,
    '',
    `Patch ${n} of the wobble series.`,
    '',
    '---',
    ` ${WOBBLE_PATH} | 1 +`,
    '',
    `diff --git a/${WOBBLE_PATH} b/${WOBBLE_PATH}`,
    `index 1111111..2222222 100644`,
    `--- a/${WOBBLE_PATH}`,
    `+++ b/${WOBBLE_PATH}`,
    body,
    '-- ',
    '2.43.0',
    '',
    '',
  ].join('\n');
}

/** An mbox of the patches, numbered in order. */
export function series(...patches: SeriesPatch[]): string {
  return patches.map((p, i) => mail(i + 1, patches.length, p)).join('');
}

/** The same hunks as a plain `diff -u` (no function names in the hunk headers). */
export function plainDiff(hunks: string[][]): string {
  return [
    `--- wobble.c.orig\t2025-03-03 10:00:00.000000000 +0100`,
    `+++ wobble.c\t2025-03-03 10:01:00.000000000 +0100`,
    ...hunks.map((h) => [h[0].replace(/^(@@ [^@]* @@).*$/, '$1'), ...h.slice(1)].join('\n')),
    '',
  ].join('\n');
}

/** The base file with the hunks applied (what the tree holds after those patches). */
export function applied(...hunkLists: string[][]): string {
  let lines = WOBBLE_BASE.split('\n');
  for (const h of hunkLists) {
    const m = /^@@ -(\d+)(?:,(\d+))? /.exec(h[0])!;
    const start = Number(m[1]) - 1;
    const old = h.slice(1).filter((l) => !l.startsWith('+')).length;
    const neu = h.slice(1).filter((l) => !l.startsWith('-')).map((l) => l.slice(1));
    lines = [...lines.slice(0, start), ...neu, ...lines.slice(start + old)];
  }
  return lines.join('\n');
}
