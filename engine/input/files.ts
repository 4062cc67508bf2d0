// Reading the CLI's inputs from disk and stdin (Node only; the server gets text from the editor).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { decodeInput, DEFAULT_MAX_INPUT_BYTES, type Decoded } from './decode';

export interface InputError {
  /** The path as the user named it (or as the walk built it); `<stdin>` for `-`. */
  path: string;
  message: string;
}

export function maxInputBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.FAULTLINE_MAX_FILE_BYTES);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_MAX_INPUT_BYTES;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied (cannot read it)';
    case 'EISDIR': return 'is a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    default: return err?.message ?? String(e);
  }
}

/**
 * Read a file, refusing huge ones before reading them (a multi-gigabyte file must not hang
 * the check or exhaust memory).
 */
export function readInputFile(path: string, maxBytes = maxInputBytes()): Decoded {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) return { ok: false, message: 'is a directory' };
    if (st.isFile() && st.size > maxBytes) {
      return { ok: false, message: `file too large (${st.size} bytes; the limit is ${maxBytes} bytes, set FAULTLINE_MAX_FILE_BYTES to change it)` };
    }
    // Read up to the limit + 1 (a FIFO or /proc file has no size) and let decode refuse more.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      if (buf.length === 0) break;
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got <= 0) break;
      chunks.push(buf.subarray(0, got));
      total += got;
    }
    return decodeInput(Buffer.concat(chunks, total), maxBytes);
  } catch (e) {
    return { ok: false, message: reason(e) };
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already closed */ }
  }
}

/** Read all of stdin (b4 pipes each patch), with the same size limit. */
export function readStdin(stream: NodeJS.ReadableStream = process.stdin, maxBytes = maxInputBytes()): Promise<Decoded> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (d: Decoded) => { if (!done) { done = true; resolve(d); } };
    stream.on('data', (c: Buffer | string) => {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      total += b.length;
      if (total > maxBytes) {
        finish({ ok: false, message: `input too large (more than ${maxBytes} bytes; set FAULTLINE_MAX_FILE_BYTES to change the limit)` });
        (stream as NodeJS.ReadStream).destroy?.();
        return;
      }
      chunks.push(b);
    });
    stream.on('end', () => finish(decodeInput(Buffer.concat(chunks), maxBytes)));
    stream.on('error', (e) => finish({ ok: false, message: reason(e) }));
  });
}
