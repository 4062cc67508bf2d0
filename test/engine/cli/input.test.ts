import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeInput, firstInvalidUtf8, isCheckablePath } from '../../../engine/input/decode';

const bytes = (...xs: number[]) => Uint8Array.from(xs);

test('UTF-8 validation: valid multi-byte text passes; overlong, surrogate, truncated and stray bytes fail', () => {
  assert.equal(firstInvalidUtf8(new TextEncoder().encode('int café = 1; /* 🐧 */\n')), -1);
  assert.equal(firstInvalidUtf8(bytes(0x61, 0xc0, 0x80)), 1, 'overlong NUL');
  assert.equal(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80)), 0, 'UTF-16 surrogate');
  assert.equal(firstInvalidUtf8(bytes(0x61, 0x62, 0xe2, 0x82)), 2, 'truncated at the end');
  assert.equal(firstInvalidUtf8(bytes(0x80)), 0, 'stray continuation byte');
  assert.equal(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80)), 0, 'beyond U+10FFFF');
});

test('decodeInput: BOM keeps offsets, NUL is binary, limits apply', () => {
  const withBom = decodeInput(bytes(0xef, 0xbb, 0xbf, 0x69, 0x6e, 0x74));
  assert.deepEqual(withBom, { ok: true, text: ' int' });
  const bin = decodeInput(bytes(0x61, 0x0a, 0x62, 0x00));
  assert.equal(bin.ok, false);
  assert.match((bin as { message: string }).message, /binary file \(NUL byte at line 2, column 2\)/);
  const latin1 = decodeInput(bytes(0x0a, 0x0a, 0x20, 0xe9, 0x0a));
  assert.match((latin1 as { message: string }).message, /not valid UTF-8 \(byte 0xe9 at line 3, column 2\)/);
  const big = decodeInput(new Uint8Array(100), 10);
  assert.match((big as { message: string }).message, /file too large \(100 bytes; the limit is 10 bytes/);
  assert.deepEqual(decodeInput(new Uint8Array(0)), { ok: true, text: '' });
});

test('checkable paths for the directory walk', () => {
  for (const p of ['a.c', 'b.h', 'x.patch', 'x.diff', 'x.mbox', 'x.mbx', 'x.eml', 'UPPER.C']) assert.ok(isCheckablePath(p), p);
  for (const p of ['a.txt', 'Makefile', 'a.cc', 'a.c.orig', 'x.o']) assert.ok(!isCheckablePath(p), p);
});
