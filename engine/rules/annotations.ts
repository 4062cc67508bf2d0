// In-source annotations (docs/annotations.md; ARCHITECTURE.md "Annotations in comments"):
//   // @faultline suppress <rule-id>[,<rule-id>]: <reason>   on the finding's line or the line above
//   // @faultline expect <rule-id>[,<rule-id>]  |  // @faultline expect clean   at a function's top
// Also accepted inside /* */ comments. Parsed from the raw text, so they work in any face.

import type { FunctionIR } from '../ir';

export interface SuppressAnnotation {
  kind: 'suppress';
  /** 0-based row of the comment. */
  row: number;
  col: number;
  rules: string[];
  reason?: string;
  length: number;
}

export interface ExpectAnnotation {
  kind: 'expect';
  row: number;
  col: number;
  /** Empty for `expect clean`. */
  rules: string[];
  length: number;
}

export type Annotation = SuppressAnnotation | ExpectAnnotation;

/** What every annotation starts with: a text without it has none (the CLI's prefilter keeps it too). */
export const ANNOTATION_MARKER = '@faultline';

const ANNOTATION = /@faultline\s+(suppress|expect)\b([^\n]*)/g;

/** Whether the text may hold an annotation (it names the marker anywhere, comments or not). */
export function mentionsAnnotation(text: string): boolean {
  return text.includes(ANNOTATION_MARKER);
}

/** Whether the text names an `@faultline expect` (inside a comment or not). */
export function mentionsExpect(text: string): boolean {
  return /@faultline\s+expect\b/.test(text);
}

/** Every annotation in the text that sits inside a comment. */
export function parseAnnotations(text: string): Annotation[] {
  // Every annotation contains the marker: most files have none, and the line scan below is not free.
  if (!mentionsAnnotation(text)) return [];
  const out: Annotation[] = [];
  const lines = text.split('\n');
  let inBlock = false;
  for (let row = 0; row < lines.length; row++) {
    const ln = lines[row];
    // Where comments are on this line (a cheap scan: strings containing `//` are rare in kernel C
    // next to an annotation, and a wrong guess only drops an annotation).
    const commentStarts: number[] = [];
    let i = 0;
    if (inBlock) commentStarts.push(0);
    while (i < ln.length) {
      if (inBlock) {
        const close = ln.indexOf('*/', i);
        if (close < 0) break;
        inBlock = false;
        i = close + 2;
        continue;
      }
      const sl = ln.indexOf('//', i);
      const bl = ln.indexOf('/*', i);
      if (sl < 0 && bl < 0) break;
      if (sl >= 0 && (bl < 0 || sl < bl)) {
        commentStarts.push(sl);
        break;
      }
      commentStarts.push(bl);
      inBlock = true;
      i = bl + 2;
    }
    if (!commentStarts.length) continue;
    ANNOTATION.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = ANNOTATION.exec(ln))) {
      if (!commentStarts.some((c) => c <= m!.index)) continue;
      // The annotation ends at the comment's end or at another comment on the same line.
      let rest = m[2].replace(/\*\/.*$/, '').replace(/\/\/.*$/, '').replace(/\/\*.*$/, '').trim();
      let reason: string | undefined;
      const colon = rest.indexOf(':');
      if (colon >= 0) {
        reason = rest.slice(colon + 1).trim() || undefined;
        rest = rest.slice(0, colon).trim();
      }
      const rules = rest.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
      if (m[1] === 'suppress') out.push({ kind: 'suppress', row, col: m.index, rules, reason, length: m[0].length });
      else out.push({ kind: 'expect', row, col: m.index, rules: rules.length === 1 && rules[0] === 'clean' ? [] : rules.filter((r) => r !== 'clean'), length: m[0].length });
    }
  }
  return out;
}

/**
 * The function an `expect` annotation belongs to: the one whose body contains it, else the
 * first function that starts below it with only comments, blank lines or attributes between.
 */
export function functionForExpect(a: ExpectAnnotation, functions: FunctionIR[], lines: string[]): FunctionIR | undefined {
  const inside = functions.find((f) => f.range.startRow <= a.row && a.row <= f.range.endRow);
  if (inside) return inside;
  const below = functions.filter((f) => f.range.startRow > a.row).sort((x, y) => x.range.startRow - y.range.startRow)[0];
  if (!below) return undefined;
  for (let r = a.row + 1; r < below.range.startRow; r++) {
    const t = (lines[r] ?? '').trim();
    if (t === '' || t.startsWith('//') || t.startsWith('/*') || t.startsWith('*')) continue;
    return undefined;
  }
  return below;
}
