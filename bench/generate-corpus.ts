// Generates a deterministic corpus of kernel-style C for the benchmarks: drivers with
// get_user_pages/pin_user_pages paths, goto error ladders, release loops, switch statements,
// kernel loop macros and plenty of functions that touch no user memory at all (real files are
// mostly those). Written here, never copied: shapes only, with made-up names.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Small deterministic PRNG (mulberry32) so every run measures the same corpus; the randomized
 * tests use it too, so a failure reproduces from its seed.
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACQUIRE = ['get_user_pages_fast', 'pin_user_pages_fast', 'get_user_pages_unlocked', 'pin_user_pages_unlocked'];

function gupFunction(name: string, r: () => number): string {
  const acquire = ACQUIRE[Math.floor(r() * ACQUIRE.length)];
  const pinned = acquire.startsWith('pin');
  const release = pinned ? 'unpin_user_page' : 'put_page';
  const unlocked = acquire.endsWith('_unlocked');
  const call = unlocked
    ? `${acquire}(uaddr & PAGE_MASK, nr_pages, pages, FOLL_WRITE)`
    : `${acquire}(uaddr & PAGE_MASK, nr_pages, FOLL_WRITE, pages)`;
  const steps = 2 + Math.floor(r() * 6);
  const lines: string[] = [];
  lines.push(`static int ${name}(struct demo_dev *dev, unsigned long uaddr, size_t len)`);
  lines.push('{');
  lines.push('\tunsigned long nr_pages = DIV_ROUND_UP(offset_in_page(uaddr) + len, PAGE_SIZE);');
  lines.push('\tstruct page **pages;');
  lines.push('\tint ret, i, npinned;');
  lines.push('');
  lines.push('\tif (unlikely(!len || len > DEMO_MAX_XFER))');
  lines.push('\t\treturn -EINVAL;');
  lines.push('\tpages = kvmalloc_array(nr_pages, sizeof(*pages), GFP_KERNEL);');
  lines.push('\tif (!pages)');
  lines.push('\t\treturn -ENOMEM;');
  lines.push('');
  lines.push(`\tret = ${call};`);
  lines.push('\tif (ret < 0)');
  lines.push('\t\tgoto out_free;');
  lines.push('\tnpinned = ret;');
  lines.push('\tif (npinned != nr_pages) {');
  lines.push('\t\tret = -EFAULT;');
  lines.push('\t\tgoto out_release;');
  lines.push('\t}');
  // About one function in twenty carries a real bug (an early return that leaks the pages),
  // so the benchmark also exercises the reporting path.
  if (r() < 0.05) {
    lines.push('\tif (dev->aborted)');
    lines.push('\t\treturn -EINTR;');
  }
  for (let s = 0; s < steps; s++) {
    lines.push(`\tret = demo_stage_${s}(dev, pages, nr_pages);`);
    lines.push('\tif (ret)');
    lines.push('\t\tgoto out_release;');
    if (r() < 0.3) {
      lines.push('\tfor (i = 0; i < nr_pages; i++) {');
      lines.push('\t\tvoid *va = kmap_local_page(pages[i]);');
      lines.push(`\t\tdev->csum += demo_csum(va, PAGE_SIZE, ${s});`);
      lines.push('\t\tkunmap_local(va);');
      lines.push('\t}');
    }
  }
  lines.push('\tret = 0;');
  lines.push('out_release:');
  lines.push(`\tfor (i = 0; i < npinned; i++)`);
  lines.push(`\t\t${release}(pages[i]);`);
  lines.push('out_free:');
  lines.push('\tkvfree(pages);');
  lines.push('\treturn ret;');
  lines.push('}');
  return lines.join('\n');
}

function plainFunction(name: string, r: () => number): string {
  const cases = 2 + Math.floor(r() * 5);
  const lines: string[] = [];
  lines.push(`static long ${name}(struct demo_dev *dev, unsigned int cmd, void __user *argp)`);
  lines.push('{');
  lines.push('\tstruct demo_req req;');
  lines.push('\tstruct demo_node *node;');
  lines.push('\tlong ret = 0;');
  lines.push('');
  lines.push('\tif (copy_from_user(&req, argp, sizeof(req)))');
  lines.push('\t\treturn -EFAULT;');
  lines.push('\tmutex_lock(&dev->lock);');
  lines.push('\tswitch (cmd) {');
  for (let c = 0; c < cases; c++) {
    lines.push(`\tcase DEMO_IOC_OP${c}:`);
    lines.push(`\t\tret = demo_do_op${c}(dev, &req);`);
    if (r() < 0.5) {
      lines.push('\t\tif (ret < 0)');
      lines.push('\t\t\tbreak;');
      lines.push('\t\tlist_for_each_entry(node, &dev->nodes, link) {');
      lines.push('\t\t\tif (node->id == req.id)');
      lines.push('\t\t\t\tnode->hits++;');
      lines.push('\t\t}');
    }
    lines.push('\t\tbreak;');
  }
  lines.push('\tdefault:');
  lines.push('\t\tret = -ENOTTY;');
  lines.push('\t}');
  lines.push('\tmutex_unlock(&dev->lock);');
  lines.push('\treturn ret;');
  lines.push('}');
  return lines.join('\n');
}

export interface Corpus {
  dir: string;
  files: string[];
  lines: number;
}

/** Writes `fileCount` files of about `linesPerFile` lines each into `dir`. */
export function generateCorpus(dir: string, fileCount = 220, linesPerFile = 520, seed = 2026): Corpus {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const files: string[] = [];
  let total = 0;
  for (let f = 0; f < fileCount; f++) {
    const parts: string[] = [
      `/* demo driver ${f}: generated benchmark input */`,
      '#include <linux/mm.h>',
      '#include <linux/uaccess.h>',
      '',
      `#define DEMO_MAX_XFER (${1 + (f % 7)} << 20)`,
      '',
    ];
    let lines = parts.length;
    let n = 0;
    while (lines < linesPerFile) {
      const fn = r() < 0.35 ? gupFunction(`demo${f}_xfer${n}`, r) : plainFunction(`demo${f}_ioctl${n}`, r);
      parts.push(fn, '');
      lines += fn.split('\n').length + 1;
      n++;
    }
    const text = parts.join('\n');
    const path = join(dir, `demo_${String(f).padStart(3, '0')}.c`);
    writeFileSync(path, text);
    files.push(path);
    total += text.split('\n').length;
  }
  return { dir, files, lines: total };
}

/** One big file (for edit latency): functions until `lines` is reached. */
export function generateLargeFile(lines = 5000, seed = 7): string {
  const r = rng(seed);
  const parts: string[] = ['#include <linux/mm.h>', ''];
  let count = 2;
  let n = 0;
  while (count < lines) {
    const fn = r() < 0.35 ? gupFunction(`big_xfer${n}`, r) : plainFunction(`big_ioctl${n}`, r);
    parts.push(fn, '');
    count += fn.split('\n').length + 1;
    n++;
  }
  return parts.join('\n');
}
