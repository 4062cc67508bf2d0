// Fault-window hover and the Simulate lens helper: the numbers a reviewer reads in five seconds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultWindowHover, simulateLenses } from '../../../engine/explain/fault-window';
import { fixture, lineOf, lower } from './helpers';

async function hoverAt(text: string, needle: string, kernel?: string) {
  const { file } = await lower(text);
  const row = lineOf(text, needle) - 1;
  const col = text.split('\n')[row].indexOf(needle);
  return faultWindowHover(file, row, col, kernel ? { kernel } : {});
}

test('hover on the copy: per-profile window and whether the fault-in covers it, with numbers', async () => {
  const text = fixture('uaccess-livelock/search-records-rewind.c');
  const h = await hoverAt(text, 'copy_to_user_nofault(ubuf + *sk_offset, demo_leaf_data');
  assert.ok(h);
  const md = h!.markdown;
  assert.match(md, /Fault window of `copy_to_user_nofault\(\)`/);
  assert.match(md, /\*\*x86_64\*\*: copy stops exactly at the faulting byte/);
  assert.match(md, /\*\*arm64\*\*: copy may stop up to 15 bytes before the faulting byte/);
  assert.match(md, /\*\*arm64-mte\*\*:.*16-byte granule.*covers: no: a tag mismatch between probes \(up to 255 granules per page\)/);
  assert.match(md, /\*\*x86_64\*\*:.*covers: yes/);
  assert.match(md, /fault_in_writeable\(ubuf \+ sk_offset, buf_size - sk_offset\)/);
  assert.ok(md.split('\n').length <= 8, 'a few lines');
});

test('hover on the fault-in: sub-page probing covers arm64-mte from v5.19 only', async () => {
  const text = fixture('uaccess-livelock/search-records-subpage.c');
  const now = (await hoverAt(text, 'fault_in_subpage_writeable(ubuf'))!.markdown;
  assert.match(now, /returns the bytes NOT faulted in/);
  assert.match(now, /\*\*arm64-mte\*\*:.*1 byte per 16-byte granule \(256 per page\).*covers: yes/);
  const old = (await hoverAt(text, 'fault_in_subpage_writeable(ubuf', 'v5.18'))!.markdown;
  assert.match(old, /\*\*arm64-mte\*\*:.*covers: no/);
});

test('hover on the loop head, a fixed fault-in start, the old result convention; nothing elsewhere', async () => {
  const text = fixture('fault-in-no-fault-address/restart-from-start.c');
  const head = (await hoverAt(text, 'while (done < len)'))!.markdown;
  assert.match(head, /Fault-in retry loop/);
  assert.match(head, /Progress: `done`/);
  assert.match(head, /covers: no: the fault-in starts at a fixed point/);
  const old = (await hoverAt(fixture('fault-in-result-ignored/old-api-compared.c'), 'fault_in_pages_writeable(ubuf'))!.markdown;
  assert.match(old, /returns 0 or -EFAULT/);
  assert.equal(await hoverAt(text, 'size_t done = 0;'), undefined);
});

test('Simulate lens: only functions holding a fault-in retry loop', async () => {
  const { file } = await lower(`${fixture('uaccess-livelock/search-records-rewind.c')}\nstatic int plain(int x) { return x; }\n`);
  const lenses = simulateLenses(file);
  assert.deepEqual(lenses.map((l) => l.function), ['demo_search_ioctl']);
  assert.match(lenses[0].loops[0].label, /the while loop at line \d+/);
});
