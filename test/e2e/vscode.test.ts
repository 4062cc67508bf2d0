// End to end in real VS Code (issue 2, point 3-4): code-server 4.139.1 (VS Code 1.139) in headless
// Chromium, with the packaged .vsix installed, opens a workspace holding a C file with GUP bugs.
// The test waits for the squiggles, reads the Problems panel and hovers a kernel API, and saves a
// screenshot at each step to test-artifacts/e2e/vscode/.
//
// What is expected is not written here: the rule ids come from the fixture's own
// `// expect: <rule-id>` marks, the messages from the CLI's JSON output on the same file (the
// server and the CLI are two faces of one engine, ARCHITECTURE.md), the hover facts from the API
// table. Skip policy: test/e2e/helpers/skip.ts (never in CI; outside CI only on request).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkip } from './helpers/skip';
import { CHROMIUM, ensureCodeServer, packageVsix, repoRoot, startVsCode, type VsCodeSession } from './vscode/harness';
import { lookupApi } from '../../engine/kernel/api-table';

const root = repoRoot();
const workspaceSource = join(root, 'test', 'e2e', 'vscode', 'workspace');
const FIXTURE = 'pin_dma.c';
const HOVER_API = 'pin_user_pages';
const artifacts = join(root, 'test-artifacts', 'e2e', 'vscode');

interface Mark {
  line: number; // 1-based
  rule: string;
}

/** `// expect: <rule-id>[, <rule-id>]` marks, the fixture convention of ARCHITECTURE.md "Tests". */
export function expectMarks(text: string): Mark[] {
  const marks: Mark[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /\/\/\s*expect:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/.exec(line);
    if (m) for (const rule of m[1].split(',')) marks.push({ line: i + 1, rule: rule.trim() });
  });
  return marks;
}

interface CliDiagnostic {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
}

/** What the CLI reports for the same file: the reference for messages. */
function cliDiagnostics(file: string): CliDiagnostic[] {
  const cli = join(root, 'dist', 'cli.js');
  assert.ok(existsSync(cli), `${cli} missing: run the build (node scripts/build.mjs)`);
  const r = spawnSync(process.execPath, [cli, 'check', '--format', 'json', file], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(r.status === 0 || r.status === 1, `faultline check exited ${r.status}: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { diagnostics: CliDiagnostic[] };
  return parsed.diagnostics;
}

/** First line of a message, whitespace collapsed, as the Problems panel shows it. */
function headline(message: string): string {
  return message.split('\n')[0].replace(/\s+/g, ' ').trim();
}

function position(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the fixture`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

async function poll<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out after ${limitMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

test('VS Code (code-server + Chromium): Problems panel and hover from the packaged extension', { skip: e2eSkip(), timeout: 10 * 60_000 }, async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const logFile = join(artifacts, 'e2e.log');
  const t0 = Date.now();
  const log = (msg: string): void => {
    const line = `[vscode-e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`;
    appendFileSync(logFile, line);
    process.stderr.write(line);
  };

  // A missing browser is a failure (CI never skips), with the install hint.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set FAULTLINE_SKIP_E2E=1 outside CI)`);

  const fixtureText = readFileSync(join(workspaceSource, FIXTURE), 'utf8');
  const marks = expectMarks(fixtureText);
  assert.ok(marks.length >= 4, 'the fixture marks at least one finding per GUP rule');
  const expectedRules = [...new Set(marks.map((m) => m.rule))].sort();
  const cli = cliDiagnostics(join(workspaceSource, FIXTURE));
  assert.deepEqual(
    [...new Set(cli.map((d) => d.rule))].sort(),
    expectedRules,
    'the CLI finds the rules the fixture marks (engine check, before any editor is involved)',
  );
  const api = lookupApi(HOVER_API);
  assert.ok(api, `${HOVER_API} is in the API table`);

  const install = await ensureCodeServer(log, 7 * 60_000);
  log(`code-server ${install.version} at ${install.entry}`);
  const vsix = await packageVsix(join(artifacts, 'faultline.vsix'), log);
  log(`packaged ${vsix}`);

  let session: VsCodeSession | undefined;
  try {
    session = await startVsCode({ install, vsix, workspaceSource, artifactsDir: artifacts, log });
    const { page } = session;
    const s = session;

    await page.goto(`${s.url}/?folder=${encodeURIComponent(s.workspace)}`, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    log('workbench up');
    await s.screenshot('workbench');

    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: FIXTURE }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await row.dblclick();
    await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible', timeout: 30_000 });
    log(`${FIXTURE} open`);

    // Extension host start, activation on `c`, the server's first analysis.
    await page.locator('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning').first().waitFor({ state: 'attached', timeout: 90_000 });
    log('squiggles shown');
    await s.screenshot('squiggles');

    await page.keyboard.press('Control+Shift+M');
    const markerRows = page.locator('.markers-panel .monaco-list-row');
    const rows = await poll('Problems rows naming every expected rule', 30_000, async () => {
      const texts = (await markerRows.allTextContents()).map((t) => t.replace(/\s+/g, ' '));
      return expectedRules.every((r) => texts.some((t) => t.includes(r))) ? texts : undefined;
    }).catch(async (e: unknown) => {
      await s.screenshot('problems-incomplete');
      const texts = await markerRows.allTextContents().catch(() => []);
      throw new Error(`${String(e)}\nrows seen:\n${texts.join('\n')}`);
    });
    await page.waitForTimeout(300);
    await s.screenshot('problems');
    log(`Problems rows:\n  ${rows.join('\n  ')}`);

    const findingRows = rows.filter((t) => /\[Ln \d+, Col \d+\]/.test(t));
    for (const d of cli) {
      const want = headline(d.message).slice(0, 80);
      const hit = findingRows.find((t) => t.includes(d.rule) && t.includes(want));
      assert.ok(hit, `a Problems row shows ${d.rule} with "${want}"; rows:\n${rows.join('\n')}`);
      assert.ok(hit.includes(`[Ln ${d.line}, Col ${d.column}]`), `${d.rule} at ${d.line}:${d.column} as in the CLI; row: ${hit}`);
    }
    assert.equal(findingRows.length, cli.length, `as many Problems rows as CLI findings; rows:\n${rows.join('\n')}`);
    for (const m of marks) {
      assert.ok(
        findingRows.some((t) => t.includes(m.rule) && t.includes(`[Ln ${m.line},`)),
        `${m.rule} reported on line ${m.line} where the fixture marks it`,
      );
    }

    // Hover over the kernel API as a user would: the mouse on the identifier. If the tokenizer
    // split it differently, fall back to "go to line:col" + the Show Hover keybinding.
    const hoverBox = page.locator('.monaco-hover').filter({ hasText: HOVER_API });
    const token = page.locator('.monaco-editor .view-lines .view-line span span').filter({ hasText: new RegExp(`^${HOVER_API}$`) }).first();
    let hovered = false;
    if ((await token.count()) > 0) {
      await token.hover();
      hovered = await hoverBox.first().waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false);
    }
    if (!hovered) {
      log('mouse hover showed nothing; using go-to-line + Show Hover');
      const at = position(fixtureText, `${HOVER_API}(`);
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type(`${at.line}:${at.column + 1}`);
      await page.keyboard.press('Enter');
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      await hoverBox.first().waitFor({ state: 'visible', timeout: 15_000 });
    }
    await page.waitForTimeout(600); // the hover fades in
    await s.screenshot('hover');
    const hoverText = (await hoverBox.first().textContent()) ?? '';
    log(`hover: ${hoverText}`);
    assert.ok(hoverText.includes(HOVER_API), 'the hover names the API');
    if (api.since) assert.ok(hoverText.includes(api.since), `the hover says since ${api.since}: ${hoverText}`);
    assert.match(hoverText, /unpin_user_page/, 'the hover says how pinned pages are released');
    // What the return value means, in the table's own words (its first clause).
    if (api.returns) {
      const clause = api.returns.split(/[;(]/)[0].replace(/\s+/g, ' ').trim();
      assert.ok(hoverText.replace(/\s+/g, ' ').includes(clause), `the hover explains the return value ("${clause}"): ${hoverText}`);
    }

    // The contributed command opens a rule page shipped inside the .vsix in the Markdown preview.
    const docRule = expectedRules.find((r) => existsSync(join(root, 'docs', 'rules', `${r}.md`)));
    assert.ok(docRule, `docs/rules/<id>.md exists for one of ${expectedRules.join(', ')}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const quickInput = page.locator('.quick-input-widget input').first();
    await quickInput.waitFor({ state: 'visible', timeout: 15_000 });
    await quickInput.fill('>Faultline: Show Rule Documentation');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Show Rule Documentation' }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: docRule }).first().waitFor({ timeout: 15_000 });
    await quickInput.fill(docRule);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: docRule }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab', { hasText: `${docRule}.md` }).first().waitFor({ state: 'visible', timeout: 30_000 });
    // The preview is a webview (nested iframes): wait until one frame shows the page's title.
    const docText = readFileSync(join(root, 'docs', 'rules', `${docRule}.md`), 'utf8');
    const title = (/^#\s+(.+)$/m.exec(docText)?.[1] ?? docRule).replace(/[`*_]/g, '').trim();
    await poll(`the Markdown preview to show "${title}"`, 30_000, async () => {
      const texts = await Promise.all(page.frames().map((f) => f.evaluate(() => document.body?.innerText ?? '').catch(() => '')));
      return texts.some((t) => t.includes(title)) ? true : undefined;
    });
    await s.screenshot('rule-doc');
    log(`rule page ${docRule}.md opened in the preview`);
  } catch (e) {
    await session?.screenshot('failure');
    log(`failed: ${String(e)}`);
    log(`artifacts in ${artifacts}: ${existsSync(artifacts) ? readdirSync(artifacts).join(', ') : '(none)'}`);
    throw e;
  } finally {
    await session?.close();
    log('code-server and browser stopped');
  }
});
