#!/usr/bin/env node
// Package the VS Code extension as faultline-<version>.vsix.
//
// The root package.json is the npm project (CLI, tests, dev tools), not an extension manifest,
// so the extension is assembled in a staging directory: the minified esbuild bundles, grammars/
// (the tree-sitter wasm and query files), the rule pages, a README and LICENSE, and a
// package.json generated from client/manifest.ts; the repository's .vscodeignore says what of it
// ships
// (one source of truth for contributes/activation, also read by the tests). Then vsce 3.9.2
// (vsce 4 needs Node >= 22) packages it; the bundles have no runtime dependencies, hence
// --no-dependencies.
//
// Usage: node scripts/package-vsix.mjs [--no-build] [--out FILE.vsix] [--keep-staging] [--server FILE.js]
//   --server ships another bundled server instead of dist/server.js (harness development only).
// Prints the absolute path of the .vsix on stdout (last line). FAULTLINE_NO_BUILD=1 = --no-build.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const log = (m) => process.stderr.write(`package-vsix: ${m}\n`);

function parseArgs(argv) {
  const opts = { build: !process.env.FAULTLINE_NO_BUILD, out: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') opts.build = false;
    else if (a === '--keep-staging') opts.keep = true;
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--server') opts.server = argv[++i];
    else if (a.startsWith('--out=')) opts.out = a.slice(6);
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Loads client/manifest.ts through esbuild (no dependency on a tsc run having emitted out/). */
async function loadManifestModule(staging) {
  const esbuild = await import('esbuild');
  const outfile = join(staging, '..', `${Date.now()}-manifest.cjs`);
  await esbuild.build({
    entryPoints: [join(root, 'client', 'manifest.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'warning',
  });
  try {
    return require(outfile);
  } finally {
    rmSync(outfile, { force: true });
  }
}

const MIT = (holder) => `MIT License

Copyright (c) ${new Date().getUTCFullYear()} ${holder}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`;

export async function packageVsix({ build = true, out, keep = false, server } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const version = pkg.version;
  const vsixPath = resolve(out ?? join(root, `faultline-${version}.vsix`));

  if (build) {
    log('building (node scripts/build.mjs)');
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 2, 2] });
  }
  // The grammar wasm ships in grammars/ (next to the tree-sitter queries, ARCHITECTURE.md); the
  // bundled server finds it there (dist/../grammars).
  const needed = ['dist/extension.js', 'dist/server.js', 'grammars/tree-sitter-c.wasm', 'grammars/web-tree-sitter.wasm',
    // web-tree-sitter.cjs: a fresh copy of the parser library after a wasm abort (engine/syntax/parser.ts).
    'dist/web-tree-sitter.cjs'];
  const source = (f) => (f === 'dist/server.js' && server ? resolve(server) : join(root, f));
  const missing = needed.filter((f) => !existsSync(source(f)));
  if (missing.length) throw new Error(`missing build outputs: ${missing.join(', ')} (run node scripts/build.mjs)`);

  const scratch = mkdtempSync(join(tmpdir(), 'faultline-vsix-'));
  const staging = join(scratch, 'extension');
  mkdirSync(join(staging, 'dist'), { recursive: true });
  mkdirSync(join(staging, 'grammars'), { recursive: true });
  try {
    for (const f of needed) copyFileSync(source(f), join(staging, f));

    // Rule pages: the showRuleDoc command and the diagnostics' documentation links open them.
    const ruleIds = [];
    const rulesDir = join(root, 'docs', 'rules');
    mkdirSync(join(staging, 'docs', 'rules'), { recursive: true });
    if (existsSync(rulesDir)) {
      for (const f of readdirSync(rulesDir).sort()) {
        if (!f.endsWith('.md')) continue;
        copyFileSync(join(rulesDir, f), join(staging, 'docs', 'rules', f));
        ruleIds.push(f.slice(0, -3));
      }
    }
    if (ruleIds.length === 0) log('warning: docs/rules/*.md not found; the extension ships no rule pages');
    // Tree-sitter queries, if the engine ships any (ARCHITECTURE.md: grammars/*.scm).
    const grammarsDir = join(root, 'grammars');
    if (existsSync(grammarsDir)) {
      for (const f of readdirSync(grammarsDir)) {
        if (!f.endsWith('.scm')) continue;
        mkdirSync(join(staging, 'grammars'), { recursive: true });
        copyFileSync(join(grammarsDir, f), join(staging, 'grammars', f));
      }
    }

    // README: the VS Code page of the docs (it has no relative links: vsce rejects those
    // without a repository URL). LICENSE: the project's, else the package.json licence text.
    const readme = join(root, 'docs', 'vscode.md');
    if (existsSync(readme)) copyFileSync(readme, join(staging, 'README.md'));
    else writeFileSync(join(staging, 'README.md'), `# Faultline\n\n${pkg.description ?? ''}\n`);
    const license = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'COPYING'].map((f) => join(root, f)).find((p) => existsSync(p));
    if (license) copyFileSync(license, join(staging, 'LICENSE'));
    else if ((pkg.license ?? 'MIT') === 'MIT') writeFileSync(join(staging, 'LICENSE'), MIT('the Faultline authors'));
    else throw new Error(`no LICENSE file and licence ${pkg.license} is not MIT; add a LICENSE file`);

    const { extensionManifest } = await loadManifestModule(staging);
    const manifest = extensionManifest({ version, description: pkg.description, license: pkg.license, ruleIds });
    writeFileSync(join(staging, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
    // What ships is decided by the repository's .vscodeignore (the extension convention), applied
    // by vsce to what we staged: no source maps (they point at paths outside the vsix).
    copyFileSync(join(root, '.vscodeignore'), join(staging, '.vscodeignore'));

    mkdirSync(dirname(vsixPath), { recursive: true });
    rmSync(vsixPath, { force: true });
    const vsce = join(dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
    log(`vsce package in ${staging}`);
    execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', vsixPath], {
      cwd: staging,
      stdio: ['ignore', 2, 2],
      timeout: 120_000,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    if (!existsSync(vsixPath)) throw new Error(`vsce did not produce ${vsixPath}`);
    return { vsixPath, version, staging: keep ? staging : undefined, ruleIds };
  } finally {
    if (!keep) rmSync(scratch, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const res = await packageVsix(parseArgs(process.argv.slice(2)));
    if (res.staging) log(`staging kept at ${res.staging}`);
    process.stdout.write(res.vsixPath + '\n');
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
