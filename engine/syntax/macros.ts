// Kernel annotation macros that tree-sitter-c cannot parse (they expand to nothing or to GCC
// attributes under the real preprocessor). We blank them with spaces so the parse succeeds and
// every offset, row and column stays where the user wrote it: diagnostics, hovers and quick
// fixes point into the original text without any mapping.
//
// Only identifiers in code are touched; comments, strings and character literals are skipped.
// Newlines inside a blanked argument list are kept so rows never move.

import { skipComment, skipQuoted } from './skip';

/** Annotations that stand alone (no argument list). */
const BARE = new Set<string>([
  '__user', '__kernel', '__iomem', '__rcu', '__percpu', '__force', '__bitwise', '__safe', '__nocast',
  '__private', '__must_check', '__always_inline', '__inline', 'noinline', '__noinline', 'noinline_for_stack',
  '__init', '__exit', '__initdata', '__initconst', '__exitdata', '__refdata', '__ref', '__meminit',
  '__init_or_module', '__cold', '__hot', '__maybe_unused', '__always_unused', '__used', '__packed',
  '__weak', '__pure', '__noreturn', '__visible', '__read_mostly', '__ro_after_init', '__latent_entropy',
  'notrace', '__noclone', '__sched', '__lockfunc', '__deprecated', '__attribute_const__', '__malloc',
  '__randomize_layout', '__no_randomize_layout', '__cacheline_aligned', '__cacheline_aligned_in_smp',
  '____cacheline_aligned', '____cacheline_aligned_in_smp', '__flatten', 'asmlinkage', '__cpuidle',
  'noinstr', '__nonstring', '__designated_init', '__no_sanitize_address', '__nocfi', '__bpf_kfunc',
  '__ksym', '__kprobes', '__must_be_array', '__iomem_rcu', '__percpu_rcu', '__counted_by_ptr',
  '__always_used', '__noinline_for_stack', '__jiffy_data', '__page_aligned_data', '__page_aligned_bss',
  '__irq_entry', '__softirq_entry', '__naked', '__fastcall', '__stdcall', '__aligned_largest',
  '__tracepoint_string', '__rcu_bh', '__no_kcsan', '__no_sanitize_thread', '__no_sanitize_undefined',
  '__no_sanitize_memory', '__noscs', '__init_memblock', '__meminitdata', '__refconst', '__exit_call',
  '__attribute_used__', '__nostackprotector', '__no_profile', '__no_stack_protector', '__data_racy',
]);

/** Annotations followed by a parenthesised argument list that goes too. */
const WITH_ARGS = new Set<string>([
  '__attribute__', '__attribute', '__acquires', '__releases', '__must_hold', '__cond_acquires',
  '__cond_releases', '__acquire_shared', '__releases_shared', '__must_hold_shared', '__guarded_by',
  '__pt_guarded_by', '__printf', '__scanf', '__aligned', '__counted_by', '__counted_by_le',
  '__counted_by_be', '__sized_by', '__section', '__alias', '__alloc_size', '__assume_aligned',
  '__diagnose_as', '__free', '__cleanup', '__no_sanitize_or_inline', '__nonnull', '__access',
  '__malloc_like', '__realloc_size', '__copy', '__native_word', '__no_kasan_or_inline',
]);

/** Whole statements at file scope that tree-sitter would otherwise misread: blanked with their `;`. */
const STATEMENT_MACROS = /^(EXPORT_SYMBOL(_GPL|_NS|_NS_GPL|_FOR_TESTS_ONLY|_GPL_FOR_MODULES)?|EXPORT_TRACEPOINT_SYMBOL(_GPL)?|EXPORT_PER_CPU_SYMBOL(_GPL)?|ALLOW_ERROR_INJECTION|NOKPROBE_SYMBOL|EXPORT_STATIC_CALL(_GPL|_TRAMP|_TRAMP_GPL)?)$/;

/** A parenthesised list longer than this is not an annotation argument: leave it alone. */
const MAX_ARG_SPAN = 8192;

function skipSpaceAndComments(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (c === 92 && (text.charCodeAt(i + 1) === 10 || text.charCodeAt(i + 1) === 13)) {
      i += 2; // line continuation
      continue;
    }
    const after = skipComment(text, i);
    if (after === i) return i;
    i = after;
  }
  return i;
}

/**
 * Index just past the `)` matching the `(` at `open`; when unbalanced within the span limit,
 * minus one minus the index where the scan gave up (so callers can skip re-scanning it).
 */
function matchParen(text: string, open: number): number {
  let depth = 0;
  const limit = Math.min(text.length, open + MAX_ARG_SPAN);
  let i = open;
  while (i < limit) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39) {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === 47) {
      const after = skipComment(text, i);
      if (after !== i) {
        i = after;
        continue;
      }
    }
    if (c === 40) depth++;
    else if (c === 41) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 59 || c === 123 || c === 125) {
      // `;`, `{` or `}` inside an annotation's arguments means we misread something.
      return -1 - i;
    }
    i++;
  }
  return -1 - i;
}

/**
 * What the scanner stops at: the start of a string, char literal or comment (skipped), a
 * preprocessor line (skipped), or a word that could be an annotation. Everything in between
 * is passed over by the regex engine, which is several times faster than a per-character loop.
 */
const INTERESTING =
  /"|'|\/\/|\/\*|^[ \t]*#|\b(?:__[A-Za-z0-9_]*|____[A-Za-z0-9_]*|noinline(?:_for_stack)?|notrace|noinstr|asmlinkage|EXPORT_[A-Z_]+|ALLOW_ERROR_INJECTION|NOKPROBE_SYMBOL)\b/gm;

function onlySpaceBefore(text: string, i: number): boolean {
  for (let k = i - 1; k >= 0; k--) {
    const c = text.charCodeAt(k);
    if (c === 10) return true;
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** End of the preprocessor line starting at `i`, following `\` continuations. */
function preprocessorLineEnd(text: string, i: number): number {
  const n = text.length;
  let j = i;
  while (j < n) {
    const nl = text.indexOf('\n', j);
    if (nl < 0) return n;
    let k = nl - 1;
    if (k >= 0 && text.charCodeAt(k) === 13) k--;
    if (k >= 0 && text.charCodeAt(k) === 92) {
      j = nl + 1;
      continue;
    }
    return nl;
  }
  return n;
}

/**
 * Return `text` with kernel annotation macros replaced by spaces. The result has the same
 * length, and the same characters at every position that was not blanked; `\n`/`\r` inside a
 * blanked region are kept.
 */
export function blankKernelMacros(text: string): string {
  const spans: number[] = []; // [start, end) pairs to blank
  // An annotation whose `(` never closed was scanned up to here; openers before this point are
  // inside the same unbalanced text and are not re-scanned (keeps broken input linear).
  let unbalancedUntil = -1;
  const re = new RegExp(INTERESTING.source, INTERESTING.flags);
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    const tok = m[0];
    const c = tok.charCodeAt(0);
    if (c === 34 || c === 39) {
      re.lastIndex = skipQuoted(text, start);
      continue;
    }
    if (c === 47) {
      re.lastIndex = skipComment(text, start);
      continue;
    }
    if (tok.charCodeAt(tok.length - 1) === 35 /* # */) {
      // Preprocessor line: leave `#define __user ...` and friends alone.
      re.lastIndex = preprocessorLineEnd(text, start);
      continue;
    }
    const word = tok;
    const j = start + word.length;
    if (BARE.has(word)) {
      spans.push(start, j);
      continue;
    }
    const withArgs = WITH_ARGS.has(word);
    const stmtMacro = !withArgs && STATEMENT_MACROS.test(word) && onlySpaceBefore(text, start);
    if (!withArgs && !stmtMacro) continue;
    const open = skipSpaceAndComments(text, j);
    if (text.charCodeAt(open) !== 40 || open < unbalancedUntil) continue;
    const close = matchParen(text, open);
    if (close < 0) {
      unbalancedUntil = -1 - close;
      continue;
    }
    let end = close;
    if (stmtMacro) {
      const semi = skipSpaceAndComments(text, close);
      if (text.charCodeAt(semi) === 59) end = semi + 1;
    }
    spans.push(start, end);
    re.lastIndex = end;
  }
  if (spans.length === 0) return text;
  const parts: string[] = [];
  let last = 0;
  for (let k = 0; k < spans.length; k += 2) {
    const s = spans[k];
    const e = spans[k + 1];
    parts.push(text.slice(last, s));
    parts.push(blankKeepingNewlines(text, s, e));
    last = e;
  }
  parts.push(text.slice(last));
  return parts.join('');
}

function blankKeepingNewlines(text: string, s: number, e: number): string {
  const piece = text.slice(s, e);
  if (piece.indexOf('\n') < 0 && piece.indexOf('\r') < 0) return ' '.repeat(e - s);
  return piece.replace(/[^\r\n]/g, ' ');
}
