// One file of `faultline check`, from its path to its outcome: the same function runs in the main
// thread (serial runs, tests) and in the worker threads (engine/cli/pool.ts), so both give the
// same result for the same file.
//
// Order of the cheap steps, each of which can end the file's work:
//   open without blocking, fstat (a FIFO found by the walk is skipped, never read);
//   size limit, NUL byte, UTF-8 validity (native checks; failures keep the exact messages of
//   engine/input: the rare path goes through readInputFile / decodeInput);
//   the byte prefilter (engine/cli/prefilter.ts): nothing can be reported, so no decode, parse
//   or lowering (and no cache entry: ruling the file out again costs what hashing it would);
//   content hash, compared with the cached one (engine/cli/cache.ts);
// and only then decode and analyze.

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import * as buffer from 'node:buffer';
import { isAbsolute, join, resolve } from 'node:path';
import { kindOfExtension, type Engine } from '../engine';
import type { InputProblem, Finding } from '../findings';
import type { PatchTarget } from '../patch/analyze';
import { decodeInput, firstInvalidUtf8, type Decoded } from '../input/decode';
import { readInputFile } from '../input/files';
import { treeRootVersion, treeVersionOf } from '../input/tree-version';
import type { Prefilter } from './prefilter';
import { fileTypeName } from './walk';

/** What every file of one run shares (plain data: it is sent to the workers). */
export interface CheckOptions {
  rules?: string[];
  arch?: string;
  kernel?: string;
  /** `--tree DIR`, absolute. */
  tree?: string;
  cwd: string;
  /** Input size limit in bytes (FAULTLINE_MAX_FILE_BYTES). */
  limit: number;
  /** Per-file time budget in ms (FAULTLINE_FILE_BUDGET_MS). */
  budgetMs: number;
  /** Use the byte prefilter (off only to prove that it changes nothing). */
  prefilter: boolean;
  /** Compute content hashes (the cache is on). */
  hash: boolean;
}

export interface FileJob {
  /** Position in the run's file list (outcomes are put back in this order). */
  index: number;
  /** As printed; `-` for stdin. */
  path: string;
  explicit: boolean;
  /** The content hash this path had in the cache, if any. */
  cachedHash?: string;
  /** Stdin, already read by the main thread. */
  stdin?: Decoded;
}

/** A file's result without its printed path (what the cache stores). */
export interface FileResult {
  kind: 'c' | 'patch';
  findings: Finding[];
  problems: InputProblem[];
  targets?: (PatchTarget | undefined)[];
  /** Patch input: how many patches it holds (a series when more than one). */
  patches?: number;
}

export type FileOutcome =
  /** Nothing to report (C): the prefilter ruled it out, or the analysis found nothing. */
  | { k: 'clean'; hash?: string; prefiltered?: boolean }
  | { k: 'report'; result: FileResult; hash?: string; cacheable: boolean }
  /** Same content as the cached entry: reuse it. */
  | { k: 'cached' }
  /** Not read or not analyzed; `internal` when the engine threw (the worker starts afresh). */
  | { k: 'failure'; message: string; internal?: boolean }
  | { k: 'skipped'; what: string };

const isUtf8: (b: Uint8Array) => boolean =
  typeof (buffer as { isUtf8?: unknown }).isUtf8 === 'function'
    ? (b) => (buffer as unknown as { isUtf8(b: Uint8Array): boolean }).isUtf8(b)
    : (b) => firstInvalidUtf8(b) < 0;

/**
 * One read buffer per thread, reused from file to file: a tree of 55,000 files would otherwise
 * allocate (and garbage-collect) a buffer per file. The bytes returned are valid until the next
 * read; nothing keeps them (decoding copies into a string).
 */
let scratch: Buffer = Buffer.allocUnsafe(1 << 20);

function readAll(fd: number, sizeHint: number, limit: number): Buffer {
  if (scratch.length < sizeHint + 1) scratch = Buffer.allocUnsafe(Math.max(sizeHint + 1, scratch.length * 2));
  let n = 0;
  // A regular file's size is exact: once that many bytes are in, the read that would return 0
  // (end of file) is not made (one system call less per file: 55,000 on a kernel tree). A file
  // that grows meanwhile is read as it was when it was opened.
  while (sizeHint === 0 || n < sizeHint) {
    if (n === scratch.length) {
      const bigger = Buffer.allocUnsafe(scratch.length * 2);
      scratch.copy(bigger, 0, 0, n);
      scratch = bigger;
    }
    const got = readSync(fd, scratch, n, scratch.length - n, null);
    if (got <= 0) break;
    n += got;
    // A file growing while it is read: past the limit, decodeInput refuses it.
    if (n > limit) break;
  }
  return scratch.subarray(0, n);
}

type Bytes = { bytes: Buffer } | { decoded: Decoded } | { skipped: string } | { silent: true };

const STREAM_CHUNK = 1 << 20;

/**
 * A file over the size limit is never decoded or parsed, but the byte prefilter can still rule it
 * out: streamed in chunks (so memory stays flat whatever its size), it is valid UTF-8 without a
 * NUL byte (what decodeInput would accept, were it not too large) and names no API of interest.
 * Then nothing could be reported on it had it been analyzed: the file counts as checked, with no
 * error (Linux 6.1 has ten amdgpu register headers of 8 to 24 MB, none of which names an API).
 * Chunks overlap by the longest name's length minus one, so a name split by a chunk boundary is
 * still seen; the UTF-8 check cuts each piece before a lead byte, which keeps every sequence in
 * one piece. Any doubt (a read error, a name, a NUL, bad UTF-8) returns false: the caller then
 * reports the file as too large, as before.
 */
function namesNothing(fd: number, prefilter: Prefilter): boolean {
  const overlap = Math.max(1, ...prefilter.names.map((n) => n.length)) - 1;
  const buf = Buffer.allocUnsafe(STREAM_CHUNK + overlap + 8);
  // buf[0, keep): the end of the previous window, kept for names that straddle the boundary;
  // its last `pending` bytes (an unfinished UTF-8 sequence) are not validated yet.
  let keep = 0;
  let pending = 0;
  for (;;) {
    let got: number;
    try { got = readSync(fd, buf, keep, STREAM_CHUNK, null); } catch { return false; }
    if (got <= 0) break;
    const end = keep + got;
    if (prefilter.mayReport(buf.subarray(0, end))) return false;
    if (buf.subarray(keep, end).indexOf(0) >= 0) return false;
    // Validate [from, cut): cut goes before the last lead byte of a multi-byte sequence that
    // may be unfinished (at most 4 bytes from the end); the rest waits for the next chunk.
    const from = keep - pending;
    let j = end;
    while (j > from && end - j < 4 && (buf[j - 1] & 0xc0) === 0x80) j--;
    const cut = j > from && buf[j - 1] >= 0xc0 ? j - 1 : end;
    if (!isUtf8(buf.subarray(from, cut))) return false;
    pending = end - cut;
    const carry = Math.min(end, Math.max(overlap, pending));
    buf.copy(buf, 0, end - carry, end);
    keep = carry;
  }
  return pending === 0 || isUtf8(buf.subarray(keep - pending, keep));
}

/**
 * Read a file's bytes. Never blocks on a FIFO the walk found (opened non-blocking, then fstat);
 * anything unusual (an error, a named pipe the user asked for, a size over the limit) goes
 * through readInputFile so the messages are the usual ones.
 */
function readBytes(abs: string, explicit: boolean, limit: number, prefilter?: Prefilter): Bytes {
  let fd: number | undefined;
  try {
    fd = openSync(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return { decoded: readInputFile(abs, limit) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      if (!explicit && !st.isDirectory()) return { skipped: fileTypeName(st) };
      closeSync(fd);
      fd = undefined;
      return { decoded: readInputFile(abs, limit) };
    }
    if (st.size > limit) {
      if (prefilter && namesNothing(fd, prefilter)) return { silent: true };
      closeSync(fd);
      fd = undefined;
      return { decoded: readInputFile(abs, limit) };
    }
    return { bytes: readAll(fd, st.size, limit) };
  } catch {
    if (fd !== undefined) { try { closeSync(fd); } catch { /* closed */ } fd = undefined; }
    return { decoded: readInputFile(abs, limit) };
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* closed */ }
  }
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('base64');
}

/** The tree reader for `--tree` (patch paths never climb out of the tree). */
export function treeReader(tree: string | undefined, limit: number): ((p: string) => string | undefined) | undefined {
  if (tree === undefined) return undefined;
  return (p: string) => {
    if (isAbsolute(p) || p.split('/').includes('..')) return undefined;
    const d = readInputFile(join(tree, p), limit);
    return d.ok ? d.text : undefined;
  };
}

export interface FileContext {
  engine: () => Engine;
  opts: CheckOptions;
  prefilter: Prefilter | undefined;
  readBase: ((p: string) => string | undefined) | undefined;
}

export function checkFile(ctx: FileContext, job: FileJob): FileOutcome {
  const { opts } = ctx;
  const isStdin = job.path === '-';
  let decoded: Decoded | undefined;
  let hash: string | undefined;
  const pathKind = isStdin ? undefined : kindOfExtension(job.path);
  // The kernel version: --kernel, else the tree's own (--tree, or the top-level Makefile above the
  // file). It changes results, so it is part of the cached content key. Looked up only for a file
  // that gets that far: the lookup stats the path, and 98% of a kernel tree's files end at the
  // prefilter (55,000 stat calls were 2-3% of a whole-tree run).
  let kernelLooked = false;
  let kernelVersion: string | undefined;
  const kernelOf = (): string | undefined => {
    if (!kernelLooked) {
      kernelLooked = true;
      kernelVersion = opts.kernel ?? (opts.tree !== undefined ? treeRootVersion(opts.tree) : isStdin ? undefined : treeVersionOf(resolve(opts.cwd, job.path)))?.version;
    }
    return kernelVersion;
  };
  if (isStdin) {
    decoded = job.stdin ?? { ok: false, message: 'stdin was not read' };
  } else {
    const got = readBytes(resolve(opts.cwd, job.path), job.explicit, opts.limit, pathKind === 'c' ? ctx.prefilter : undefined);
    if ('skipped' in got) return { k: 'skipped', what: got.skipped };
    // Over the size limit, but valid text that names no API of interest: nothing to report.
    if ('silent' in got) return { k: 'clean', prefiltered: true };
    if ('decoded' in got) decoded = got.decoded;
    else {
      const bytes = got.bytes;
      if (bytes.indexOf(0) >= 0 || !isUtf8(bytes)) decoded = decodeInput(bytes, opts.limit);
      else {
        // The prefilter first: it is about as fast as hashing, and a file it rules out needs no
        // cache entry (the next run rules it out again for the same price).
        if (pathKind === 'c' && ctx.prefilter && !ctx.prefilter.mayReport(bytes)) return { k: 'clean', prefiltered: true };
        if (opts.hash) {
          const kernel = kernelOf();
          hash = contentHash(bytes) + (kernel ? `@${kernel}` : '');
          if (hash === job.cachedHash) return { k: 'cached' };
        }
        decoded = decodeInput(bytes, opts.limit, true);
      }
    }
  }
  if (!decoded.ok) return { k: 'failure', message: decoded.message };
  const deadline = Date.now() + opts.budgetMs;
  const cancelled = () => Date.now() > deadline;
  let result: FileResult;
  try {
    const res = ctx.engine().analyze(decoded.text, {
      path: isStdin ? '' : job.path, rules: opts.rules, arch: opts.arch, kernel: kernelOf(), cancelled, readBase: ctx.readBase, skipIrrelevant: true,
    });
    res.tree?.delete();
    result = { kind: res.kind, findings: res.findings, problems: [...res.problems] };
    if (res.targets) result.targets = res.targets;
    if (res.patches !== undefined) result.patches = res.patches;
  } catch (e) {
    // One file that trips the engine must not hide the others' results.
    return { k: 'failure', message: `internal error while analyzing: ${(e as Error)?.message ?? e}`, internal: true };
  }
  const timedOut = cancelled();
  if (timedOut) result.problems.push({ severity: 'error', message: `analysis stopped after ${opts.budgetMs} ms (FAULTLINE_FILE_BUDGET_MS); results for this file may be incomplete` });
  if (result.kind === 'c' && !result.findings.length && !result.problems.length && !result.targets) return { k: 'clean', hash: timedOut ? undefined : hash };
  // A patch checked against --tree depends on other files than itself: never cached.
  const cacheable = !timedOut && !isStdin && hash !== undefined && !(result.kind === 'patch' && opts.tree !== undefined);
  return { k: 'report', result, hash: cacheable ? hash : undefined, cacheable };
}
