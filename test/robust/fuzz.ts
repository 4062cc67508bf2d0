// The fuzz suite (robustness issue): random and mutated C and patches through the three faces of
// the engine, compared with each other.
//
//   - cli:     engine/cli/main.ts `check --format json` on the input written to a file (read back
//              through the CLI's own decoding, batch mode with irrelevant functions skipped);
//   - engine:  engine.analyze() of the decoded text, whole (what a fresh server open computes);
//   - session: the server's DocumentSession, opened on a mutated variant and edited to the text
//              (incremental parse, one-function re-lowering, findings cache).
//
// An input fails when a face throws, a rule fails (`degraded` note), the CLI exits with a status
// other than 0/1/2 or prints JSON that does not parse, or two faces disagree. Inputs come from a
// seeded PRNG: input i of seed s is always the same text. Hangs and memory are watched by the
// driver (scripts/fuzz.mjs -> fuzz-worker.ts), which runs this in a child process.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Engine } from '../../engine/engine';
import type { Finding } from '../../engine/findings';
import { DocumentSession } from '../../engine/session';
import { main } from '../../engine/cli/main';
import { readInputFile } from '../../engine/input/files';
import { DEFAULT_MAX_INPUT_BYTES } from '../../engine/input/decode';
import { rng } from '../../bench/generate-corpus';
import { fixtureFiles, repoRoot } from '../helpers/repo';
import { backwardGotoLabels, callChain, callCycle, expectOutsideFunction, faultInWithArgs, manyFunctions, repeatedCommentOpeners, unclosedAnnotations } from './reproducers';

export interface FuzzInput {
  index: number;
  kind: string;
  /** File name the faces see (its extension picks C or patch). */
  name: string;
  text: string;
  /** A variant the session is opened with before being edited to `text`. */
  before: string;
}

export interface FuzzOutcome {
  index: number;
  kind: string;
  bytes: number;
  /** Empty when every face agreed and none failed. */
  problems: string[];
  ms: number;
}

// ---- seeds -------------------------------------------------------------------------------------

let seedTexts: string[] | undefined;

/** Our own fixtures and examples (kernel-style C we wrote; see test/fixtures/README.md). */
export function seeds(): string[] {
  if (seedTexts) return seedTexts;
  const root = repoRoot();
  const files = [...fixtureFiles(), ...fixtureFiles(join(root, 'examples'))];
  seedTexts = files.map((f) => readFileSync(f, 'utf8'));
  return seedTexts;
}

// ---- generators --------------------------------------------------------------------------------

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number): number => Math.floor(r() * n);

const TOKENS = [
  '{', '}', '(', ')', '[', ']', ';', ',', '/*', '*/', '//', '"', "'", '\\\n', '#if 0\n', '#endif\n', '#define X(a) a\n',
  'goto out;', 'out:', 'retry:', 'goto retry;', 'return -EFAULT;', 'return ret;', 'if (ret)', 'else', 'while (1)', 'for (;;)', 'do {', '} while (0);',
  'break;', 'continue;', 'switch (x) { case 1: ', 'default:', '__user', '__acquires(x)', '__releases(x)', '__attribute__((unused))', 'static', 'int',
  'struct page *page;', 'struct page **pages;', 'long ret;', 'ret = ', 'pages[i]', '&page', 'nr_pages', 'len', 'uaddr',
  'fault_in_writeable(', 'fault_in_readable(ubuf, len)', 'fault_in_iov_iter_readable(i, bytes)', 'copy_from_user(', 'copy_to_user(kbuf, ubuf, len)',
  'copy_from_user_nofault(', '__copy_to_user_inatomic(', 'pagefault_disable();', 'pagefault_enable();', 'kmap_atomic(page)', 'kunmap_atomic(p);',
  'pin_user_pages(', 'pin_user_pages_fast(uaddr, nr, FOLL_WRITE, pages)', 'get_user_pages(', 'get_user_pages_fast(uaddr, 1, 0, &page)',
  'unpin_user_pages(pages, nr)', 'unpin_user_page(', 'put_page(page);', 'put_page(', 'unpin_user_pages_dirty_lock(pages, n, true);',
  'mmap_read_lock(mm);', 'mmap_read_unlock(mm);', 'mutex_lock(&m);', 'mutex_unlock(&m);', 'spin_lock(&l);',
  '/* @faultline expect gup-leak */', '// @faultline expect clean\n', '// @faultline suppress gup-leak\n', '// @faultline suppress gup-leak: reason\n',
  '\t', '\n', ' ', '\r\n', '\r', '\f', '\u00e9', '\u{1F600}', '\uFEFF', '\u2028', 'x', '0', '-1', '0x7fffffff', '...',
];

function mutate(r: Rand, text: string): string {
  const n = text.length;
  const at = int(r, n + 1);
  switch (int(r, 9)) {
    case 0: return text.slice(0, at) + text.slice(Math.min(n, at + 1 + int(r, 40)));
    case 1: { const len = 1 + int(r, 200); return text.slice(0, at) + text.slice(at, at + len) + text.slice(at); }
    case 2: case 3: case 4: return text.slice(0, at) + pick(r, TOKENS) + text.slice(at);
    case 5: return text.slice(0, at);
    case 6: { const lines = text.split('\n'); const i = int(r, lines.length), j = int(r, lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; return lines.join('\n'); }
    case 7: return text.slice(0, at) + pick(r, seeds()) + text.slice(at);
    default: { const lines = text.split('\n'); lines.splice(int(r, lines.length), 1); return lines.join('\n'); }
  }
}

function randomC(r: Rand): string {
  const out: string[] = [];
  const fns = 1 + int(r, 4);
  for (let f = 0; f < fns; f++) {
    const body: string[] = [];
    const stmts = int(r, 14);
    for (let s = 0; s < stmts; s++) {
      const k = int(r, 3);
      body.push('\t' + (k === 0 ? pick(r, TOKENS) + ';' : k === 1 ? `if (${pick(r, ['ret', 'n != 1', 'left', '!page'])}) ${pick(r, TOKENS)}` : pick(r, TOKENS)));
    }
    out.push(`static ${pick(r, ['int', 'long', 'void', 'ssize_t'])} demo_fn${f}(${pick(r, ['void', 'char __user *ubuf, size_t len', 'unsigned long uaddr, struct page **pages, int nr'])})\n{\n${body.join('\n')}\n}\n`);
  }
  return out.join('\n');
}

function deepNesting(r: Rand): string {
  const depth = 10 + int(r, r() < 0.1 ? 3000 : 300);
  const open = pick(r, ['{', '(', 'if (x) {', '[', 'while (a) ', '/* ']);
  const close = { '{': '}', '(': ')', 'if (x) {': '}', '[': ']', 'while (a) ': ';', '/* ': '*/' }[open]!;
  const closed = r() < 0.5 ? close.repeat(depth) : '';
  return `static int demo_deep(void)\n{\n${open.repeat(depth)}x${closed}\n}\n`;
}

function longLine(r: Rand): string {
  const len = 2_000 + int(r, r() < 0.1 ? 200_000 : 20_000);
  const unit = pick(r, ['a', 'x + ', 'f(', '"', '/*', ' ', 'ret = put_page(p); ']);
  return `static int demo_long(void)\n{\n\treturn ${unit.repeat(Math.ceil(len / unit.length))};\n}\n`;
}

function asPatch(r: Rand, c: string, name: string): string {
  const lines = c.split('\n');
  const body = lines.map((l) => (r() < 0.8 ? '+' : pick(r, [' ', '-', '+', ''])) + l).join('\n');
  const count = r() < 0.7 ? lines.length : int(r, lines.length * 2 + 1);
  const head = `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: A Developer <dev@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH] demo: change ${name}\n\n---\n`;
  const diff = `diff --git a/${name} b/${name}\n--- a/${name}\n+++ b/${name}\n@@ -${r() < 0.5 ? '0,0' : `${1 + int(r, 20)},${int(r, 10)}`} +1,${count} @@${r() < 0.5 ? ' static int demo(void)' : ''}\n${body}\n`;
  const tail = r() < 0.5 ? '-- \n2.43.0\n' : '';
  const patch = (r() < 0.6 ? head : '') + diff + tail;
  return r() < 0.2 ? patch + '\n' + patch.replace(/demo/g, 'demo2') : patch;
}

function oddEncoding(r: Rand, text: string): string {
  switch (int(r, 7)) {
    case 0: return text.replace(/\n/g, '\r\n');
    case 1: return text.replace(/\n/g, '\r');
    case 2: return '\uFEFF' + text;
    case 3: return text.slice(0, int(r, text.length + 1)) + '\u0000' + text.slice(int(r, text.length + 1));
    case 4: return text.replace(/[a-z]/g, (c) => (r() < 0.05 ? String.fromCharCode(0xd800 + int(r, 0x800)) : c));
    case 5: return text.replace(/ /g, () => pick(r, [' ', '\u00a0', '\t', '\u3000', ' ']));
    default: return text.replace(/[a-z_]+/g, (w) => (r() < 0.1 ? w + '\u00e9' : w));
  }
}

/**
 * Input `index` of `seed`: the same text every time. `sizeLimitEvery`: one input in that many is
 * near the 8 MiB input limit (0: never; they are slow, so the deterministic test slice skips them).
 */
export function makeInput(seed: number, index: number, opts: { sizeLimitEvery?: number } = {}): FuzzInput {
  const r = rng((seed * 1_000_003 + index * 7919) >>> 0);
  const base = pick(r, seeds());
  let kind: string;
  let text: string;
  const roll = r();
  if (opts.sizeLimitEvery && index % opts.sizeLimitEvery === opts.sizeLimitEvery - 1) {
    kind = 'size-limit';
    const target = DEFAULT_MAX_INPUT_BYTES - 1 - int(r, 4096);
    const variant = int(r, 4);
    if (variant === 0) text = unclosedAnnotations(target, pick(r, ['__acquires(', '__attribute__((']));
    else if (variant === 1) { const unit = mutate(r, base); text = unit.repeat(Math.max(1, Math.floor(target / Math.max(1, unit.length)))).slice(0, target); }
    else if (variant === 2) text = '{'.repeat(target);
    else text = ('x'.repeat(200) + '\n').repeat(Math.floor(target / 201));
  } else if (roll < 0.45) {
    kind = 'mutated';
    text = base;
    const k = 1 + int(r, 5);
    for (let i = 0; i < k; i++) text = mutate(r, text);
  } else if (roll < 0.6) {
    kind = 'random';
    text = randomC(r);
  } else if (roll < 0.68) {
    kind = 'splice';
    text = mutate(r, base + '\n' + pick(r, seeds()));
  } else if (roll < 0.72) {
    kind = 'deep';
    text = deepNesting(r);
  } else if (roll < 0.75) {
    kind = 'long-line';
    text = longLine(r);
  } else if (roll < 0.87) {
    kind = 'patch';
    text = asPatch(r, r() < 0.5 ? mutate(r, base) : base, 'drivers/demo/demo.c');
    if (r() < 0.5) text = mutate(r, text);
  } else if (roll < 0.95) {
    kind = 'encoding';
    text = oddEncoding(r, mutate(r, base));
  } else {
    kind = 'reproducer';
    const which = int(r, 8);
    text = [
      () => unclosedAnnotations(1000 + int(r, 20_000)),
      () => repeatedCommentOpeners(300 + int(r, r() < 0.1 ? 24_000 : 3_000)),
      () => faultInWithArgs(pick(r, ['fault_in_writeable', 'fault_in_readable', 'fault_in_safe_writeable', 'fault_in_iov_iter_readable']), Array.from({ length: int(r, 5) }, () => pick(r, ['ubuf', 'len', 'i', '0']))),
      () => backwardGotoLabels(1 + int(r, 60)),
      () => callChain(2 + int(r, r() < 0.1 ? 3000 : 200)),
      () => callCycle(2 + int(r, r() < 0.1 ? 3000 : 200)),
      () => manyFunctions(10 + int(r, r() < 0.1 ? 5000 : 300), 1 + int(r, 60)),
      () => expectOutsideFunction + (r() < 0.5 ? base : ''),
    ][which]();
  }
  const isPatch = kind === 'patch';
  const name = isPatch ? pick(r, ['in.patch', 'in.mbox', 'in.diff', 'in.eml']) : pick(r, ['in.c', 'in.c', 'in.h']);
  // One input in four reaches the session through an edit (incremental parse, cache); the
  // others are opened as they are (the fresh-open path).
  const before = text.length > 200_000 || r() < 0.75 ? text : mutate(r, text);
  return { index, kind, name, text, before };
}

// ---- running one input through the three faces -------------------------------------------------

interface Comparable {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  rule: string;
  message: string;
}

function comparable(f: Finding): Comparable {
  return { line: f.range.startRow + 1, column: f.range.startCol + 1, endLine: f.range.endRow + 1, endColumn: f.range.endCol + 1, rule: f.rule, message: f.message };
}

function key(c: Comparable): string {
  return `${c.line}:${c.column}-${c.endLine}:${c.endColumn} ${c.rule} ${c.message}`;
}

function diff(a: string[], b: string[]): string {
  const sa = new Set(a), sb = new Set(b);
  const onlyA = a.filter((x) => !sb.has(x)), onlyB = b.filter((x) => !sa.has(x));
  return `${onlyA.length ? `only first: ${onlyA.slice(0, 3).join(' | ')}` : ''}${onlyB.length ? ` only second: ${onlyB.slice(0, 3).join(' | ')}` : ''}`.slice(0, 600);
}

/**
 * Where the runner writes each input for the CLI face: memory (/dev/shm) where there is one.
 * Rewriting a file on a disk file system costs a blocking flush per input (ext4 allocates the
 * blocks of a truncated-and-rewritten file at once): 2.4 ms of wall time per input here, against
 * 0.05 ms in memory.
 */
function scratchBase(): string {
  if (process.env.FAULTLINE_FUZZ_TMP) return process.env.FAULTLINE_FUZZ_TMP;
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export class FuzzRunner {
  private dir = mkdtempSync(join(scratchBase(), 'faultline-fuzz-'));
  constructor(private readonly engine: Engine) {}

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Called before each face (CLI, engine, session) with its name. In real use each face is a
   * process of its own (the CLI, the language server); the fuzz worker uses this to measure each
   * face's peak memory apart (fuzz-worker.ts).
   */
  beforeFace?: (face: 'cli' | 'engine' | 'session') => void;

  async run(input: FuzzInput): Promise<FuzzOutcome> {
    const t0 = Date.now();
    const problems: string[] = [];
    const file = join(this.dir, input.name);
    writeFileSync(file, input.text);
    await this.engine.ready();

    // 1. CLI.
    this.beforeFace?.('cli');
    let out = '';
    let err = '';
    let code = -1;
    try {
      code = await main(['check', '--format', 'json', file], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, stdin: new PassThrough(), cwd: this.dir, env: {} });
    } catch (e) {
      problems.push(`cli threw: ${(e as Error)?.stack ?? e}`);
    }
    if (code !== 0 && code !== 1 && code !== 2) problems.push(`cli exit ${code}`);
    let cliDiags: Comparable[] = [];
    let cliProblems: { message: string }[] = [];
    try {
      const j = JSON.parse(out) as { diagnostics: (Comparable & { file: string })[]; problems?: { message: string }[] };
      cliDiags = j.diagnostics.map((d) => ({ line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, rule: d.rule, message: d.message }));
      cliProblems = j.problems ?? [];
    } catch (e) {
      problems.push(`cli JSON does not parse: ${(e as Error).message}: ${out.slice(0, 200)}`);
    }
    for (const p of cliProblems) if (/internal error/.test(p.message)) problems.push(`cli: ${p.message}`);

    // The text the CLI analysed (decoding: BOM, encoding and size checks); other faces get it.
    const decoded = readInputFile(file);
    if (!decoded.ok) return { index: input.index, kind: input.kind, bytes: input.text.length, problems, ms: Date.now() - t0 };
    const text = decoded.text;

    this.beforeFace?.('engine');
    // 2. Engine, whole text (no batch shortcut). Between inputs a caller awaits ready() (the
    // parser may be replaced after a failure or a memory stop), as the CLI and the server do.
    await this.engine.ready();
    let engineFindings: Finding[] = [];
    try {
      const r = this.engine.analyze(text, { path: file });
      r.tree?.delete();
      engineFindings = r.findings;
    } catch (e) {
      problems.push(`engine threw: ${(e as Error)?.stack ?? e}`);
    }

    // 3. Server session: opened on a variant, edited to the text.
    this.beforeFace?.('session');
    let sessionFindings: Finding[] = [];
    const session = new DocumentSession(this.engine, `file://${file}`, file, input.before);
    try {
      if (input.before !== text) {
        await session.analyzeAsync();
        session.applyChange({ text });
      }
      const r = await session.analyzeAsync();
      if (!r) problems.push('session: no result');
      else {
        sessionFindings = r.findings;
        for (const p of r.problems) if (/Faultline could not analyze this text/.test(p.message)) problems.push(`session: ${p.message}`);
      }
    } catch (e) {
      problems.push(`session threw: ${(e as Error)?.stack ?? e}`);
    } finally {
      session.dispose();
    }

    for (const f of [...engineFindings, ...sessionFindings]) if (f.rule === 'degraded') problems.push(`degraded: ${f.message}`);
    const cli = cliDiags.map(key).sort();
    const eng = engineFindings.map(comparable).map(key).sort();
    const ses = sessionFindings.map(comparable).map(key).sort();
    if (cli.join('\n') !== eng.join('\n')) problems.push(`cli vs engine: ${diff(cli, eng)}`);
    if (ses.join('\n') !== eng.join('\n')) problems.push(`session vs engine: ${diff(ses, eng)}`);
    return { index: input.index, kind: input.kind, bytes: input.text.length, problems: [...new Set(problems)], ms: Date.now() - t0 };
  }
}
