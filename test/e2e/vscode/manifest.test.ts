// The extension's manifest and package, without an editor: what VS Code reads before it ever
// runs our code (activation, trust capability, contributed commands and settings), and what
// the .vsix actually contains. A mistake here shows up in the real-editor test only as "no
// squiggles", so it is pinned down here with precise messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import {
  COMMANDS,
  LANGUAGE_IDS,
  PATCH_FILE_EXTENSIONS,
  documentSelector,
  extensionManifest,
  isRuleId,
  normalizeSettings,
  normalizeSimulation,
  ruleDocUrl,
  simulateArgs,
  DEFAULT_SIMULATION_MAX_STATES,
  DEFAULT_SIMULATION_TIME_MS,
  SERVER_SIMULATE_COMMAND,
  TRACE_SCHEME,
} from '../../../client/manifest';
import * as serverSimulate from '../../../server/simulate';
import { repoRoot } from './harness';

const root = repoRoot();

type Manifest = {
  engines: { vscode: string };
  main: string;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean }; virtualWorkspaces: boolean };
  contributes: {
    languages: { id: string; extensions: string[] }[];
    commands: { command: string; title: string }[];
    menus?: { commandPalette?: { command: string; when?: string }[] };
    configuration: { properties: Record<string, { type?: string; default?: unknown; items?: { anyOf?: { enum?: string[] }[] } }> };
  };
};

function manifest(ruleIds: string[] = ['gup-leak']): Manifest {
  return extensionManifest({ version: '1.2.3', ruleIds }) as unknown as Manifest;
}

/** [major, minor, patch] of "^1.91.0". */
function semver(range: string): number[] {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(range);
  assert.ok(m, `not a version: ${range}`);
  return m.slice(1, 4).map(Number);
}
function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

test('manifest: activates on C and on patch files, runs in untrusted workspaces', () => {
  const m = manifest();
  for (const l of ['c', 'cpp', 'diff']) assert.ok(m.activationEvents.includes(`onLanguage:${l}`), `onLanguage:${l}`);
  const diff = m.contributes.languages.find((l) => l.id === 'diff');
  assert.ok(diff, 'extends the diff language');
  for (const e of ['.patch', '.diff', '.mbox', '.eml']) assert.ok(diff.extensions.includes(e), e);
  assert.equal(m.capabilities.untrustedWorkspaces.supported, true);
  assert.equal(m.capabilities.virtualWorkspaces, false);
  assert.equal(m.main, './dist/extension.js');
});

test('manifest: engines.vscode is at least what vscode-languageclient needs and at most 1.139', () => {
  const ours = semver(manifest().engines.vscode);
  const lc = JSON.parse(readFileSync(join(root, 'node_modules', 'vscode-languageclient', 'package.json'), 'utf8'));
  assert.ok(cmp(ours, semver(lc.engines.vscode)) >= 0, `${ours.join('.')} >= vscode-languageclient's ${lc.engines.vscode}`);
  assert.ok(cmp(ours, [1, 139, 0]) <= 0, 'code-server 4.139 (VS Code 1.139) must accept it');
});

test('manifest: commands and settings', () => {
  const m = manifest(['gup-leak', 'gup-double-release']);
  const cmds = m.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(cmds, Object.values(COMMANDS).sort());
  const props = m.contributes.configuration.properties;
  for (const key of ['faultline.rules', 'faultline.kernel', 'faultline.docsBaseUrl', 'faultline.trace.server']) {
    assert.ok(props[key], key);
  }
  assert.equal(props['faultline.trace.server'].default, 'off');
  assert.equal(props['faultline.rules'].type, 'array');
  assert.deepEqual(props['faultline.rules'].default, []);
  assert.deepEqual(props['faultline.rules'].items?.anyOf?.[0].enum, ['gup-double-release', 'gup-leak']);
});

test('manifest: Simulate This Function and its budget settings (issue 4)', () => {
  const m = manifest();
  const sim = m.contributes.commands.find((c) => c.command === 'faultline.simulate');
  assert.ok(sim, 'faultline.simulate is contributed');
  assert.match(sim.title, /Simulate/);
  const when = m.contributes.menus?.commandPalette?.find((c) => c.command === 'faultline.simulate')?.when ?? '';
  assert.match(when, /editorLangId == c\b/, 'offered in the palette for C editors');
  const props = m.contributes.configuration.properties as Record<string, { type?: string; default?: unknown; minimum?: number }>;
  assert.equal(props['faultline.simulation.maxStates'].type, 'number');
  assert.equal(props['faultline.simulation.maxStates'].default, DEFAULT_SIMULATION_MAX_STATES);
  assert.equal(props['faultline.simulation.timeMs'].default, DEFAULT_SIMULATION_TIME_MS);
  assert.equal(props['faultline.simulation.maxStates'].minimum, 1);
  // The client and the server agree on ids and defaults (they are separate bundles).
  assert.equal(SERVER_SIMULATE_COMMAND, serverSimulate.SERVER_SIMULATE_COMMAND);
  assert.notEqual(SERVER_SIMULATE_COMMAND, COMMANDS.simulate, 'the server id must differ from the client command (vscode-languageclient registers advertised ids)');
  assert.equal(COMMANDS.simulate, serverSimulate.SIMULATE_COMMAND, 'lenses and code actions name the client command');
  assert.equal(DEFAULT_SIMULATION_MAX_STATES, serverSimulate.DEFAULT_MAX_STATES);
  assert.equal(DEFAULT_SIMULATION_TIME_MS, serverSimulate.DEFAULT_SIMULATION_TIME_MS);
  assert.ok(serverSimulate.traceUriFor('demo_fn').startsWith(`${TRACE_SCHEME}:/`));
});

test('simulate arguments and budget normalisation', () => {
  assert.deepEqual(simulateArgs({ uri: 'file:///a.c', function: 'demo_fn' }), { uri: 'file:///a.c', function: 'demo_fn' });
  assert.deepEqual(simulateArgs({ uri: 'file:///a.c', function: 'demo_fn', arch: 'arm64-mte' }), { uri: 'file:///a.c', function: 'demo_fn', arch: 'arm64-mte' });
  for (const bad of [undefined, 'demo_fn', { uri: 'file:///a.c' }, { uri: 1, function: 'f' }, { uri: 'file:///a.c', function: 'a b' }]) {
    assert.equal(simulateArgs(bad), undefined, JSON.stringify(bad));
  }
  assert.deepEqual(normalizeSimulation({}), { maxStates: DEFAULT_SIMULATION_MAX_STATES, timeMs: DEFAULT_SIMULATION_TIME_MS });
  assert.deepEqual(normalizeSimulation({ maxStates: 5000.7, timeMs: 2500 }), { maxStates: 5000, timeMs: 2500 });
  assert.deepEqual(normalizeSimulation({ maxStates: -1, timeMs: 'soon' }), { maxStates: DEFAULT_SIMULATION_MAX_STATES, timeMs: DEFAULT_SIMULATION_TIME_MS });
  assert.equal(normalizeSimulation({ maxStates: 1e12 }).maxStates, 50_000_000);
});

test('extension source registers the trace document provider for its scheme', () => {
  const src = readFileSync(join(root, 'client', 'extension.ts'), 'utf8');
  assert.match(src, /registerTextDocumentContentProvider\(TRACE_SCHEME/);
  assert.match(src, /SERVER_SIMULATE_COMMAND/, 'the client command calls the server command');
});

test('extension source registers exactly the contributed commands', () => {
  const src = readFileSync(join(root, 'client', 'extension.ts'), 'utf8');
  const registered = [...src.matchAll(/registerCommand\(COMMANDS\.(\w+)/g)].map((m) => COMMANDS[m[1] as keyof typeof COMMANDS]).sort();
  assert.deepEqual(registered, Object.values(COMMANDS).sort());
});

test('document selector: C, C++, diff for file and untitled; patch files by pattern', () => {
  const sel = documentSelector();
  for (const scheme of ['file', 'untitled']) {
    for (const language of LANGUAGE_IDS) assert.ok(sel.some((f) => f.scheme === scheme && f.language === language), `${scheme}/${language}`);
  }
  const pat = sel.find((f) => f.pattern)?.pattern ?? '';
  for (const e of PATCH_FILE_EXTENSIONS) assert.ok(pat.includes(e.slice(1)), `${e} in ${pat}`);
});

test('settings normalisation keeps good values and drops malformed ones', () => {
  assert.deepEqual(normalizeSettings({}), { rules: [], kernel: '', docsBaseUrl: '' });
  assert.deepEqual(
    normalizeSettings({ rules: ['gup-leak', ' gup-double-release ', 'gup-leak', '../x', 7], kernel: ' 6.8 ', docsBaseUrl: 'https://example.org/rules/' }),
    { rules: ['gup-leak', 'gup-double-release'], kernel: 'v6.8', docsBaseUrl: 'https://example.org/rules/' },
  );
  assert.deepEqual(normalizeSettings({ rules: 'gup-leak, gup-partial-release', kernel: 'v5.16' }).rules, ['gup-leak', 'gup-partial-release']);
  assert.equal(normalizeSettings({ kernel: 'v5.16' }).kernel, 'v5.16');
  assert.equal(normalizeSettings({ kernel: '5.17-rc8' }).kernel, 'v5.17-rc8');
  assert.deepEqual(normalizeSettings({ rules: { 'gup-leak': 'off' }, kernel: 'latest', docsBaseUrl: 'file:///etc' }), { rules: [], kernel: '', docsBaseUrl: '' });
  assert.equal(ruleDocUrl('https://example.org/rules/', 'gup-leak'), 'https://example.org/rules/gup-leak.md');
  assert.ok(isRuleId('gup-release-mismatch'));
  for (const bad of ['../etc/passwd', 'GUP', 'gup leak', '', 'a/b', 42]) assert.ok(!isRuleId(bad), String(bad));
});

/** Reads a zip's central directory; returns name -> contents (stored or deflated entries). */
function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, 'zip end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + csize);
    out.set(name, method === 8 ? inflateRawSync(raw) : Buffer.from(raw));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

test('package-vsix: the .vsix carries the bundles, the grammar wasm, the rule pages and the generated manifest', () => {
  const needed = ['dist/extension.js', 'dist/server.js'];
  for (const f of needed) assert.ok(existsSync(join(root, f)), `${f} missing: run node scripts/build.mjs first`);
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-vsix-test-'));
  try {
    const out = join(tmp, 'f.vsix');
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'package-vsix.mjs'), '--no-build', '--out', out], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(r.status, 0, `package-vsix failed:\n${r.stderr}`);
    assert.equal(r.stdout.trim().split('\n').pop(), out, 'prints the .vsix path');
    const zip = readZip(readFileSync(out));
    for (const f of ['dist/extension.js', 'dist/server.js', 'grammars/tree-sitter-c.wasm', 'grammars/web-tree-sitter.wasm', 'package.json', 'readme.md']) {
      assert.ok(zip.has(`extension/${f}`), `extension/${f} in the vsix (has: ${[...zip.keys()].join(', ')})`);
    }
    assert.ok([...zip.keys()].some((k) => /^extension\/LICENSE/i.test(k)), 'a licence file');
    assert.ok(![...zip.keys()].some((k) => k.endsWith('.map') || k.includes('node_modules/')), 'no source maps, no node_modules');
    // .vscodeignore decides: only the listed files, the bundles minified
    const allowed = /^(extension\/(package\.json|readme\.md|LICENSE(\.txt|\.md)?|dist\/(extension|server)\.js|dist\/web-tree-sitter\.cjs|grammars\/[^/]+\.(wasm|scm)|docs\/rules\/[^/]+\.md)|\[Content_Types\]\.xml|extension\.vsixmanifest)$/i;
    for (const k of zip.keys()) assert.match(k, allowed, `${k} is not in .vscodeignore's list`);
    assert.ok(existsSync(join(root, '.vscodeignore')), 'the repository has a .vscodeignore');
    const server = zip.get('extension/dist/server.js')!.toString('utf8');
    assert.ok(server.split('\n').length < 200, `dist/server.js is minified (${server.split('\n').length} lines)`);
    const pkg = JSON.parse(zip.get('extension/package.json')!.toString('utf8')) as Manifest & { name: string; publisher: string; version: string };
    assert.equal(pkg.name, 'faultline');
    assert.equal(pkg.publisher, 'faultline');
    assert.equal(pkg.version, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, true);
    const ext = zip.get('extension/dist/extension.js')!.toString('utf8');
    assert.match(ext, /require\("vscode"\)/, 'vscode stays external in the bundle');
    assert.doesNotMatch(ext, /require\("vscode-languageclient/, 'the language client is bundled in');
    // Every rule page in the repo ships, and the settings schema suggests those ids.
    const pages = [...zip.keys()].filter((k) => /^extension\/docs\/rules\/[^/]+\.md$/.test(k)).map((k) => k.slice('extension/docs/rules/'.length, -3)).sort();
    const repoPages = existsSync(join(root, 'docs', 'rules'))
      ? readdirSync(join(root, 'docs', 'rules')).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort()
      : [];
    assert.deepEqual(pages, repoPages, 'every docs/rules page ships');
    if (pages.length) assert.deepEqual(pkg.contributes.configuration.properties['faultline.rules'].items?.anyOf?.[0].enum, pages);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
