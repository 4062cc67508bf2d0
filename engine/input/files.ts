// Reading the CLI's inputs from disk and stdin (Node only; the server gets text from the editor).

import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeInput, DEFAULT_MAX_INPUT_BYTES, isCheckablePath, type Decoded } from './decode';

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

export interface Expanded {
  /** Files to check, in order: each argument in turn, directories walked sorted. */
  files: string[];
  errors: InputError[];
}

/**
 * Expand the PATH arguments: files as named (any extension: the content is sniffed), `-` kept
 * as is, directories walked recursively in sorted order, keeping only .c/.h/.patch/.diff/.mbox/
 * .eml, skipping hidden directories and node_modules, not following symlinked directories
 * (a link cycle must not hang the walk).
 */
export function expandPaths(args: string[], opts: { maxFiles?: number; cwd?: string } = {}): Expanded {
  const cwd = opts.cwd ?? process.cwd();
  const abs = (p: string) => resolve(cwd, p);
  const files: string[] = [];
  const errors: InputError[] = [];
  const maxFiles = opts.maxFiles ?? 1_000_000;
  const walk = (dir: string, depth: number) => {
    if (depth > 64) { errors.push({ path: dir, message: 'directory nesting deeper than 64 levels; not walked further' }); return; }
    let names: string[];
    try {
      names = readdirSync(abs(dir)).sort();
    } catch (e) {
      errors.push({ path: dir, message: reason(e) });
      return;
    }
    for (const name of names) {
      if (files.length >= maxFiles) return;
      const p = join(dir, name);
      let st;
      try { st = lstatSync(abs(p)); } catch (e) { errors.push({ path: p, message: reason(e) }); continue; }
      if (st.isDirectory()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        walk(p, depth + 1);
      } else if (isCheckablePath(name)) {
        if (st.isSymbolicLink()) {
          try { if (!statSync(abs(p)).isFile()) continue; } catch (e) { errors.push({ path: p, message: reason(e) }); continue; }
        }
        files.push(p);
      }
    }
  };
  for (const a of args) {
    if (a === '-') { files.push(a); continue; }
    let st;
    try { st = statSync(abs(a)); } catch (e) { errors.push({ path: a, message: reason(e) }); continue; }
    if (st.isDirectory()) walk(a, 0);
    else files.push(a);
  }
  return { files, errors };
}
