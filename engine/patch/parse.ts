// Unified diff / git format-patch / mbox (b4 output) -> patches, files, hunks, with a line map
// back to the patch text. Never throws: a broken patch yields what could be read plus problems
// (a truncated hunk, header counts that disagree with the lines, a binary patch...).
//
// Rows here are 0-based rows of the patch text as the caller gave it (CRLF or LF); file line
// numbers (`oldLine`, `newLine`) are 1-based, as in the hunk headers.

import type { InputProblem } from '../findings';
import { splitLines, lineProblem } from './lines';

export type HunkLineKind = 'context' | 'added' | 'removed';

export interface HunkLine {
  kind: HunkLineKind;
  /** The line without its one-character diff prefix and without the line terminator. */
  text: string;
  /** 0-based row of this line in the patch text. */
  patchRow: number;
  /** 1-based line in the pre-image (context and removed lines). */
  oldLine?: number;
  /** 1-based line in the post-image (context and added lines). */
  newLine?: number;
  /** Followed by `\ No newline at end of file`. */
  noNewline?: boolean;
}

export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  /** The text git puts after the second `@@` (usually the enclosing function's first line). */
  section: string;
  /** 0-based row of the `@@` line. */
  headerRow: number;
  lines: HunkLine[];
  /** Set when the hunk ended before its header counts were used up (truncated patch). */
  truncated?: boolean;
}

export type FileStatus = 'modified' | 'added' | 'deleted' | 'renamed' | 'copied';

export interface FilePatch {
  /** Path before the change, without the `a/` prefix; undefined for a new file. */
  oldPath?: string;
  /** Path after the change, without the `b/` prefix; undefined for a deleted file. */
  newPath?: string;
  status: FileStatus;
  /** A `GIT binary patch` or `Binary files ... differ`: nothing to analyze. */
  binary: boolean;
  /** 0-based row of the `diff --git` (or `---`) line that starts this file. */
  headerRow: number;
  hunks: Hunk[];
}

export interface Patch {
  /** `Subject:` of the mail (decoded, unfolded), or undefined for a bare diff. */
  subject?: string;
  from?: string;
  /** 0-based row where this patch (mail or diff) starts in the text. */
  startRow: number;
  /** 0-based row one past its last line. */
  endRow: number;
  files: FilePatch[];
}

export interface PatchSet {
  patches: Patch[];
  problems: InputProblem[];
  /** Row start offsets of the text (UTF-16), for mapping rows back to offsets. */
  lineStarts: number[];
}

/** Does this text look like a patch rather than C? (used when the extension does not tell). */
export function looksLikePatch(text: string): boolean {
  const head = text.slice(0, 4096).replace(/^\uFEFF/, '');
  if (/^(From |diff --git |--- |Index: )/.test(head)) return true;
  // A mail without the mbox separator: headers then a diff.
  return /^(Subject|From|Date|Message-I[Dd]|Return-Path|Received): /m.test(head.split(/\r?\n\r?\n/)[0] ?? '') &&
    /^diff --git |^--- \S/m.test(text);
}

const MAIL_HEADER = /^[A-Za-z][A-Za-z0-9-]*:( |\t|$)/;

interface Message {
  startRow: number;
  endRow: number;
  headers: Map<string, string>;
  /** Rows of the body; `bodyText` holds the decoded lines when a transfer encoding applied. */
  bodyStartRow: number;
  decodedBody?: string[];
}

/**
 * Split the text into messages. An mbox separates mails with `From ` lines; we only take a
 * `From ` line as a separator when mail headers follow it, so a commit message line starting
 * with "From " does not split a mail.
 */
function splitMessages(lines: string[]): Message[] {
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('From ') && i + 1 < lines.length && MAIL_HEADER.test(lines[i + 1])) starts.push(i);
  }
  if (starts.length === 0) {
    // A single mail without mbox separator (.eml, `git format-patch --stdout | tail`), or a bare diff.
    const isMail = lines.length > 0 && MAIL_HEADER.test(lines[0]) && !lines[0].startsWith('diff') &&
      !/^Index: /.test(lines[0]);
    if (isMail) return [readMessage(lines, 0, lines.length, 0)];
    return [{ startRow: 0, endRow: lines.length, headers: new Map(), bodyStartRow: 0 }];
  }
  const msgs: Message[] = [];
  // Text before the first separator (rare): treat it as a bare diff of its own.
  if (starts[0] > 0 && lines.slice(0, starts[0]).some((l) => l.trim() !== '')) {
    msgs.push({ startRow: 0, endRow: starts[0], headers: new Map(), bodyStartRow: 0 });
  }
  for (let k = 0; k < starts.length; k++) {
    const end = k + 1 < starts.length ? starts[k + 1] : lines.length;
    msgs.push(readMessage(lines, starts[k], end, starts[k] + 1));
  }
  return msgs;
}

function readMessage(lines: string[], start: number, end: number, headerStart: number): Message {
  const headers = new Map<string, string>();
  let i = headerStart;
  let last: string | undefined;
  for (; i < end; i++) {
    const l = lines[i];
    if (l === '') { i++; break; }
    if ((l.startsWith(' ') || l.startsWith('\t')) && last) {
      headers.set(last, headers.get(last)! + ' ' + l.trim()); // RFC 5322 folding
      continue;
    }
    const m = /^([A-Za-z][A-Za-z0-9-]*):\s?(.*)$/.exec(l);
    if (!m) break; // not a header: the body starts here (broken mail)
    last = m[1].toLowerCase();
    if (!headers.has(last)) headers.set(last, m[2]);
  }
  const msg: Message = { startRow: start, endRow: end, headers, bodyStartRow: i };
  const cte = (headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (cte === 'quoted-printable' || cte === 'base64') {
    // Decoded bodies lose the one-to-one row map; rows of a decoded line map to the first
    // encoded row it came from (good enough to point a reviewer at the spot).
    msg.decodedBody = cte === 'base64' ? decodeBase64Body(lines.slice(i, end)) : decodeQuotedPrintable(lines.slice(i, end));
  }
  return msg;
}

// Byte-level decoding without Node's Buffer: the engine also runs in a browser.
const utf8 = new TextDecoder('utf-8');

function base64Bytes(data: string): Uint8Array {
  try {
    const bin = atob(data.replace(/[^A-Za-z0-9+/=]/g, ''));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return new Uint8Array(0);
  }
}

/** `=XX` escapes to bytes; other characters as their UTF-8 bytes; `_` as space when `underscore`. */
function qpBytes(s: string, underscore: boolean): Uint8Array {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    const h = s.slice(i + 1, i + 3);
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(h)) { bytes.push(parseInt(h, 16)); i += 2; }
    else if (underscore && s[i] === '_') bytes.push(0x20);
    else bytes.push(...enc.encode(s[i]));
  }
  return Uint8Array.from(bytes);
}

function decodeQuotedPrintable(lines: string[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const l of lines) {
    const soft = l.endsWith('=');
    cur += (soft ? l.slice(0, -1) : l);
    if (!soft) { out.push(cur); cur = ''; }
  }
  if (cur) out.push(cur);
  return out.map((s) => utf8.decode(qpBytes(s, false)));
}

function decodeBase64Body(lines: string[]): string[] {
  return utf8.decode(base64Bytes(lines.join(''))).split(/\r?\n/);
}

/** RFC 2047 encoded words in Subject/From (`=?UTF-8?q?...?=`). */
function decodeHeader(v: string): string {
  return v.replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=\s*(?==\?)?/g, (_m, _cs: string, enc: string, data: string) =>
    utf8.decode(enc.toLowerCase() === 'b' ? base64Bytes(data) : qpBytes(data, true)));
}

function stripPrefix(p: string, prefix: 'a/' | 'b/'): string {
  let s = p.trim();
  // `--- a/foo.c\t2019-04-16 12:00:00` (diff -u timestamps) and quoted names with spaces.
  const tab = s.indexOf('\t');
  if (tab >= 0) s = s.slice(0, tab);
  if (s.startsWith('"') && s.endsWith('"')) s = unquoteCPath(s.slice(1, -1));
  if (s === '/dev/null') return s;
  return s.startsWith(prefix) ? s.slice(2) : s;
}

function unquoteCPath(s: string): string {
  return s.replace(/\\([0-7]{3}|.)/g, (_m, c: string) =>
    c.length === 3 ? String.fromCharCode(parseInt(c, 8)) : c === 't' ? '\t' : c === 'n' ? '\n' : c);
}

function parseDiffGitNames(rest: string): { a?: string; b?: string } {
  // `diff --git a/x b/x`: the common case has identical names; split in the middle.
  const m = /^"?a\/(.+?)"? "?b\/(.+?)"?$/.exec(rest.trim());
  if (m) return { a: m[1], b: m[2] };
  const parts = rest.trim().split(' ');
  if (parts.length === 2) return { a: stripPrefix(parts[0], 'a/'), b: stripPrefix(parts[1], 'b/') };
  return {};
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

export interface ParseOptions {
  /** Stops long work (huge mbox) when the caller gives up. */
  cancelled?: () => boolean;
}

/** Parse a patch, a series of mails (mbox), or a bare unified diff. Never throws. */
export function parsePatchSet(text: string, opts: ParseOptions = {}): PatchSet {
  const { lines, lineStarts } = splitLines(text);
  const problems: InputProblem[] = [];
  const patches: Patch[] = [];
  const msgs = splitMessages(lines);
  for (const msg of msgs) {
    if (opts.cancelled?.()) {
      problems.push({ message: 'analysis cancelled before the end of the patch', severity: 'error' });
      break;
    }
    const patch: Patch = {
      subject: msg.headers.has('subject') ? decodeHeader(msg.headers.get('subject')!) : undefined,
      from: msg.headers.has('from') ? decodeHeader(msg.headers.get('from')!) : undefined,
      startRow: msg.startRow,
      endRow: msg.endRow,
      files: [],
    };
    let body: string[];
    let rowOf: (i: number) => number;
    if (msg.decodedBody) {
      body = msg.decodedBody;
      const first = msg.bodyStartRow;
      const span = Math.max(1, msg.endRow - first);
      rowOf = (i) => first + Math.min(span - 1, Math.floor((i * span) / Math.max(1, body.length)));
    } else {
      body = lines.slice(msg.bodyStartRow, msg.endRow);
      rowOf = (i) => msg.bodyStartRow + i;
    }
    parseDiffs(body, rowOf, patch, problems, lineStarts);
    patches.push(patch);
  }
  const withFiles = patches.filter((p) => p.files.length > 0);
  if (withFiles.length === 0) {
    problems.push({ message: 'no diff found in the patch input', severity: 'error' });
  }
  return { patches, problems, lineStarts };
}

function parseDiffs(body: string[], rowOf: (i: number) => number, patch: Patch, problems: InputProblem[],
  lineStarts: number[]): void {
  const at = (i: number) => lineProblem(lineStarts, rowOf(i));
  let file: FilePatch | undefined;
  let i = 0;
  const n = body.length;
  while (i < n) {
    const l = body[i];
    if (l.startsWith('diff --cc ') || l.startsWith('diff --combined ')) {
      // A merge commit's combined diff has two prefix columns; its hunks (`@@@`) are skipped.
      problems.push({ ...at(i), severity: 'info', message: `combined diff of a merge (${l.split(' ').slice(2).join(' ')}) not analyzed` });
      file = undefined;
      i++;
      while (i < n && !body[i].startsWith('diff --git ')) i++;
      continue;
    }
    if (l.startsWith('diff --git ')) {
      const names = parseDiffGitNames(l.slice('diff --git '.length));
      file = { oldPath: names.a, newPath: names.b, status: 'modified', binary: false, headerRow: rowOf(i), hunks: [] };
      patch.files.push(file);
      i++;
      // Extended header lines up to the first ---/+++/@@ or the next diff.
      while (i < n && !body[i].startsWith('diff --git ') && !body[i].startsWith('--- ') && !body[i].startsWith('@@ ')) {
        const h = body[i];
        if (h.startsWith('new file mode')) { file.status = 'added'; file.oldPath = undefined; }
        else if (h.startsWith('deleted file mode')) { file.status = 'deleted'; file.newPath = undefined; }
        else if (h.startsWith('rename from ')) { file.status = 'renamed'; file.oldPath = h.slice(12); }
        else if (h.startsWith('rename to ')) { file.status = 'renamed'; file.newPath = h.slice(10); }
        else if (h.startsWith('copy from ')) { file.status = 'copied'; file.oldPath = h.slice(10); }
        else if (h.startsWith('copy to ')) { file.status = 'copied'; file.newPath = h.slice(8); }
        else if (h === 'GIT binary patch' || (h.startsWith('Binary files ') && h.endsWith(' differ'))) {
          file.binary = true;
          problems.push({ ...at(i), severity: 'info',
            message: `binary patch for ${file.newPath ?? file.oldPath ?? 'a file'} not analyzed` });
          if (h === 'GIT binary patch') {
            // Skip the base85 payload: it runs until the next diff or the end of the mail.
            i++;
            while (i < n && !body[i].startsWith('diff --git ') && body[i] !== '-- ') i++;
            break;
          }
        } else if (!/^(index |old mode |new mode |similarity index |dissimilarity index |Binary )/.test(h) && h.trim() !== '') {
          break;
        }
        i++;
      }
      continue;
    }
    if (l.startsWith('--- ') && i + 1 < n && body[i + 1].startsWith('+++ ')) {
      const a = stripPrefix(l.slice(4), 'a/');
      const b = stripPrefix(body[i + 1].slice(4), 'b/');
      if (!file || file.hunks.length > 0 || file.binary) {
        // A plain `diff -u` (no `diff --git` line) starts a file here.
        file = { oldPath: a, newPath: b, status: 'modified', binary: false, headerRow: rowOf(i), hunks: [] };
        patch.files.push(file);
      }
      if (a === '/dev/null') { file.status = 'added'; file.oldPath = undefined; } else if (!file.oldPath) file.oldPath = a;
      if (b === '/dev/null') { file.status = 'deleted'; file.newPath = undefined; } else if (!file.newPath) file.newPath = b;
      i += 2;
      continue;
    }
    const hm = HUNK_HEADER.exec(l);
    if (hm) {
      if (!file) {
        problems.push({ ...at(i), severity: 'error', message: 'hunk without a file header (no `diff --git` or `---`/`+++` lines before it)' });
        file = { status: 'modified', binary: false, headerRow: rowOf(i), hunks: [] };
        patch.files.push(file);
      }
      i = readHunk(body, i, hm, rowOf, file, problems, at);
      continue;
    }
    i++;
  }
}

function readHunk(body: string[], i: number, hm: RegExpExecArray, rowOf: (i: number) => number, file: FilePatch,
  problems: InputProblem[], at: (i: number) => { range?: InputProblem['range'] }): number {
  const hunk: Hunk = {
    oldStart: Number(hm[1]),
    oldCount: hm[2] === undefined ? 1 : Number(hm[2]),
    newStart: Number(hm[3]),
    newCount: hm[4] === undefined ? 1 : Number(hm[4]),
    section: hm[5] ?? '',
    headerRow: rowOf(i),
    lines: [],
  };
  file.hunks.push(hunk);
  const headerIndex = i;
  let oldLeft = hunk.oldCount;
  let newLeft = hunk.newCount;
  let oldLine = hunk.oldStart;
  let newLine = hunk.newStart;
  const n = body.length;
  i++;
  while (i < n && (oldLeft > 0 || newLeft > 0)) {
    const l = body[i];
    const c = l[0];
    if (c === '\\') { // `\ No newline at end of file`
      const last = hunk.lines[hunk.lines.length - 1];
      if (last) last.noNewline = true;
      i++;
      continue;
    }
    if (l.startsWith('diff --git ') || HUNK_HEADER.test(l)) break;
    if (c === ' ' || l === '') {
      // Mailers strip trailing blanks, so an empty context line may arrive as an empty line;
      // an empty line at the very end is the end of the input, not context.
      if (l === '' && i === n - 1) break;
      if (oldLeft <= 0 || newLeft <= 0) break;
      hunk.lines.push({ kind: 'context', text: l.slice(1), patchRow: rowOf(i), oldLine, newLine });
      oldLine++; newLine++; oldLeft--; newLeft--;
    } else if (c === '-') {
      if (oldLeft <= 0) break;
      hunk.lines.push({ kind: 'removed', text: l.slice(1), patchRow: rowOf(i), oldLine });
      oldLine++; oldLeft--;
    } else if (c === '+') {
      if (newLeft <= 0) break;
      hunk.lines.push({ kind: 'added', text: l.slice(1), patchRow: rowOf(i), newLine });
      newLine++; newLeft--;
    } else {
      break;
    }
    i++;
  }
  if (i < n && body[i].startsWith('\\')) {
    const last = hunk.lines[hunk.lines.length - 1];
    if (last) last.noNewline = true;
    i++;
  }
  if (oldLeft > 0 || newLeft > 0) {
    hunk.truncated = true;
    const where = file.newPath ?? file.oldPath ?? 'a file';
    const reason = i >= n ? 'the patch ends inside it' : 'a line that is not part of a hunk interrupts it';
    problems.push({ ...at(headerIndex), severity: 'error',
      message: `hunk @@ -${hunk.oldStart},${hunk.oldCount} +${hunk.newStart},${hunk.newCount} @@ of ${where} is truncated: ${reason} (${oldLeft} old and ${newLeft} new lines missing)` });
  } else {
    // Lines that still look like hunk lines right after the counts ran out mean the header
    // under-counts (a hand-edited patch). Keep them: analyzing more is better than less.
    let extra = 0;
    while (i < n) {
      const l = body[i];
      if (l === '-- ' || l.startsWith('--- ') || l.startsWith('+++ ') || l.startsWith('diff --git ') || HUNK_HEADER.test(l)) break;
      const c = l[0];
      if (c === '+') { hunk.lines.push({ kind: 'added', text: l.slice(1), patchRow: rowOf(i), newLine: newLine++ }); }
      else if (c === '-') { hunk.lines.push({ kind: 'removed', text: l.slice(1), patchRow: rowOf(i), oldLine: oldLine++ }); }
      else if (c === ' ' && (i + 1 >= n || /^([ +\-]|diff --git |@@ )/.test(body[i + 1]))) {
        hunk.lines.push({ kind: 'context', text: l.slice(1), patchRow: rowOf(i), oldLine: oldLine++, newLine: newLine++ });
      } else break;
      extra++;
      i++;
    }
    if (extra > 0) {
      const where = file.newPath ?? file.oldPath ?? 'a file';
      problems.push({ ...at(headerIndex), severity: 'error',
        message: `hunk @@ -${hunk.oldStart},${hunk.oldCount} +${hunk.newStart},${hunk.newCount} @@ of ${where} has ${extra} more line(s) than its header counts` });
    }
  }
  return i;
}
