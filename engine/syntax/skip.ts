// Skipping the parts of C text that hold no code: comments, string and character literals.
// The text scans that run before (or instead of) a parse share them, so they agree on where a
// comment or a literal ends: the annotation blanking (macros.ts) and the parse bounds' token and
// bracket-depth counts (parser.ts).

/** Index just past a string or char literal starting at `i` (the quote); an unterminated one ends at its line's end (the newline's index) or at the text's end. */
export function skipQuoted(text: string, i: number): number {
  const quote = text.charCodeAt(i);
  const n = text.length;
  i++;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (c === quote) return i + 1;
    if (c === 10 /* unterminated at end of line */) return i;
    i++;
  }
  return n;
}

/** Index just past a comment starting at `i` (a line comment ends before its newline), or `i` if there is none. */
export function skipComment(text: string, i: number): number {
  if (text.charCodeAt(i) !== 47 /* / */) return i;
  const next = text.charCodeAt(i + 1);
  if (next === 47) {
    const nl = text.indexOf('\n', i + 2);
    return nl < 0 ? text.length : nl;
  }
  if (next === 42) {
    const close = text.indexOf('*/', i + 2);
    return close < 0 ? text.length : close + 2;
  }
  return i;
}

/** Index just past a comment or a string or char literal starting at `i`, or `i` if none starts there. */
export function skipNonCode(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c === 34 /* " */ || c === 39 /* ' */ ? skipQuoted(text, i) : skipComment(text, i);
}
