// Loading web-tree-sitter and the tree-sitter-c grammar without any network access.
//
// The two wasm files are copied by scripts/build.mjs into grammars/ (repo root) and dist/ (next
// to the esbuild bundles); a packaged VS Code extension ships them next to its bundle. We look
// for them relative to this module's directory, which covers out/engine/syntax/*.js, dist/*.js
// and the extension, and finally fall back to the npm packages themselves.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as TreeSitter from 'web-tree-sitter';

export type Tree = TreeSitter.Tree;
export type SyntaxNode = TreeSitter.Node;
export type Language = TreeSitter.Language;

export interface CParser {
  /** Parse C text (already macro-blanked if the caller wants kernel tolerance). Never returns null. */
  parse(text: string, oldTree?: Tree | null): Tree;
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

let languagePromise: Promise<Language> | undefined;

async function loadLanguage(wasmDir?: string): Promise<Language> {
  const runtime = findWasm(RUNTIME_WASM, wasmDir);
  const grammar = findWasm(GRAMMAR_WASM, wasmDir);
  if (!grammar) {
    throw new Error(`faultline: cannot find ${GRAMMAR_WASM} (looked in ${candidateDirs(wasmDir).join(', ')}); run the build`);
  }
  const moduleOptions = {
    locateFile: (path: string, scriptDirectory: string) => {
      if (path === RUNTIME_WASM && runtime) return runtime;
      return join(scriptDirectory, path);
    },
  };
  await TreeSitter.Parser.init(moduleOptions);
  installFastTransfer(moduleOptions);
  return TreeSitter.Language.load(grammar);
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
}

/**
 * Load the C parser. The runtime and grammar are loaded once per process; later calls only
 * create a fresh Parser object around the cached language.
 */
export async function loadCParser(opts?: { wasmDir?: string }): Promise<CParser> {
  if (!languagePromise) {
    languagePromise = loadLanguage(opts?.wasmDir);
    // A failed load must not poison the cache: a later call (e.g. after a build) may succeed.
    languagePromise.catch(() => {
      languagePromise = undefined;
    });
  }
  const language = await languagePromise;
  const parser = new TreeSitter.Parser();
  parser.setLanguage(language);
  return {
    language,
    parse(text: string, oldTree?: Tree | null): Tree {
      const tree = parser.parse(text, oldTree ?? null);
      if (tree) return tree;
      // parse() only returns null when cancelled or without a language; retry from scratch once.
      parser.reset();
      const again = parser.parse(text);
      if (!again) throw new Error('faultline: tree-sitter returned no tree');
      return again;
    },
  };
}
