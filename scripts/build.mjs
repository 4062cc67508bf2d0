// Build: type-check and emit out/ (tests, bench), bundle the three faces into dist/ with
// esbuild, and copy the grammar wasm next to them. The wasm files come from npm packages at
// build time; nothing is downloaded at run time.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = new Set(process.argv.slice(2));

mkdirSync(join(root, 'grammars'), { recursive: true });
mkdirSync(join(root, 'dist'), { recursive: true });
const grammarWasm = require.resolve('tree-sitter-c/tree-sitter-c.wasm');
const runtimeWasm = require.resolve('web-tree-sitter/web-tree-sitter.wasm');
copyFileSync(grammarWasm, join(root, 'grammars', 'tree-sitter-c.wasm'));
copyFileSync(runtimeWasm, join(root, 'grammars', 'web-tree-sitter.wasm'));
copyFileSync(grammarWasm, join(root, 'dist', 'tree-sitter-c.wasm'));
copyFileSync(runtimeWasm, join(root, 'dist', 'web-tree-sitter.wasm'));
// The library itself, next to the bundles: after a wasm abort the parser loads a fresh copy of it
// (web-tree-sitter keeps one module per copy; engine/syntax/parser.ts, restartRuntime).
const runtimeJs = join(dirname(runtimeWasm), 'web-tree-sitter.cjs');
copyFileSync(runtimeJs, join(root, 'dist', 'web-tree-sitter.cjs'));

if (!args.has('--no-tsc')) {
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
  } catch {
    console.error('build: TypeScript reported errors (see above)');
    process.exit(1);
  }
}

const esbuild = await import('esbuild');
const bundles = [
  { entry: 'engine/cli/main.ts', out: 'dist/cli.js', external: [] },
  { entry: 'server/main.ts', out: 'dist/server.js', external: [] },
  { entry: 'client/extension.ts', out: 'dist/extension.js', external: ['vscode'], keepNames: true },
];
for (const b of bundles) {
  if (!existsSync(join(root, b.entry))) continue;
  await esbuild.build({
    entryPoints: [join(root, b.entry)],
    outfile: join(root, b.out),
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    sourcemap: true,
    // Minified like any published extension/CLI bundle (about a third of the size); the source
    // maps map stack traces back (`node --enable-source-maps bin/faultline ...`).
    // FAULTLINE_NO_MINIFY=1: readable function names for `node --cpu-prof` (profiling only).
    minify: process.env.FAULTLINE_NO_MINIFY !== '1',
    // keepNames wraps every function and class in `__name(fn, "fn")`, a defineProperty call each
    // time a closure is created: in the engine's hot loops that was 6% of a whole-tree
    // `faultline check` (26.5 s against 24.9 s, one thread, Linux 6.1). Only the small extension
    // bundle, which runs inside VS Code's own stack traces, keeps its names.
    keepNames: b.keepNames === true,
    external: b.external,
    // web-tree-sitter's ESM build reads import.meta.url (createRequire, locating its wasm);
    // in a CJS bundle that is empty, so give it this bundle's own file URL.
    define: { 'import.meta.url': '__faultlineImportMetaUrl' },
    banner: { js: "var __faultlineImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
}
