// The human rendering of a simulator trace: a lockdep-style side-by-side table, one column per
// CPU, each step in its thread's column with what changed ("=") and why ("#") beneath it,
// ending in the verdict.

import type { TraceStep } from '../findings';

export interface TraceTableOptions {
  /** Names of the threads, by index ("clear_refs", "writer"). */
  threads?: string[];
  verdict?: string;
  note?: string;
  /** Index of the deciding step, marked with ">>". */
  decisive?: number;
  width?: number;
}

function wrap(text: string, width: number): string[] {
  const w = Math.max(8, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(/\s+/)) {
      if (!word) continue;
      // A word longer than the lane (a long expression) is cut, never left to overflow.
      while (word.length > w) {
        if (line) { out.push(line); line = ''; }
        out.push(word.slice(0, w));
        word = word.slice(w);
      }
      if (line && line.length + 1 + word.length > w) {
        out.push(line);
        line = '';
      }
      line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(line);
  }
  return out.length ? out : [''];
}

/** Every line of the CLI trace fits in this many columns. */
export const MAX_COLUMNS = 100;

export function renderTraceTable(steps: TraceStep[], opts: TraceTableOptions = {}): string {
  const nThreads = Math.max(1, ...steps.map((s) => s.thread + 1), opts.threads?.length ?? 0);
  // Within 100 columns: 2 for the mark, 2 between lanes.
  const width = opts.width ?? Math.floor((MAX_COLUMNS - 2 - 2 * (nThreads - 1)) / nThreads);
  const pad = (s: string): string => (s.length >= width ? s : s + ' '.repeat(width - s.length));
  const row = (col: number, text: string, mark = '  '): string => `${mark}${' '.repeat(col * (width + 2))}${text}`.trimEnd();
  const lines: string[] = [];
  const heads = [...Array(nThreads).keys()].map((i) => pad(`CPU${i}${opts.threads?.[i] ? ` (${opts.threads[i]})` : ''}`));
  lines.push(`  ${heads.join('  ')}`.trimEnd());
  lines.push(`  ${heads.map((h) => pad('-'.repeat(Math.min(h.trim().length, width)))).join('  ')}`.trimEnd());
  steps.forEach((s, i) => {
    const mark = i === opts.decisive ? '>>' : '  ';
    const loc = s.range ? ` [${s.range.startRow + 1}:${s.range.startCol + 1}]` : '';
    wrap(`${s.operation}${loc}`, width).forEach((l, j) => lines.push(row(s.thread, l, j === 0 ? mark : '  ')));
    if (s.delta) wrap(`= ${s.delta}`, width - 4).forEach((l, j) => lines.push(row(s.thread, `${j ? '    ' : '  '}${l}`)));
    if (s.note) wrap(`# ${s.note}`, width - 4).forEach((l, j) => lines.push(row(s.thread, `${j ? '    ' : '  '}${l}`)));
  });
  if (opts.verdict) {
    lines.push('');
    lines.push(` *** ${opts.verdict.toUpperCase()} ***`);
    if (opts.note) for (const l of wrap(opts.note, MAX_COLUMNS - 2)) lines.push(` ${l}`);
  }
  return lines.join('\n');
}
