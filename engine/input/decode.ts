// Turning input bytes into text we can analyze, or a one-line reason why not. Pure (no fs), so
// the server and a browser build can use it too.

/** Beyond this a file is refused with a clear error instead of risking a slow parse (issue 2). */
export const DEFAULT_MAX_INPUT_BYTES = 8 * 1024 * 1024;

export type Decoded = { ok: true; text: string } | { ok: false; message: string };

/** 1-based line and column of byte `offset` (for "invalid UTF-8 at line 3, column 7"). */
function lineColOfByte(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) if (bytes[i] === 10) { line++; lineStart = i + 1; }
  return { line, col: offset - lineStart + 1 };
}

/** Offset of the first byte that breaks UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= n) return i; // truncated sequence at the end
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Decode a file's bytes. Refuses binary data (a NUL byte: no C source or patch has one) and
 * bytes that are not UTF-8, naming where the first bad byte is. A UTF-8 byte-order mark is
 * replaced by a space, which keeps every offset and column where the editor has them.
 */
export function decodeInput(bytes: Uint8Array, maxBytes = DEFAULT_MAX_INPUT_BYTES, checked = false): Decoded {
  if (bytes.length > maxBytes) {
    return { ok: false, message: `file too large (${bytes.length} bytes; the limit is ${maxBytes} bytes, set FAULTLINE_MAX_FILE_BYTES to change it)` };
  }
  // `checked`: the caller found no NUL byte and valid UTF-8 already (the CLI's native checks);
  // the byte-by-byte scan below was 1% of a whole-tree run.
  if (checked) return decodedText(bytes);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line, col } = lineColOfByte(bytes, nul);
    return { ok: false, message: `binary file (NUL byte at line ${line}, column ${col}), not C source or a patch` };
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const { line, col } = lineColOfByte(bytes, bad);
    return { ok: false, message: `not valid UTF-8 (byte 0x${bytes[bad].toString(16).padStart(2, '0')} at line ${line}, column ${col}); convert it to UTF-8 first` };
  }
  return decodedText(bytes);
}

const utf8 = new TextDecoder('utf-8');

function decodedText(bytes: Uint8Array): Decoded {
  let text = utf8.decode(bytes);
  // TextDecoder drops a leading BOM; a space takes its one UTF-16 unit so offsets match the editor's.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) text = ' ' + text;
  return { ok: true, text };
}

const C_EXT = /\.(c|h)$/i;
const PATCH_EXT = /\.(patch|diff|mbox|mbx|eml)$/i;

/** Extensions the directory walk picks up (engine.ts `inputKindOf` decides C vs patch). */
export function isCheckablePath(p: string): boolean {
  return C_EXT.test(p) || PATCH_EXT.test(p);
}
