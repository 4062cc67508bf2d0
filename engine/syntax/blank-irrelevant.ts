// The batch path's cheapest saving: top-level function definitions that cannot produce a finding
// are replaced by spaces BEFORE parsing (newlines kept, so every offset, row and column of the
// rest of the file is unchanged), and tree-sitter never spends time on them. Parsing is the
// largest single cost of `faultline check` (about half of it on a typical driver file).
//
// Which functions: the same rule as engine/lower/relevance.ts (which works on the parsed tree):
// a function is relevant if it names a relevant API (engine/rules/relevance.ts), and relevance
// spreads along same-file references both ways. This pass finds top-level items by scanning the
// text (comments, strings, character literals and preprocessor lines skipped; braces counted),
// so it is conservative everywhere it could be wrong: an item that contains a preprocessor line,
// is not shaped like `name(...) { ... }`, has an upper-case (macro) name, or sits in a file whose
// braces do not balance, is kept, and the whole pass gives up (returns the text unchanged) when
// in doubt.

import { macroDefinitionNamesOfHead } from './macro-definition';
import { skipComment } from './skip';
import { IDENT_SOURCE, identifiersIn, isAsciiIdentChar, nestedDefinitionNames, relevanceOutcome, spreadRelevance, type IdentifierMemo, type RangeRead, type RelevanceItem, type RelevanceOutcome } from './relevance-graph';

interface Span {
  start: number;
  end: number;
  bodyOpen: number;
  hasDirective: boolean;
  /**
   * Parentheses and brackets balance inside the item, and its code (outside comments and
   * literals) holds only printable ASCII and ordinary white space (see isOddCodeChar).
   */
  balanced: boolean;
  /** A preprocessor line between items (its own item; its text is not scanned for brackets). */
  directive?: boolean;
}

interface Item extends RelevanceItem {
  start: number;
  end: number;
  /** Plain function definition that may be blanked. */
  candidate: boolean;
}

/**
 * Characters of item headers the scan may re-read, per character of text plus a floor, before it
 * gives up (see the depth-0 `{` below): linear in the worst case, never reached by real code.
 */
const HEADER_WORK_PER_CHAR = 4;
const HEADER_WORK_FLOOR = 256 * 1024;

/** Characters the last scan re-read for item headers (tests: the scan stays linear). */
export let lastHeaderWork = 0;

/** Splits the file into top-level items ending at a depth-0 `;` or `}`; undefined when unsure. */
function topLevelItems(text: string): Span[] | undefined {
  const items: Span[] = [];
  // Parentheses and brackets of the current item: an item where they do not balance is kept
  // (tree-sitter's recovery from it could reach into its neighbours).
  let parens = 0;
  let brackets = 0;
  let unbalanced = false;
  // A character in the item's code that the lexer may read as an error or glue to a token in a
  // way this scan does not model (isOddCodeChar): the item is kept, as an unbalanced one is.
  let odd = false;
  // The last code character (comments, literals and white space aside): a `}` right after a `:`
  // closes a block on a label with no statement (`again: }`), an error whose recovery in the
  // whole text can run past that `}` (fuzz seed 61 #3617: the function took in everything up to
  // a later brace). Such an item is kept, as an odd one is. The same for every `}` that ends a
  // construct still waiting for its statement: right after `else` or `do` (lastWordWaits), or
  // after a `)` (`if (left) }`, an if/while/for header with no body; a macro call missing its
  // `;`: fuzz seed 89 #63865, the whole-text recovery of `if (left) else }` ran on to the next
  // function's brace).
  let lastCode = 0;
  let lastWordWaits = false;
  // Whether the current item has anything but comments and white space so far (strings and
  // characters count as code), and whether its header already holds an `=`: both spare re-reading
  // the item from its start (for every directive, for every depth-0 block).
  let hasCode = false;
  let headerHasEq = false;
  lastHeaderWork = 0;
  const push = (start: number, end: number, bodyOpen: number, hasDirective: boolean, directive = false) => {
    items.push({ start, end, bodyOpen, hasDirective, balanced: !unbalanced && !odd && parens === 0 && brackets === 0, ...(directive ? { directive } : {}) });
    parens = 0;
    brackets = 0;
    unbalanced = false;
    odd = false;
    hasCode = false;
    headerHasEq = false;
  };
  let depth = 0;
  let itemStart = 0;
  let bodyOpen = -1;
  let hasDirective = false;
  let lineStart = true;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) { lineStart = true; continue; }
    if (c === 32 || c === 9 || c === 13) continue;
    const atLineStart = lineStart;
    lineStart = false;
    if (isAsciiIdentChar(c)) {
      // Most of a file: a word (or number) is code and none of its characters is a bracket, a
      // quote, a comment opener or odd; skip to its end.
      hasCode = true;
      const wordStart = i;
      while (i + 1 < n && isAsciiIdentChar(text.charCodeAt(i + 1))) i++;
      lastCode = text.charCodeAt(i);
      const len = i + 1 - wordStart;
      lastWordWaits = (len === 4 && text.startsWith('else', wordStart)) || (len === 2 && text.startsWith('do', wordStart));
      continue;
    }
    if (c !== 35 || !atLineStart) {
      // Not a directive; a comment opener is not code (tested again below, rarely taken).
      if (!(c === 47 && (text.charCodeAt(i + 1) === 42 || text.charCodeAt(i + 1) === 47)) && !isOtherSpace(c)) hasCode = true;
    }
    if (c === 35 /* # */ && atLineStart) {
      // A directive runs to the end of the line, continued by backslash-newline.
      while (i < n && text.charCodeAt(i) !== 10) {
        if (text.charCodeAt(i) === 92 /* \ */ && text.charCodeAt(i + 1) === 10) i++;
        i++;
      }
      lineStart = true;
      // Between items (`#include`, `#define` before a function) a directive is an item of its
      // own; inside one (a body, or a header split by #ifdef) it marks that item as unsure.
      if (depth === 0 && !hasCode) {
        push(itemStart, i, -1, true, true);
        itemStart = i;
      } else {
        hasDirective = true;
      }
      continue;
    }
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return undefined;
      i = close + 1;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const nl = text.indexOf('\n', i);
      i = (nl < 0 ? n : nl) - 1;
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== c) {
        if (text.charCodeAt(j) === 92) j++;
        else if (text.charCodeAt(j) === 10) return undefined;
        j++;
      }
      if (j >= n) return undefined;
      i = j;
      continue;
    }
    if (isOddCodeChar(c)) odd = true;
    if (c === 125 /* } */ && (lastCode === 58 /* : */ || lastCode === 41 /* ) */ || lastWordWaits)) odd = true;
    lastCode = c;
    lastWordWaits = false;
    if (c === 40 /* ( */) parens++;
    else if (c === 41 /* ) */) { if (--parens < 0) unbalanced = true; }
    else if (c === 91 /* [ */) brackets++;
    else if (c === 93 /* ] */) { if (--brackets < 0) unbalanced = true; }
    if (c === 123 /* { */) {
      if (depth === 0) {
        bodyOpen = i;
        // An item that goes on after depth-0 blocks that did not end it (`struct s { ... } v`,
        // or a header split by #ifdef) has its header re-read from its start at each block's
        // end, until the header has an `=` (then it can no longer be a definition, and it ends at
        // a `;`). On `{}{}{}...` that is quadratic: past a bound linear in the text's length the
        // scan gives up (the text is parsed whole).
        if (lastHeaderWork > HEADER_WORK_PER_CHAR * n + HEADER_WORK_FLOOR) return undefined;
      }
      depth++;
    } else if (c === 125 /* } */) {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) {
        // A function body ends the item at its `}`; `struct x { ... } v;` and `= { ... };` end at
        // the `;` that follows.
        // Both header tests fail on a header with an `=` outside comments, and a later header of
        // the same item starts where this one does and contains it: no need to look again.
        const header = headerHasEq ? undefined : text.slice(itemStart, bodyOpen);
        if (header !== undefined) {
          lastHeaderWork += header.length;
          if (definitionName(header) !== undefined || looksLikeFunctionHeader(header)) {
            push(itemStart, i + 1, bodyOpen, hasDirective);
            itemStart = i + 1;
            bodyOpen = -1;
            hasDirective = false;
          } else if (withoutComments(header).includes('=')) {
            headerHasEq = true;
          }
        }
      }
    } else if (c === 59 /* ; */ && depth === 0) {
      push(itemStart, i + 1, -1, hasDirective);
      itemStart = i + 1;
      bodyOpen = -1;
      hasDirective = false;
    }
  }
  if (depth !== 0) return undefined;
  if (itemStart < n) push(itemStart, n, -1, hasDirective);
  return items;
}

/**
 * A code character (outside comments, literals and directives) that kernel C never has there: a
 * control character other than white space, DEL, a backslash (a line splice outside a directive,
 * a stray escape) or anything above ASCII (an identifier letter, a no-break space...). Around
 * these the parser's tokens or its error recovery may differ from what this scan assumes, so
 * blanking an item that holds one is not known to leave the rest of the parse unchanged (and the
 * CLI, which blanks, must give the server's findings); such an item is parsed as it is.
 */
function isOddCodeChar(c: number): boolean {
  return (c < 32 && c !== 9 && c !== 10 && c !== 11 && c !== 12 && c !== 13) || c === 92 || c >= 127;
}

/**
 * A top-level item that reads like a statement: it starts with a statement keyword (`if`,
 * `return`, ...), a label, or an assignment to a plain name or a member (`pvec = f(...);`,
 * `p->x += 1;`). File-scope C has none of these (a declaration has a type before its name; a
 * top-level macro invocation is a call): they are the rest of a function that an early `}`
 * closed, and tree-sitter's grammar accepts statements at the top level without an error, so the
 * blanked text would parse cleanly while the whole text's recovery makes one function of the
 * pieces (fuzz seeds 61 #3617, 67 #39802). The scan is then unsure of every item boundary: the
 * text is parsed whole.
 */
function looksLikeStatement(text: string, s: Span): boolean {
  const head = withoutComments(text.slice(s.start, Math.min(s.end, s.start + 400))).trimStart();
  return STATEMENT_START.test(head) || LABEL_START.test(head) || ASSIGNMENT_START.test(head);
}

/** C's statement keywords: no declaration or definition starts with or names one. */
const STATEMENT_WORDS = 'if|else|while|for|do|switch|case|default|return|goto|break|continue';
const STATEMENT_START = new RegExp(`^(?:${STATEMENT_WORDS})(?![\\p{XID_Continue}$])`, 'u');
const LABEL_START = /^[A-Za-z_$][\w$]*\s*:(?!:)/;
const ASSIGNMENT_START = /^\**[A-Za-z_$][\w$]*(?:\s*(?:->|\.)\s*[A-Za-z_$][\w$]*|\s*\[[^\]\n]*\])*\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)/;

/** White space other than ' ', \t, \r and \n (a form feed between functions): what trim() removes. */
function isOtherSpace(c: number): boolean {
  return c === 11 || c === 12 || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function withoutComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

/** Ends with `)` and has no `=`: a definition header, even when its name is a macro's. */
function looksLikeFunctionHeader(header: string): boolean {
  const h = withoutComments(header).trimEnd();
  return h.endsWith(')') && !h.includes('=');
}

/** The identifier that ends a header's text before its `(` (and the white space after it). */
const TRAILING_NAME = new RegExp(`(${IDENT_SOURCE})[ \\t\\r\\n\\v\\f]*$`, 'u');

/** A statement keyword, or an operator keyword (`sizeof`, `typeof`...), as a word of a header. */
const STATEMENT_KEYWORD = new RegExp(`(?:^|[^\\p{XID_Continue}$])(?:${STATEMENT_WORDS}|sizeof|typeof|__typeof__|_Alignof|alignof)(?![\\p{XID_Continue}$])`, 'u');

/** `static long foo(struct x *p, int n)` → `foo`; undefined unless the header has that shape. */
function definitionName(header: string): string | undefined {
  const h = withoutComments(header).trimEnd();
  if (!h.endsWith(')') || h.includes('=')) return undefined;
  const paren = h.indexOf('(');
  if (paren < 0) return undefined;
  // Only words and `*` before the name (`static const struct foo *__init bar(`), and no brace
  // or `;` anywhere: an item that went on after a depth-0 block that did not end it (broken
  // code, `[ do { ... } ... name(void) {`) ends like a definition but is not one, and the
  // whole text's parse of it (an ERROR that may swallow the functions after it) cannot be
  // vouched for when it is blanked.
  if (!/^[ \t\r\n\v\f*$\p{XID_Continue}]*$/u.test(h.slice(0, paren)) || /[{};]/.test(h)) return undefined;
  // And the parameter list that opens at the name is the one that ends the header: in
  // `bool f(x)g(struct y *p)` (a mangled line) the parser's recovery of the whole text may make
  // one function of it and everything up to a later `}` (fuzz seed 41 #6864).
  if (closingParen(h, paren) !== h.length - 1) return undefined;
  const m = TRAILING_NAME.exec(h.slice(0, paren));
  if (!m) return undefined;
  const name = m[1];
  // Upper-case names are macro-made definitions (SYSCALL_DEFINE3(...)): keep them.
  if (/^[A-Z0-9_]+$/.test(name)) return undefined;
  // A statement keyword as the name or among the words before it (`if (!p) {`, `else f(x) {`):
  // a statement outside any function (an early `}` closed its function), not a definition. The
  // whole text's recovery may make one function of it and the function above it (fuzz seed 61
  // #3617), which the blanked text cannot show.
  if (STATEMENT_KEYWORD.test(h.slice(0, paren))) return undefined;
  if (/\b(struct|union|enum)\s*$/.test(h.slice(0, m.index))) return undefined;
  return name;
}

/**
 * The name of the item when it is a plain function definition (no preprocessor line inside,
 * balanced, a body, a definition's header): the ones blankIrrelevant may blank.
 */
function plainDefinitionName(text: string, s: Span): string | undefined {
  return !s.hasDirective && s.balanced && s.bodyOpen > s.start ? definitionName(text.slice(s.start, s.bodyOpen)) : undefined;
}

/** Index of the `)` that closes the `(` at `open` (comments already removed), or -1. */
function closingParen(h: string, open: number): number {
  let depth = 0;
  for (let i = open; i < h.length; i++) {
    if (h[i] === '(') depth++;
    else if (h[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The extent of an item left in the text, from its first character that is not white space. */
export interface KeptItem { start: number; end: number }

/** A blanked text and the spans of it the parser need not read (see blankIrrelevant). */
export interface Blanked {
  text: string;
  /**
   * Offsets [start, end) inside blanked items, sorted and disjoint: from just after an item's
   * first character that was not white space to its last newline (which stays outside). Only
   * spaces and newlines are there, so the parser can be told to skip them (includedRanges): the
   * tokens it reads are the same.
   */
  gaps: [number, number][];
  /**
   * The blanked items' extents [start, end), sorted, adjacent ones merged: where the text
   * differs from the one it was made from (engine.ts reparses the whole text from the blanked
   * text's tree, as edits of these ranges).
   */
  blankedRanges: [number, number][];
  /**
   * Every item left in the text that is balanced in parentheses and brackets and holds no odd
   * character (Span.balanced), and has no preprocessor line inside unless it is a declaration:
   * the kept functions (macro-made ones included) and the declarations and other file-scope
   * items (an ops table whose members sit under `#ifdef`).
   * In text order; an item's end is just past its `;` or `}`, its start is its first character
   * that is not white space (a comment before it is part of it). engine.ts: a syntax error inside one stays inside it when the tree's nodes there
   * lie within the same extent.
   */
  keptItems: KeptItem[];
  /** What the scan decided (undefined when nothing was blanked): engine.ts checks it against the lowering. */
  outcome?: RelevanceOutcome;
  /** The items' code identifiers, for the tree filter (IdentifierMemo); absent when the scan gave up. */
  codeIds?: IdentifierMemo;
  /**
   * Items left in the text that keptItems does not vouch for (unbalanced, an odd character, or a
   * function with a preprocessor line inside): a syntax error in one of them sends the batch
   * parse back to the whole text (engine.ts).
   */
  unsure: number;
}

/** `text` as it is: nothing blanked, nothing to skip, no kept function to vouch for. */
export function unblanked(text: string): Blanked {
  return { text, gaps: [], blankedRanges: [], keptItems: [], unsure: 0 };
}

/**
 * `text` with the irrelevant top-level function definitions replaced by spaces (newlines kept),
 * or `text` itself (no gaps) when nothing can be blanked or the scan is unsure.
 */
export function blankIrrelevant(text: string, relevantApis: ReadonlySet<string>): Blanked {
  const spans = topLevelItems(text);
  if (!spans || spans.some((s) => s.bodyOpen < 0 && looksLikeStatement(text, s))) return unblanked(text);
  const codeIds = new Map<number, RangeRead>();
  const items: Item[] = spans.map((s) => {
    const { ids, nested } = readItem(text, s, codeIds);
    const name = plainDefinitionName(text, s);
    let relevant = name === undefined;
    if (!relevant) for (const id of ids) if (relevantApis.has(id)) { relevant = true; break; }
    // A macro-made definition (`SYSCALL_DEFINE2(umount, ...) { ... }`) defines the name the
    // lowering gives it (engine/syntax/macro-definition.ts); the item is kept either way.
    const made = name === undefined && s.bodyOpen > s.start ? macroDefinitionNamesOfHead(withoutComments(text.slice(s.start, s.bodyOpen))) : [];
    return { start: s.start, end: s.end, candidate: name !== undefined, name, ids, relevant, alsoDefines: made.length ? [...made, ...(nested ?? [])] : nested };
  });
  spreadRelevance(items, relevantApis);
  const blank = items.filter((it) => it.candidate && !it.relevant);
  if (!blank.length) return { ...unblanked(text), codeIds };
  const parts: string[] = [];
  const gaps: [number, number][] = [];
  const blankedRanges: [number, number][] = [];
  let at = 0;
  for (const it of blank) {
    parts.push(text.slice(at, it.start));
    pushBlanked(parts, text, it.start, it.end);
    const prev = blankedRanges[blankedRanges.length - 1];
    if (prev && prev[1] === it.start) prev[1] = it.end;
    else blankedRanges.push([it.start, it.end]);
    at = it.end;
    // The gap starts just after the item's first character that is not white space (a space
    // now): a token that ends exactly where an included range ends is stretched by tree-sitter
    // to the start of the next range, so each range must end on a blank that no token takes
    // (a directive's closing newlines, which run up to the item's first character, would
    // otherwise span the gap). It ends at the item's last newline, which stays in.
    const first = firstNonSpace(text, it.start, it.end);
    const last = text.lastIndexOf('\n', it.end - 1);
    if (first < it.end && last > first + 1) gaps.push([first + 1, last]);
  }
  parts.push(text.slice(at));
  const keptItems: KeptItem[] = [];
  let unsure = 0;
  items.forEach((it, i) => {
    // Not a function-like item with a preprocessor line inside: around `#if` in a body the
    // grammar's recovery depends on what follows the item (Linux 6.1
    // drivers/gpu/drm/drm_vm.c drm_mmap_locked(): a function in the blanked text, an ERROR
    // running into the next function in the whole text; drivers/video/fbdev/vermilion/vermilion.c:
    // a statement inside read differently). A declaration with `#ifdef`'d members is fine:
    // compared node for node on every such 6.1 file.
    if (spans[i].directive || (it.candidate && !it.relevant)) return;
    if (!spans[i].balanced || (spans[i].hasDirective && spans[i].bodyOpen >= 0)) { unsure++; return; }
    // From its first character that is not white space: the white space before it may belong to
    // the node before (a directive's node takes its newline, `#if`'s the blank lines after it).
    const start = firstNonSpace(text, it.start, it.end);
    if (start < it.end) keptItems.push({ start, end: it.end });
  });
  return { text: parts.join(''), gaps, blankedRanges, keptItems, outcome: relevanceOutcome(items, (i) => items[i].candidate && !items[i].relevant), unsure, codeIds };
}

/**
 * An item's identifiers and nested definitions (identifiersIn and nestedDefinitionNames over
 * [s.start, s.end)), and their record in `memo` for the tree filter, keyed by where the item's
 * code starts (after white space and comments). The identifiers are read as two ranges, what
 * precedes the code and the code: no identifier spans the cut (white space or a comment's end is
 * before it), so the union, comment words first, is the same set in the same order. The nested
 * definitions are the code's own only when nothing but white space precedes it (a comment may
 * hold a `(` or a word the look-back would read), and are recorded only then.
 */
function readItem(text: string, s: Span, memo: Map<number, RangeRead>): { ids: Set<string>; nested: string[] | undefined } {
  const nested = nestedDefinitionNames(text, s.start, s.end);
  const code = codeStart(text, s.start, s.end);
  if (code >= s.end) return { ids: identifiersIn(text, s.start, s.end), nested };
  const ids = identifiersIn(text, code, s.end);
  memo.set(code, firstNonSpace(text, s.start, s.end) === code ? { end: s.end, ids, nested } : { end: s.end, ids });
  if (code === s.start) return { ids, nested };
  const before = identifiersIn(text, s.start, code);
  if (!before.size) return { ids, nested };
  for (const id of ids) before.add(id);
  return { ids: before, nested };
}

/** The first offset in [start, end) that is neither white space nor in a comment (end if none). */
function codeStart(text: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    if (isJsSpace(text.charCodeAt(i))) { i++; continue; }
    const after = skipComment(text, i);
    // Code, or a comment that runs past the item (then the item's code starts with it).
    if (after === i || after > end) return i;
    i = after;
  }
  return end;
}

/** A run of spaces, sliced for blanked runs (repeat() per run cost a string each time). */
let spaces = ' '.repeat(4096);

/**
 * `text[start, end)` with every character but `\n` and `\r` replaced by a space, pushed as
 * pieces (the regex replace this stands for was a fifth of the scan's time).
 */
function pushBlanked(parts: string[], text: string, start: number, end: number): void {
  let run = start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    if (i > run) parts.push(spacesOf(i - run));
    parts.push(c === 10 ? '\n' : '\r');
    run = i + 1;
  }
  if (end > run) parts.push(spacesOf(end - run));
}

function spacesOf(n: number): string {
  if (n > spaces.length) spaces = ' '.repeat(n);
  return spaces.slice(0, n);
}

/** What `/\s/` matches (ECMAScript white space and line terminators): isOtherSpace and the rest. */
function isJsSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || isOtherSpace(c);
}

/** The first offset in [start, end) that is not white space (end when there is none). */
function firstNonSpace(text: string, start: number, end: number): number {
  while (start < end && isJsSpace(text.charCodeAt(start))) start++;
  return start;
}

/**
 * Every plain top-level function definition of `text` (balanced in every bracket kind, no
 * preprocessor line inside), end offset (just past the closing brace) to start offset (the
 * item's, with the comments before it), as blankIrrelevant's keptItems would list them (among its other items) if all
 * were relevant; undefined when the scan is unsure. The language server's session asks it when a
 * function other than the edited one has a syntax error (engine/session.ts).
 */
export function plainDefinitions(text: string): Map<number, number> | undefined {
  const spans = topLevelItems(text);
  if (!spans) return undefined;
  const out = new Map<number, number>();
  for (const s of spans) if (plainDefinitionName(text, s) !== undefined) out.set(s.end, s.start);
  return out;
}

/**
 * Returns `text` with the irrelevant top-level function definitions replaced by spaces (newlines
 * kept), or `text` itself when nothing can be blanked or the scan is unsure.
 */
export function blankIrrelevantFunctions(text: string, relevantApis: ReadonlySet<string>): string {
  return blankIrrelevant(text, relevantApis).text;
}

/** A parser range (tree-sitter's included range): offsets and row/column points of both ends. */
export interface TextRange {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

/**
 * The parts of `text` outside `gaps` (sorted, disjoint, each starting just after a newline), as
 * the included ranges of one parse. Rows count `\n` only, as tree-sitter does; a range that
 * starts after a gap starts at column 0 of the gap's last row... and a gap always ends at a
 * newline, so every range after the first starts at column `end - lineStart` of its row.
 */
export function rangesOutside(text: string, gaps: readonly [number, number][]): TextRange[] {
  const out: TextRange[] = [];
  let row = 0;
  let lineStart = 0;
  let scanned = 0;
  /** Row and column of offset `i` (non-decreasing calls). */
  const point = (i: number): { row: number; column: number } => {
    for (let nl = text.indexOf('\n', scanned); nl >= 0 && nl < i; nl = text.indexOf('\n', nl + 1)) {
      row++;
      lineStart = nl + 1;
    }
    scanned = i;
    return { row, column: i - lineStart };
  };
  let at = 0;
  for (const [s, e] of gaps) {
    if (s > at) out.push({ startIndex: at, startPosition: point(at), endIndex: s, endPosition: point(s) });
    point(e);
    at = e;
  }
  out.push({ startIndex: at, startPosition: point(at), endIndex: text.length, endPosition: point(text.length) });
  return out;
}
