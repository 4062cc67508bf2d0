// Line splitting shared by the patch parser and the fragment builder. CRLF and lone CR line
// ends are accepted (patches mailed through some clients arrive with CRLF); the terminator is
// not part of a line, so columns stay the same whatever the line ends were.

import type { SourceRange } from '../ir';

export function splitLines(text: string): { lines: string[]; lineStarts: number[] } {
  const lines: string[] = [];
  const lineStarts: number[] = [];
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      lines.push(text.slice(start, i));
      lineStarts.push(start);
      if (c === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
  }
  if (start < n || lines.length === 0) {
    lines.push(text.slice(start));
    lineStarts.push(start);
  }
  return { lines, lineStarts };
}

/** A range covering one row (for problems that point at a line). */
export function rowRange(lineStarts: number[], row: number, length = 0): SourceRange {
  const r = Math.max(0, Math.min(row, lineStarts.length - 1));
  const start = lineStarts[r] ?? 0;
  return { start, end: start + length, startRow: r, startCol: 0, endRow: r, endCol: length };
}

export function lineProblem(lineStarts: number[], row: number): { range: SourceRange } {
  return { range: rowRange(lineStarts, row) };
}
