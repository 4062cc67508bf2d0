// Loading web-tree-sitter and the tree-sitter-c grammar without any network access.
//
// The two wasm files are copied by scripts/build.mjs into grammars/ (repo root) and dist/ (next
// to the esbuild bundles); a packaged VS Code extension ships them next to its bundle. We look
// for them relative to this module's directory, which covers out/engine/syntax/*.js, dist/*.js
// and the extension, and finally fall back to the npm packages themselves.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as TreeSitter from 'web-tree-sitter';
import { skipNonCode } from './skip';

export type Tree = TreeSitter.Tree;
export type SyntaxNode = TreeSitter.Node;
export type Language = TreeSitter.Language;

export interface CParser {
  /**
   * Parse C text (already macro-blanked if the caller wants kernel tolerance). Never returns null.
   * Bounded (ParseLimits; defaults from the text's length): throws ParseStopped when a bound is
   * hit, ParserFailed when the wasm runtime failed (it is being restarted: await parserReady()).
   */
  parse(text: string, oldTree?: Tree | null, options?: ParseOptions): Tree;
  /** The loaded grammar (node type / field tables, queries). */
  readonly language: Language;
}

const GRAMMAR_WASM = 'tree-sitter-c.wasm';
const RUNTIME_WASM = 'web-tree-sitter.wasm';

function candidateDirs(wasmDir?: string): string[] {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const dirs: string[] = [];
  // An explicit directory wins: a host that knows where it put the wasm should not be second-guessed.
  if (wasmDir) dirs.push(wasmDir);
  dirs.push(
    here, // dist/cli.js, dist/server.js, packaged extension
    join(here, 'grammars'),
    join(here, '..', 'grammars'),
    join(here, '..', '..', 'grammars'), // out/engine/syntax -> out/grammars (unlikely) / engine/syntax (ts-node)
    join(here, '..', '..', '..', 'grammars'), // out/engine/syntax -> <root>/grammars
    join(here, '..', 'dist'),
    join(here, '..', '..', '..', 'dist'),
  );
  return dirs;
}

function findWasm(file: string, wasmDir?: string): string | undefined {
  for (const d of candidateDirs(wasmDir)) {
    const p = join(d, file);
    if (existsSync(p)) return p;
  }
  // Last resort: the npm packages (development checkout without a build).
  const pkg = file === GRAMMAR_WASM ? 'tree-sitter-c' : 'web-tree-sitter';
  try {
    const p = require.resolve(`${pkg}/${file}`);
    if (existsSync(p)) return p;
  } catch {
    /* not resolvable from here (bundled); fall through */
  }
  try {
    const p = join(dirname(require.resolve(`${pkg}/package.json`)), file);
    if (existsSync(p)) return p;
  } catch {
    /* ditto */
  }
  return undefined;
}

/**
 * The runtime: one instance of the web-tree-sitter wasm module and the grammar loaded into it.
 * A wasm abort (out of memory, `unreachable`) leaves the instance unusable for good, and a parse
 * stopped by the memory bound leaves its memory grown; both are answered by a fresh instance
 * (restartRuntime). web-tree-sitter keeps ONE module per copy of its JavaScript (Parser.init
 * returns the cached one even after an abort), so a fresh instance needs a fresh copy of the
 * library: the build ships `web-tree-sitter.cjs` next to the wasm files and a restart loads it
 * again outside the require cache. `generation` tells trees and parsers of a dead instance apart.
 */
type TreeSitterLib = typeof TreeSitter;

interface Runtime {
  generation: number;
  lib: TreeSitterLib;
  language: Language;
  /** The Emscripten module object (our options object; HEAP8 etc. live on it). */
  module: Record<string, unknown>;
}

const LIBRARY_JS = 'web-tree-sitter.cjs';

let runtime: Runtime | undefined;
let runtimePromise: Promise<Runtime> | undefined;
let generationCounter = 0;
let lastWasmDir: string | undefined;
/** Runtimes loaded so far (the first uses the bundled library; later ones a fresh copy). */
let loads = 0;

/** A fresh copy of the library (its own module, finalizers and state), or undefined outside Node. */
function freshLibrary(wasmDir?: string): TreeSitterLib | undefined {
  try {
    let path: string | undefined;
    for (const d of candidateDirs(wasmDir)) if (existsSync(join(d, LIBRARY_JS))) { path = join(d, LIBRARY_JS); break; }
    if (!path) {
      try {
        path = require.resolve('web-tree-sitter');
      } catch {
        return undefined;
      }
    }
    // A require the bundler leaves alone: it must load the file at run time, every time afresh.
    const { createRequire } = require('node:module') as typeof import('node:module');
    const req = createRequire(path);
    delete req.cache[path];
    const lib = req(path) as TreeSitterLib;
    delete req.cache[path];
    return lib;
  } catch {
    return undefined;
  }
}

async function loadLanguage(wasmDir?: string): Promise<Runtime> {
  const runtimeWasm = findWasm(RUNTIME_WASM, wasmDir);
  const grammar = findWasm(GRAMMAR_WASM, wasmDir);
  if (!grammar) {
    throw new Error(`faultline: cannot find ${GRAMMAR_WASM} (looked in ${candidateDirs(wasmDir).join(', ')}); run the build`);
  }
  const moduleOptions: Record<string, unknown> = {
    locateFile: (path: string, scriptDirectory: string) => {
      if (path === RUNTIME_WASM && runtimeWasm) return runtimeWasm;
      return join(scriptDirectory, path);
    },
  };
  if (runtimeMemoryForTests.maximumPages) {
    // A small ceiling makes a real wasm abort (out of memory) cheap to provoke in a test.
    moduleOptions.wasmMemory = new WebAssembly.Memory({ initial: 512, maximum: Math.max(512, runtimeMemoryForTests.maximumPages) });
  }
  const lib = loads++ === 0 ? TreeSitter : freshLibrary(wasmDir) ?? TreeSitter;
  await lib.Parser.init(moduleOptions);
  installFastTransfer(moduleOptions);
  const language = await lib.Language.load(grammar);
  return { generation: ++generationCounter, lib, language, module: moduleOptions };
}

/**
 * Tests only: the wasm memory ceiling (64 KiB pages) of runtimes loaded from now on (default:
 * web-tree-sitter's 2 GiB). Set before the first parser is loaded.
 */
export const runtimeMemoryForTests: { maximumPages?: number } = {};

function startRuntime(wasmDir?: string): Promise<Runtime> {
  lastWasmDir = wasmDir;
  const p = loadLanguage(wasmDir).then((r) => {
    runtime = r;
    return r;
  });
  runtimePromise = p;
  // A failed load must not poison the cache: a later call (e.g. after a build) may succeed.
  p.catch(() => {
    if (runtimePromise === p) runtimePromise = undefined;
  });
  return p;
}

/** Generation of the runtime each tree and parser we handed out belongs to. */
const generationOf = new WeakMap<object, number>();

function track<T extends object>(o: T): T {
  if (runtime) generationOf.set(o, runtime.generation);
  return o;
}

/** False for a tree (or parser) of a runtime that has been replaced: do not use it. */
export function isLive(o: object | null | undefined): boolean {
  return !!o && runtime !== undefined && generationOf.get(o) === runtime.generation;
}

/** Runtime generation: changes when a fresh wasm instance replaces a failed one. */
export function runtimeGeneration(): number {
  return runtime?.generation ?? 0;
}

/**
 * Cut a replaced instance loose: every function on its module object becomes a no-op and its
 * memory views go, so trees and parsers of it that are deleted or finalized later touch nothing
 * (an aborted instance would throw from a finalizer) and its memory can be collected.
 */
function retire(mod: Record<string, unknown>): void {
  for (const k of Object.keys(mod)) {
    const v = mod[k];
    try {
      if (typeof v === 'function') mod[k] = () => 0;
      else if (ArrayBuffer.isView(v)) mod[k] = undefined;
    } catch {
      /* a read-only property: leave it */
    }
  }
}

/**
 * Replace the wasm instance (after an abort, or to give back memory a stopped parse grew). Every
 * tree and parser made so far becomes dead (isLive false; its methods do nothing). Resolves when
 * the new instance is ready; concurrent calls share one restart.
 */
export function restartRuntime(): Promise<void> {
  if (runtime === undefined && runtimePromise) return runtimePromise.then(() => undefined);
  const old = runtime;
  runtime = undefined;
  rawCursorApi = undefined;
  const next = startRuntime(lastWasmDir);
  if (old) retire(old.module);
  return next.then(() => undefined);
}

/** Set when the instance should be replaced at the next parserReady() (its memory grew). */
let restartWanted = false;

/** Whether a runtime is loaded and no restart is in progress or wanted. */
export function parserIsReady(): boolean {
  return runtime !== undefined && !restartWanted;
}

/** Resolves once a usable runtime is loaded (after a restart in progress). */
export async function parserReady(): Promise<void> {
  if (restartWanted && runtime) {
    restartWanted = false;
    await restartRuntime();
  }
  // A restart may begin while we wait for another: wait until one is loaded.
  for (let i = 0; !runtime && i < 4; i++) await (runtimePromise ?? startRuntime(lastWasmDir));
}

/** Bytes of wasm memory of the current runtime (grows, never shrinks). */
export function wasmMemoryBytes(): number {
  const heap = runtime?.module.HEAP8 as Int8Array | undefined;
  return heap ? heap.buffer.byteLength : 0;
}

// ---- bounded parses ----------------------------------------------------------------------------

/**
 * Why a parse was stopped: its step budget, the memory bound, or the caller's cancellation. The
 * caller reports it (engine/budget.ts) and analyses nothing of the text.
 */
export class ParseStopped extends Error {
  constructor(readonly reason: 'steps' | 'memory' | 'nesting' | 'tokens' | 'cancelled', readonly bound: string) {
    super(`parse stopped: ${bound}`);
    this.name = 'ParseStopped';
  }
}

/** The parser itself failed (a wasm abort); the runtime is being replaced. */
export class ParserFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(`the C parser failed (${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}); it was restarted`);
    this.name = 'ParserFailed';
  }
}

/**
 * Parse steps: tree-sitter calls the progress callback every 100 parser operations, and the input
 * callback each time the lexer needs text it does not have in its buffer. Input is handed out in
 * chunks of PARSE_CHUNK characters, so a lexer that scans the rest of the file again and again
 * (an unterminated comment re-lexed from every position: quadratic) pays for every chunk it reads.
 * Measured on Linux 6.1 (mm/gup.c, mm/memory.c, a 16 MB register header): 0.3 to 0.8 steps per
 * character; 12 KB of repeated `/* `: 1,600 steps per character.
 */
export const PARSE_CHUNK = 1024;
const STEPS_PER_PROGRESS = 100;
const STEPS_PER_READ = 100;
/** Steps per character a read goes back over text already read (see boundedParse). */
const STEPS_PER_CHAR_REREAD = 2;

export interface ParseLimits {
  /** Steps the parse may take (see PARSE_CHUNK); default parseStepBound(text.length). */
  maxSteps?: number;
  /** Wasm memory the parse may grow the runtime to, bytes (default PARSE_MEMORY_BOUND). */
  maxMemory?: number;
  /** Bracket nesting the text may have (default MAX_NESTING). */
  maxNesting?: number;
  /** Tokens the text may have (default MAX_PARSE_TOKENS). */
  maxTokens?: number;
  /**
   * The text's token count when the parsed text is a blanked copy of it (engine.ts: the CLI's
   * batch parse): the bound is decided on the whole text, as every other face parses it.
   */
  tokens?: number;
  /**
   * The text's bracket nesting (bracketDepth up to nestingLimit()) when the parsed text is a
   * blanked copy of it: decided on the whole text, like `tokens` (a blanked-away function nested
   * past the bound stopped the server's parse and not the CLI's), and scanned once for both of
   * the batch path's parses.
   */
  nesting?: number;
  cancelled?: () => boolean;
}

/**
 * Tokens a parse accepts. A syntax tree takes wasm memory in proportion to its tokens (measured on
 * 8 MB texts: up to about 195 bytes per token for `;;;;` or `] ) ] )`, 120-170 for code), so past
 * this count the memory bound would stop the parse anyway; but the memory bound is met at a point
 * that depends on the instance's history (how far its heap had grown before) and on the blanking
 * of the CLI's batch parse, so near it the same text could parse in one face and not another (fuzz
 * seed 31 #29999: 8.4 MB of repeated functions). A count of the text decides it the same way in
 * every face, below the memory bound (750 k tokens: at most 199 MiB, for `;` repeated in a body). Real code is far
 * below: about 4 MB of kernel C; generated register headers are mostly directive lines.
 */
export const MAX_PARSE_TOKENS = 750_000;

/**
 * Tokens of `text` as the bound counts them (a linear scan; stops counting past `limit`): a run
 * of identifier or number characters is one, every other character that is not white space is
 * one (`->` counts two: an over-count errs on the side of the bound), a string or character
 * literal is one, comments are none (skip.ts, as bracketDepth skips them).
 */
export function parseTokenCount(text: string, limit = Infinity): number {
  let tokens = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (++tokens > limit) return tokens;
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) {
      while (i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if ((d >= 48 && d <= 57) || (d >= 65 && d <= 90) || (d >= 97 && d <= 122) || d === 95) i++;
        else break;
      }
    } else if (c === 47 /* / */ || c === 34 /* " */ || c === 39 /* ' */) {
      const after = skipNonCode(text, i);
      if (after !== i) {
        if (c === 47) tokens--; // a comment
        i = after - 1;
      }
    }
  }
  return tokens;
}

/** Default parse budget: 40 steps per character (50x what real code takes) plus a floor. */
export function parseStepBound(length: number): number {
  return 400_000 + 40 * length;
}

/**
 * Default memory bound of one parse: 256 MiB of wasm memory. The instance can grow to 2 GiB, but
 * a stack that doubles an array near the top aborts before any callback sees it (8 MB of
 * unclosed `__acquires(` did at 768 MiB). Real code is far below: the first 8 MB of Linux 6.1's
 * largest header (an amdgpu register mask file) parse in 32 MiB.
 */
export const PARSE_MEMORY_BOUND = 256 * 1024 * 1024;

/**
 * Wasm memory past which the instance is replaced at the next parserReady() after a parse that
 * finished (wasm memory grows and never shrinks): 8 MB of repeated functions grows it to 240 MiB,
 * which every later input would otherwise carry. Real code stays far below (the first 8 MB of Linux
 * 6.1's largest header: 32 MiB). Trees of the old instance die with it (isLive false): a session
 * holding one parses its next version whole.
 */
export const RELEASE_MEMORY_ABOVE = 96 * 1024 * 1024;

/** Instances replaced to give back the memory of a large parse (tests, fuzz statistics). */
export const memoryReleases = { count: 0 };

export interface ParseOptions {
  limits?: ParseLimits;
  includedRanges?: TreeSitter.Range[];
}

/**
 * Bracket nesting a parse accepts. tree-sitter's error recovery over millions of unclosed `(` or
 * `{` does work per step that grows with the depth (2 MB of unclosed `__attribute__((` ran 16 s
 * before its memory bound), so such text is not parsed at all. Real code is nowhere near: kernel
 * C nests brackets a few dozen deep.
 */
export const MAX_NESTING = 10_000;

/**
 * Deepest nesting of ( [ { in `text`, outside comments, string and character literals (skipped
 * by skip.ts, as parseTokenCount skips them; a linear scan; stops counting once past `limit`).
 */
export function bracketDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 41 || c === 93 || c === 125) {
      if (depth > 0) depth--;
    } else if (c === 47 /* / */ || c === 34 /* " */ || c === 39 /* ' */) {
      // A literal ends at its quote or at the end of the line (an unterminated one).
      const after = skipNonCode(text, i);
      if (after !== i) i = after - 1;
    }
  }
  return max;
}

/** Tests only: defaults of every parse that does not set them (to provoke a real wasm abort). */
export const parseDefaultsForTests: { maxNesting?: number } = {};

/** The bracket nesting a parse accepts by default (MAX_NESTING, unless a test changed it). */
export function nestingLimit(): number {
  return parseDefaultsForTests.maxNesting ?? MAX_NESTING;
}

/** Steps the last parse took (tests, fuzz statistics). */
export let lastParseSteps = 0;

/** Characters the last parse's lexer was handed (tests: what a read costs). */
export let lastParseCharsRead = 0;

function boundedParse(parser: TreeSitter.Parser, text: string, oldTree: Tree | null, opts: ParseOptions | undefined): Tree | null {
  const limits = opts?.limits ?? {};
  const maxNesting = limits.maxNesting ?? nestingLimit();
  if ((limits.nesting ?? (text.length > maxNesting ? bracketDepth(text, maxNesting) : 0)) > maxNesting) {
    lastParseSteps = 0;
    throw new ParseStopped('nesting', `bracket nesting bound (${maxNesting} levels)`);
  }
  // Fewer characters than the bound cannot hold more tokens: no scan for them.
  const maxTokens = limits.maxTokens ?? MAX_PARSE_TOKENS;
  if (text.length > maxTokens && (limits.tokens ?? parseTokenCount(text, maxTokens)) > maxTokens) {
    lastParseSteps = 0;
    throw new ParseStopped('tokens', `parser token bound (${maxTokens} tokens)`);
  }
  const maxSteps = limits.maxSteps ?? parseStepBound(text.length);
  const maxMemory = limits.maxMemory ?? PARSE_MEMORY_BOUND;
  const cancelled = limits.cancelled;
  let steps = 0;
  let stopped: ParseStopped | undefined;
  const over = (): boolean => {
    if (stopped) return true;
    if (steps > maxSteps) stopped = new ParseStopped('steps', `parse step budget (${maxSteps} steps for ${text.length} characters)`);
    else if (wasmMemoryBytes() > maxMemory) stopped = new ParseStopped('memory', `parser memory bound (${Math.round(maxMemory / 1048576)} MiB)`);
    else if (cancelled?.()) stopped = new ParseStopped('cancelled', 'cancelled');
    return stopped !== undefined;
  };
  let charsRead = 0;
  let furthest = 0;
  const input = (index: number): string => {
    steps += STEPS_PER_READ;
    // A lexer sent back over text it already read (error recovery retrying a token that runs to
    // the end of the file, like an unterminated comment, from every later position) pays for the
    // distance: a chunk read costs the same small step count whatever its length, and 8 MB of
    // one unterminated comment re-read from each `/*` in it took 130 s within 40 steps per
    // character. Real code goes back within the last chunk (a token, a lookahead): not counted.
    if (index + PARSE_CHUNK < furthest) steps += (furthest - index - PARSE_CHUNK) * STEPS_PER_CHAR_REREAD;
    // Past the budget the lexer sees the end of the text: the parse then finishes at once (its
    // tree is thrown away); the progress callback alone would let one long lexer scan run on.
    if (steps > maxSteps) return '';
    const chunk = text.slice(index, index + PARSE_CHUNK);
    charsRead += chunk.length;
    furthest = Math.max(furthest, index + chunk.length);
    return chunk;
  };
  const options: TreeSitter.ParseOptions = {
    progressCallback: () => {
      steps += STEPS_PER_PROGRESS;
      return over();
    },
  };
  if (opts?.includedRanges) options.includedRanges = opts.includedRanges;
  let tree: Tree | null;
  try {
    tree = parser.parse(input, oldTree, options);
  } finally {
    lastParseSteps = steps;
    lastParseCharsRead = charsRead;
  }
  over();
  if (stopped) {
    tree?.delete();
    // A parse stopped by memory leaves the instance grown: it is replaced (and the memory given
    // back) at the next parserReady(), the point where callers can wait; until then it still works.
    if (stopped.reason === 'memory') restartWanted = true;
    throw stopped;
  }
  if (wasmMemoryBytes() > RELEASE_MEMORY_ABOVE && !restartWanted) {
    restartWanted = true;
    memoryReleases.count++;
  }
  return tree ? track(tree) : null;
}

/**
 * A parser of the current runtime. Replaced by a fresh one when the runtime was restarted; a
 * failure inside the wasm restarts the runtime and throws ParserFailed (the caller reports that
 * one input; the next parse, after parserReady(), works again).
 */
export class BoundedParser {
  private parser: TreeSitter.Parser | undefined;
  private generation = -1;

  /** The grammar of the current runtime (throws while a restart is in progress). */
  get language(): Language {
    return this.current().language!;
  }

  private current(): TreeSitter.Parser {
    const rt = runtime;
    if (!rt) throw new ParserFailed(new Error('the parser runtime is restarting'));
    if (!this.parser || this.generation !== rt.generation) {
      const p = track(new rt.lib.Parser());
      p.setLanguage(rt.language);
      this.parser = p;
      this.generation = rt.generation;
    }
    return this.parser;
  }

  /** Parse, or null when tree-sitter gives no tree. Throws ParseStopped or ParserFailed. */
  parse(text: string, oldTree?: Tree | null, opts?: ParseOptions): Tree | null {
    const p = this.current();
    const old = oldTree && isLive(oldTree) ? oldTree : null;
    try {
      return boundedParse(p, text, old, opts);
    } catch (err) {
      if (err instanceof ParseStopped) {
        // A cancelled parse may leave state behind for resumption: start clean next time.
        if (isLive(p)) p.reset();
        throw err;
      }
      this.parser = undefined;
      void restartRuntime();
      throw new ParserFailed(err);
    }
  }

  delete(): void {
    if (this.parser && isLive(this.parser)) this.parser.delete();
    this.parser = undefined;
  }
}

/**
 * Every TreeCursor/Node call copies a few 32-bit words through the runtime's generic
 * `setValue`/`getValue(ptr, type)`, which dispatch on the type string and go through a
 * DataView. On a little-endian host an `i32` access is exactly `HEAP32[ptr >> 2]`; replacing
 * the two helpers for that case makes the whole-tree walk of the lowering ~25% faster
 * (measured on the performance test). The Emscripten module object is the options object we
 * passed to `Parser.init`; if it is not (the runtime was initialised elsewhere first) or the
 * shape differs, nothing is changed.
 */
function installFastTransfer(mod: Record<string, unknown>): void {
  const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const origSet = mod.setValue;
  const origGet = mod.getValue;
  if (!littleEndian || typeof origSet !== 'function' || typeof origGet !== 'function' || !(mod.HEAP32 instanceof Int32Array)) return;
  if ((mod as { faultlineFastTransfer?: boolean }).faultlineFastTransfer) return;
  // HEAP32 is re-created when wasm memory grows, so it is read from the module on every call.
  mod.setValue = (ptr: number, value: number, type?: string): void => {
    if (type === 'i32') (mod.HEAP32 as Int32Array)[ptr >> 2] = value;
    else (origSet as (p: number, v: number, t?: string) => void)(ptr, value, type);
  };
  mod.getValue = (ptr: number, type?: string): number => {
    if (type === 'i32') return (mod.HEAP32 as Int32Array)[ptr >> 2];
    return (origGet as (p: number, t?: string) => number)(ptr, type);
  };
  (mod as { faultlineFastTransfer?: boolean }).faultlineFastTransfer = true;
  installRawCursor(mod);
}

// ---- a whole-tree walk without the per-call cursor copies ------------------------------------

/**
 * The cursor operations a whole-tree walk needs (engine/lower/syntax-tree.ts mirrorTree).
 * Offsets are in the same units as `Node.startIndex`.
 */
export interface WalkCursor {
  typeId(): number;
  fieldId(): number;
  startIndex(): number;
  endIndex(): number;
  isMissing(): boolean;
  /** Whether the subtree at the cursor contains a parse error or a MISSING node. */
  hasError(): boolean;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
  /** Run code that may itself call tree-sitter (a cancellation callback) without losing the walk. */
  outside<T>(f: () => T): T;
  delete(): void;
}

type WasmFn = (tree: number) => number;
interface RawCursorApi {
  mod: Record<string, unknown>;
  /** Address of the runtime's transfer buffer (where every cursor call reads the cursor). */
  buffer: number;
  typeId: WasmFn;
  fieldId: WasmFn;
  start: WasmFn;
  end: WasmFn;
  missing: WasmFn;
  firstChild: WasmFn;
  nextSibling: WasmFn;
  parent: WasmFn;
  currentNode: WasmFn;
  nodeHasError: WasmFn;
}

let rawCursorApi: RawCursorApi | undefined;

/**
 * web-tree-sitter's TreeCursor copies its four-word state into the runtime's transfer buffer
 * before every call and back after every move; the C side reads the cursor from that buffer
 * and writes it back there after a move. A walk that makes no other runtime call in between
 * can leave the state in the buffer and call the exported functions directly: about 4.6 cursor
 * calls per node over a million nodes for the bench corpus, each of them a getter, four
 * buffer writes (four reads after a move) and the wasm call. Only used when every export is
 * present; checked against the public cursor on each walk (openWalkCursor).
 */
function installRawCursor(mod: Record<string, unknown>): void {
  const fn = (name: string): WasmFn | undefined => (typeof mod[name] === 'function' ? (mod[name] as WasmFn) : undefined);
  const init = fn('_ts_init') as unknown as (() => number) | undefined;
  const api = {
    typeId: fn('_ts_tree_cursor_current_node_type_id_wasm'),
    fieldId: fn('_ts_tree_cursor_current_field_id_wasm'),
    start: fn('_ts_tree_cursor_start_index_wasm'),
    end: fn('_ts_tree_cursor_end_index_wasm'),
    missing: fn('_ts_tree_cursor_current_node_is_missing_wasm'),
    firstChild: fn('_ts_tree_cursor_goto_first_child_wasm'),
    nextSibling: fn('_ts_tree_cursor_goto_next_sibling_wasm'),
    parent: fn('_ts_tree_cursor_goto_parent_wasm'),
    currentNode: fn('_ts_tree_cursor_current_node_wasm'),
    nodeHasError: fn('_ts_node_has_error_wasm'),
  };
  if (!init || Object.values(api).some((f) => f === undefined)) return;
  // `ts_init` only stores the two language version numbers in the transfer buffer and returns
  // its address (Parser.init has just called it the same way).
  const buffer = init();
  if (typeof buffer !== 'number' || buffer <= 0 || buffer % 4 !== 0) return;
  rawCursorApi = { mod, buffer, ...(api as Omit<RawCursorApi, 'mod' | 'buffer'>) };
}

class ApiWalkCursor implements WalkCursor {
  constructor(private readonly c: TreeSitter.TreeCursor) {}
  typeId(): number { return this.c.nodeTypeId; }
  fieldId(): number { return this.c.currentFieldId; }
  startIndex(): number { return this.c.startIndex; }
  endIndex(): number { return this.c.endIndex; }
  isMissing(): boolean { return this.c.nodeIsMissing; }
  hasError(): boolean { return this.c.currentNode.hasError; }
  gotoFirstChild(): boolean { return this.c.gotoFirstChild(); }
  gotoNextSibling(): boolean { return this.c.gotoNextSibling(); }
  gotoParent(): boolean { return this.c.gotoParent(); }
  outside<T>(f: () => T): T { return f(); }
  delete(): void { this.c.delete(); }
}

/** The cursor state lives in the transfer buffer between calls (see installRawCursor). */
class RawWalkCursor implements WalkCursor {
  private readonly tree: number;
  constructor(private readonly api: RawCursorApi, private readonly c: TreeSitter.TreeCursor, tree: Tree) {
    this.tree = (tree as unknown as Record<number, number>)[0];
    this.load();
  }
  /** Put the public cursor's state into the buffer. */
  private load(): void {
    const h = this.api.mod.HEAP32 as Int32Array;
    const w = this.c as unknown as Record<number, number>;
    const b = this.api.buffer >> 2;
    h[b] = w[0]; h[b + 1] = w[1]; h[b + 2] = w[2]; h[b + 3] = w[3];
  }
  typeId(): number { return this.api.typeId(this.tree); }
  fieldId(): number { return this.api.fieldId(this.tree); }
  startIndex(): number { return this.api.start(this.tree); }
  endIndex(): number { return this.api.end(this.tree); }
  isMissing(): boolean { return this.api.missing(this.tree) === 1; }
  hasError(): boolean {
    // Reading the node overwrites the buffer: keep the cursor words and put them back.
    return this.outside(() => {
      this.api.currentNode(this.tree);
      return this.api.nodeHasError(this.tree) === 1;
    });
  }
  outside<T>(f: () => T): T {
    const b = this.api.buffer >> 2;
    let h = this.api.mod.HEAP32 as Int32Array;
    const w0 = h[b], w1 = h[b + 1], w2 = h[b + 2], w3 = h[b + 3];
    try {
      return f();
    } finally {
      // HEAP32 is replaced when wasm memory grows: read it again.
      h = this.api.mod.HEAP32 as Int32Array;
      h[b] = w0; h[b + 1] = w1; h[b + 2] = w2; h[b + 3] = w3;
    }
  }
  gotoFirstChild(): boolean { return this.api.firstChild(this.tree) === 1; }
  gotoNextSibling(): boolean { return this.api.nextSibling(this.tree) === 1; }
  gotoParent(): boolean { return this.api.parent(this.tree) === 1; }
  delete(): void {
    // Hand the moved state back to the public cursor so it frees what it owns.
    const h = this.api.mod.HEAP32 as Int32Array;
    const w = this.c as unknown as Record<number, number>;
    const b = this.api.buffer >> 2;
    w[0] = h[b]; w[1] = h[b + 1]; w[2] = h[b + 2]; w[3] = h[b + 3];
    this.c.delete();
  }
}

/**
 * A cursor at the tree's root for one uninterrupted walk: no other tree-sitter call may run
 * until `delete()` (the walk is synchronous). Uses the direct exports when available and they
 * agree with the public cursor on the root; otherwise the public TreeCursor.
 */
export function openWalkCursor(tree: Tree): WalkCursor {
  const api = rawCursorApi;
  if (api) {
    const probe = tree.walk();
    const want = [probe.nodeTypeId, probe.startIndex, probe.endIndex];
    const raw = new RawWalkCursor(api, probe, tree);
    if (raw.typeId() === want[0] && raw.startIndex() === want[1] && raw.endIndex() === want[2]) return raw;
    raw.delete();
  }
  return new ApiWalkCursor(tree.walk());
}

/**
 * Load the C parser. The runtime and grammar are loaded once per process (again after a restart);
 * later calls only create a fresh parser around the cached language.
 */
export async function loadCParser(opts?: { wasmDir?: string }): Promise<CParser> {
  if (!runtimePromise) startRuntime(opts?.wasmDir);
  await parserReady();
  const parser = new BoundedParser();
  return {
    get language() {
      return parser.language;
    },
    parse(text: string, oldTree?: Tree | null, options?: ParseOptions): Tree {
      const tree = parser.parse(text, oldTree ?? null, options);
      if (tree) return tree;
      // parse() only returns null when cancelled or without a language; retry from scratch once.
      const again = parser.parse(text, null, options);
      if (!again) throw new Error('faultline: tree-sitter returned no tree');
      return again;
    },
  };
}
