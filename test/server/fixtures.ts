// Kernel-style C written for these tests (never copied from the kernel). `$0` marks a cursor
// where a test needs one; `cursor()` finds it and strips it.

/** Pins pages, then drops them with put_page: a FOLL_PIN / FOLL_GET mismatch (seed 002, RULES.md). */
export const mismatchC = `#include <linux/mm.h>

static int demo_pin_and_copy(unsigned long uaddr, struct page **pages, int nr)
{
	long ret;
	int i;

	ret = $0pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (ret <= 0)
		return ret ? ret : -EFAULT;
	for (i = 0; i < ret; i++)
		put_page(pages[i]);
	return 0;
}
`;

/** A balanced get/put: silent. `BUG_HERE` is where the incremental test inserts an early return. */
export const balancedC = `#include <linux/mm.h>

struct demo_dev {
	bool abort;
	unsigned long csum;
};

static unsigned long demo_sum(struct demo_dev *dev, long got)
{
	return dev->csum + got;
}

static int demo_fill(struct demo_dev *dev, unsigned long uaddr, int nr)
{
	struct page *pages[16];
	long got;
	int i;

	if (nr > 16)
		return -EINVAL;
	got = get_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
	if (got < 0)
		return got;
	dev->csum = demo_sum(dev, got);
	/* BUG_HERE */
	for (i = 0; i < got; i++)
		put_page(pages[i]);
	return 0;
}
`;

/** What the incremental test inserts at BUG_HERE: a return that skips the release loop. */
export const earlyReturn = 'if (dev->abort)\n\t\treturn -EINTR;\n\t';

export function cursor(textWithMarker: string): { text: string; line: number; character: number } {
  const at = textWithMarker.indexOf('$0');
  if (at < 0) throw new Error('no $0 marker');
  const text = textWithMarker.slice(0, at) + textWithMarker.slice(at + 2);
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { text, line, character: at - (before.lastIndexOf('\n') + 1) };
}

/** 0-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string, from = 0): number {
  const lines = text.split('\n');
  for (let i = from; i < lines.length; i++) if (lines[i].includes(needle)) return i;
  throw new Error(`not found: ${needle}`);
}

/**
 * A git format-patch mail that adds `added` (lines of C) after `context` lines of an existing
 * file. Hunk counts are computed, not hand-written, so the patch is always well-formed.
 */
export function formatPatch(path: string, context: string[], added: string[], subject: string): string {
  const oldStart = 10;
  const header = `@@ -${oldStart},${context.length} +${oldStart},${context.length + added.length} @@`;
  return [
    'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001',
    'From: Demo Developer <demo@example.org>',
    'Date: Mon, 2 Nov 2026 10:00:00 +0000',
    `Subject: [PATCH] ${subject}`,
    '',
    'Pin the user buffer for the copy.',
    '',
    '---',
    ` ${path} | ${added.length} ${'+'.repeat(Math.min(added.length, 40))}`,
    ' 1 file changed, ' + `${added.length} insertions(+)`,
    '',
    `diff --git a/${path} b/${path}`,
    'index 1111111..2222222 100644',
    `--- a/${path}`,
    `+++ b/${path}`,
    header,
    ...context.map((l) => ` ${l}`),
    ...added.map((l) => `+${l}`),
    '-- ',
    '2.43.0',
    '',
  ].join('\n');
}

export const patchContext = ['static int demo_open(struct inode *inode, struct file *file)', '{', '\treturn 0;', '}', ''];

export const patchAdded = [
  'static int demo_pin(unsigned long uaddr, struct page **pages, int nr)',
  '{',
  '\tlong ret;',
  '\tint i;',
  '',
  '\tret = pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);',
  '\tif (ret <= 0)',
  '\t\treturn -EFAULT;',
  '\tfor (i = 0; i < ret; i++)',
  '\t\tput_page(pages[i]);',
  '\treturn 0;',
  '}',
];

/**
 * Where to insert an early return that leaks, in a generated kernel-style file: the line after a
 * `ret = get_user_pages*(...)` / `pin_user_pages*(...)` in the second half of the file, inside a
 * function that has no finding yet (so the new leak is visible as one more finding).
 * `findingRows` are the 0-based rows of the current findings.
 */
export function leakInsertionLine(text: string, findingRows: number[]): number {
  const lines = text.split('\n');
  for (let i = Math.floor(lines.length / 2); i < lines.length; i++) {
    if (!/^\t\w+ = (get|pin)_user_pages\w*\(/.test(lines[i])) continue;
    let start = i;
    while (start > 0 && !/^\S/.test(lines[start])) start--;
    let end = i;
    while (end < lines.length && lines[end] !== '}') end++;
    if (findingRows.some((r) => r >= start && r <= end)) continue;
    return i + 1;
  }
  throw new Error('no GUP acquisition without findings in the second half of the file');
}

/** The early return `leakInsertionLine` is for. */
export const leakingLine = '\tif (dev->abort) return -EINTR;\n';
