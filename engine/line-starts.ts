// Offset → line for a sorted array of line-start offsets. The lowering (tree-sitter rows: `\n`
// ends a line) and the document session (LSP lines: `\r\n`, `\n`, `\r`) build their own starts;
// both search them here.

/** The index of the last line starting at or before `offset` (binary search). */
export function lineOfOffset(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Start offsets of every row as tree-sitter counts them: only `\n` ends a row. */
export function treeSitterLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Tree-sitter's point (row, column in UTF-16 units) of `offset`, from treeSitterLineStarts. */
export function treeSitterPoint(starts: readonly number[], offset: number): { row: number; column: number } {
  const row = lineOfOffset(starts, offset);
  return { row, column: offset - starts[row] };
}
