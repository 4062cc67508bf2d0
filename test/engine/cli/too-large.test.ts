// A C file over the size limit (FAULTLINE_MAX_FILE_BYTES) that names no API of interest counts as
// checked (no error): the byte prefilter streams it in chunks (engine/cli/check-file.ts,
// namesNothing). Anything it cannot rule out keeps the "file too large" error: a name anywhere
// (also across a chunk boundary), a NUL byte, bytes that are not UTF-8, a patch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../../engine/engine';
import { tablePrefilter } from '../../../engine/cli/prefilter';
import { checkFile, type FileContext, type FileOutcome } from '../../../engine/cli/check-file';

/** The streaming chunk of check-file.ts (1 MiB): the interesting bytes are put across it. */
const CHUNK = 1 << 20;
const LIMIT = 4096;

function ctx(): FileContext {
  const engine = (): Engine => { throw new Error('a file over the limit is never analyzed'); };
  return { engine, opts: { cwd: '/', limit: LIMIT, budgetMs: 600_000, prefilter: true, hash: false }, prefilter: tablePrefilter(), readBase: undefined };
}

/** About `size` bytes of plain kernel-style C that names no API of interest. */
function filler(size: number): Buffer {
  const line = 'static int quiet_helper(int a) { return a + 1; } /* nothing to see */\n';
  return Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size), 'latin1');
}

/** `body` with `insert` written so that it starts `before` bytes before the chunk boundary. */
function across(body: Buffer, insert: Buffer, before: number): Buffer {
  return Buffer.concat([body.subarray(0, CHUNK - before), insert, body.subarray(CHUNK - before)]);
}

function outcome(dir: string, name: string, bytes: Buffer): FileOutcome {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return checkFile(ctx(), { index: 0, path, explicit: true });
}

const tooLarge = (o: FileOutcome): boolean => o.k === 'failure' && /^file too large \(\d+ bytes; the limit is 4096 bytes/.test(o.message);

test('too large: silent C text counts as checked; a name (also across a chunk boundary), NUL, bad UTF-8 or a patch keep the error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-too-large-'));
  try {
    const body = filler(CHUNK * 2 + 12345);
    assert.deepEqual(outcome(dir, 'quiet.h', body), { k: 'clean', prefiltered: true });
    // Small files: the ordinary path (read whole) is unchanged.
    assert.deepEqual(outcome(dir, 'small.h', filler(LIMIT - 100)), { k: 'clean', prefiltered: true });
    for (const before of [0, 1, 7, 13, 40]) {
      const named = outcome(dir, 'named.c', across(body, Buffer.from('get_user_pages_fast'), before));
      assert.ok(tooLarge(named), `a name ${before} bytes before the chunk boundary: ${JSON.stringify(named)}`);
    }
    assert.ok(tooLarge(outcome(dir, 'marked.c', across(body, Buffer.from('/* @faultline suppress gup-leak: x */'), 5))));
    assert.ok(tooLarge(outcome(dir, 'end.c', Buffer.concat([body, Buffer.from('pin_user_pages')]))), 'a name in the last bytes');
    // Multi-byte UTF-8 across the boundary is valid text; a stray byte or a cut sequence is not.
    for (const before of [0, 1, 2, 3]) {
      assert.deepEqual(outcome(dir, 'utf8.c', across(body, Buffer.from('/* caf\u00e9 \u{1f427} */'), before + 6)), { k: 'clean', prefiltered: true }, `UTF-8 at ${before}`);
      assert.deepEqual(outcome(dir, 'penguin.c', across(body, Buffer.from('\u{1f427}'), before)), { k: 'clean', prefiltered: true }, `4-byte sequence at ${before}`);
    }
    assert.ok(tooLarge(outcome(dir, 'latin1.c', across(body, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20]), 4))));
    assert.ok(tooLarge(outcome(dir, 'cut.c', Buffer.concat([body, Buffer.from([0xf0, 0x9f, 0x90])]))), 'a sequence cut at the end of the file');
    assert.ok(tooLarge(outcome(dir, 'nul.c', across(body, Buffer.from([0]), 1))));
    assert.ok(tooLarge(outcome(dir, 'big.patch', body)), 'patches are not prefiltered');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
