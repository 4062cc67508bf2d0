// The language server over real stdio: `node dist/server.js --stdio`, spoken to by a tiny
// JSON-RPC client. Each test starts its own server so one failure cannot poison the next.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, serverPath, withLspServer as withServer } from './lsp-client';
import { balancedC, cursor, earlyReturn, formatPatch, lineOf, mismatchC, patchAdded, patchContext } from './fixtures';

const cUri = 'file:///work/demo/drivers/demo/demo_pin.c';

test('initialize advertises incremental sync, hover, code actions and code lens', async () => {
  const c = new LspClient();
  try {
    const init = await c.initialize();
    const caps = init.capabilities;
    assert.equal(caps.textDocumentSync.change, 2, 'TextDocumentSyncKind.Incremental');
    assert.equal(caps.textDocumentSync.openClose, true);
    assert.equal(caps.hoverProvider, true);
    assert.deepEqual(caps.codeActionProvider.codeActionKinds, ['quickfix']);
    assert.ok(caps.codeLensProvider);
    assert.equal(init.serverInfo.name, 'faultline');
  } finally {
    assert.equal(await c.shutdown(), 0);
  }
});

test('didOpen of a C file with a pin/put mismatch publishes a diagnostic with code, docs link and related locations', async () => {
  await withServer(async (c) => {
    const { text } = cursor(mismatchC);
    const since = c.received.length;
    c.open(cUri, 'c', text);
    const diags = await c.diagnostics(cUri, since, (d) => d.length > 0);
    const d = diags.find((x) => x.code === 'gup-release-mismatch');
    assert.ok(d, `expected gup-release-mismatch in ${JSON.stringify(diags)}`);
    assert.equal(d.source, 'faultline');
    assert.equal(d.severity, 1, 'error');
    assert.equal(d.range.start.line, lineOf(text, 'put_page('));
    assert.match(d.codeDescription.href, /gup-release-mismatch\.md$/);
    assert.ok(Array.isArray(d.relatedInformation) && d.relatedInformation.length > 0, 'related: where the pages were taken');
    const lines = d.relatedInformation.map((r: any) => r.location.range.start.line);
    assert.ok(lines.includes(lineOf(text, 'pin_user_pages_fast(')), `related lines ${lines}`);
    assert.ok(d.relatedInformation.every((r: any) => r.location.uri === cUri && typeof r.message === 'string' && r.message));
  });
});

test('hover on pin_user_pages_fast explains the pin and its release', async () => {
  await withServer(async (c) => {
    const { text, line, character } = cursor(mismatchC);
    const since = c.received.length;
    c.open(cUri, 'c', text);
    await c.diagnostics(cUri, since);
    const h = await c.request('textDocument/hover', { textDocument: { uri: cUri }, position: { line, character: character + 4 } });
    assert.ok(h, 'a hover');
    assert.equal(h.contents.kind, 'markdown');
    assert.match(h.contents.value, /pin_user_pages_fast/);
    assert.match(h.contents.value, /unpin_user_page/, 'says how pinned pages are released');
    assert.deepEqual(h.range.start, { line, character });
    assert.equal(h.range.end.character - h.range.start.character, 'pin_user_pages_fast'.length);
    // Off any identifier and any finding: no hover.
    const none = await c.request('textDocument/hover', { textDocument: { uri: cUri }, position: { line: 1, character: 0 } });
    assert.equal(none, null);
  });
});

/** Opens the release-mismatch fixture and returns its gup-release-mismatch diagnostic. */
async function openMismatch(c: LspClient): Promise<any> {
  const { text } = cursor(mismatchC);
  const since = c.received.length;
  c.open(cUri, 'c', text);
  const diags = await c.diagnostics(cUri, since, (d) => d.length > 0);
  const d = diags.find((x) => x.code === 'gup-release-mismatch');
  assert.ok(d, 'the fixture reports gup-release-mismatch');
  return d;
}

test('hover on a diagnostic range shows the finding, the rule title and the docs link', async () => {
  await withServer(async (c) => {
    const d = await openMismatch(c);
    const h = await c.request('textDocument/hover', { textDocument: { uri: cUri }, position: d.range.start });
    assert.ok(h);
    assert.ok(h.contents.value.includes(d.message.replace(/ \([^)]*\)$/, '')), 'the message');
    assert.ok(h.contents.value.includes(d.codeDescription.href), 'the docs link');
  });
});

test('code actions: the mechanical fix (preferred), disable for this line, show documentation', async () => {
  await withServer(async (c) => {
    const d = await openMismatch(c);
    const actions = await c.request('textDocument/codeAction', {
      textDocument: { uri: cUri },
      range: d.range,
      context: { diagnostics: [d] },
    });
    const titles = actions.map((a: any) => a.title);
    const fix = actions.find((a: any) => a.edit && JSON.stringify(a.edit).includes('unpin_user_page') && !a.title.startsWith('Disable'));
    assert.ok(fix, `a fix to unpin_user_page among ${JSON.stringify(titles)}`);
    assert.equal(fix.isPreferred, true);
    assert.equal(fix.kind, 'quickfix');
    const edits = fix.edit.changes[cUri];
    assert.ok(edits.length > 0);
    // Applying the fix yields text where the put_page of pinned pages is gone.
    const fixed = applyEdits(cursor(mismatchC).text, edits);
    assert.ok(!/\bput_page\(/.test(fixed), fixed);
    assert.ok(/unpin_user_page/.test(fixed));

    const disable = actions.find((a: any) => a.title === 'Disable gup-release-mismatch for this line');
    assert.ok(disable, `disable action among ${JSON.stringify(titles)}`);
    const [ins] = disable.edit.changes[cUri];
    assert.match(ins.newText, /^\s*\/\/ @faultline suppress gup-release-mismatch: \S/);
    assert.equal(ins.range.start.line, d.range.start.line);

    const docs = actions.find((a: any) => a.title === 'Show documentation for gup-release-mismatch');
    assert.ok(docs);
    assert.equal(docs.command.command, 'faultline.showRuleDoc');
    assert.equal(docs.command.arguments[0], 'gup-release-mismatch');

    // The disable action really silences the rule: apply it and the diagnostic goes away.
    const since2 = c.received.length;
    c.notify('textDocument/didChange', { textDocument: { uri: cUri, version: 2 }, contentChanges: [{ range: ins.range, text: ins.newText }] });
    const after = await c.diagnostics(cUri, since2);
    assert.ok(!after.some((x: any) => x.code === 'gup-release-mismatch'), JSON.stringify(after));
  });
});

test('incremental didChange: inserting an early return adds a gup-leak, removing it clears it', async () => {
  await withServer(async (c) => {
    const text = balancedC;
    let since = c.received.length;
    c.open(cUri, 'c', text, 1);
    const first = await c.diagnostics(cUri, since);
    assert.deepEqual(first, [], 'balanced get/put is silent');

    const line = lineOf(text, 'BUG_HERE');
    const at = { line, character: 1 };
    since = c.received.length;
    c.notify('textDocument/didChange', {
      textDocument: { uri: cUri, version: 2 },
      contentChanges: [{ range: { start: at, end: at }, text: earlyReturn }],
    });
    const withBug = await c.diagnostics(cUri, since, (d) => d.length > 0);
    const leak = withBug.find((d: any) => d.code === 'gup-leak');
    assert.ok(leak, JSON.stringify(withBug));
    const published = c.received.filter((m) => m.method === 'textDocument/publishDiagnostics').pop();
    assert.equal(published?.params.version, 2);

    // Remove exactly what was inserted, as two changes in one notification (applied in order):
    // first the `return` line, then `if (dev->abort)` with its line break and the tab after it.
    since = c.received.length;
    c.notify('textDocument/didChange', {
      textDocument: { uri: cUri, version: 3 },
      contentChanges: [
        { range: { start: { line: line + 1, character: 0 }, end: { line: line + 2, character: 0 } }, text: '' },
        { range: { start: at, end: { line: line + 1, character: 1 } }, text: '' },
      ],
    });
    const cleared = await c.diagnostics(cUri, since, (d) => d.length === 0);
    assert.deepEqual(cleared, []);
    // The server's text is the original again: a hover on the release call still finds it.
    const putLine = lineOf(text, 'put_page(');
    const h = await c.request('textDocument/hover', { textDocument: { uri: cUri }, position: { line: putLine, character: 3 } });
    assert.ok(h && /put_page/.test(h.contents.value), JSON.stringify(h));
  });
});

test('a format-patch document gets diagnostics from the patch analysis', async () => {
  await withServer(async (c) => {
    const patch = formatPatch('drivers/demo/demo.c', patchContext, patchAdded, 'demo: pin the user buffer');
    const uri = 'file:///work/demo/0001-demo-pin-the-user-buffer.patch';
    const since = c.received.length;
    c.open(uri, 'diff', patch);
    const diags = await c.diagnostics(uri, since, (d) => d.some((x: any) => x.source === 'faultline' && x.code));
    const d = diags.find((x: any) => x.code === 'gup-release-mismatch');
    assert.ok(d, JSON.stringify(diags));
    // The finding points into the patch, at the added put_page line.
    assert.ok(patch.split('\n')[d.range.start.line].includes('put_page('), `line ${d.range.start.line}`);
    // No "disable for this line" in a patch: that would edit the mail, not the code.
    const actions = await c.request('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    assert.ok(!actions.some((a: any) => a.title.startsWith('Disable')));
  });
});

test('garbage documents do not crash the server', async () => {
  await withServer(async (c) => {
    const garbage = [
      '\u0000\u0001\u0002 binary \uFFFD\uFFFD',
      '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'.repeat(50),
      'int f( { if ( while ) goto ; } } } ) ( [ ',
      '#define X(a) a ## a\nX(X(X(X(\n',
      'static int f(void) { return pin_user_pages(,,,); }\n'.repeat(20),
      'é😀 /* unterminated comment',
    ];
    for (let i = 0; i < garbage.length; i++) {
      const uri = `file:///work/demo/garbage${i}.c`;
      const since = c.received.length;
      c.open(uri, 'c', garbage[i]);
      await c.diagnostics(uri, since);
      const h = await c.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 3 } });
      assert.ok(h === null || typeof h === 'object');
      await c.request('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 99, character: 0 } },
        context: { diagnostics: [] },
      });
      await c.request('textDocument/codeLens', { textDocument: { uri } });
    }
    // Edits with out-of-range positions are clamped, not fatal.
    const uri = 'file:///work/demo/garbage0.c';
    const since = c.received.length;
    c.notify('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 99, character: 99 }, end: { line: 120, character: 0 } }, text: 'x' }],
    });
    await c.diagnostics(uri, since);
    // Requests for documents never opened answer empty.
    assert.equal(await c.request('textDocument/hover', { textDocument: { uri: 'file:///nope.c' }, position: { line: 0, character: 0 } }), null);
    // Still alive and well.
    const { text } = cursor(mismatchC);
    const s2 = c.received.length;
    c.open(cUri, 'c', text);
    const diags = await c.diagnostics(cUri, s2, (d) => d.length > 0);
    assert.ok(diags.some((d: any) => d.code === 'gup-release-mismatch'));
  });
});

test('settings: faultline.rules from workspace/configuration narrows the rules', async () => {
  const c = new LspClient();
  let asked = 0;
  c.handlers.set('workspace/configuration', (p: any) => {
    asked++;
    assert.equal(p.items[0].section, 'faultline');
    return [{ rules: ['gup-leak'] }];
  });
  try {
    await c.initialize();
    const { text } = cursor(mismatchC);
    const since = c.received.length;
    c.open(cUri, 'c', text);
    const diags = await c.diagnostics(cUri, since);
    assert.ok(asked > 0, 'the server asked for its configuration');
    assert.ok(!diags.some((d: any) => d.code === 'gup-release-mismatch'), JSON.stringify(diags));
  } finally {
    assert.equal(await c.shutdown(), 0);
  }
});

test('settings: initializationOptions narrow the rules for clients without workspace/configuration', async () => {
  const c = new LspClient();
  try {
    await c.initialize({ rules: ['gup-leak'] }, { textDocument: { publishDiagnostics: {} } });
    const { text } = cursor(mismatchC);
    const since = c.received.length;
    c.open(cUri, 'c', text);
    const diags = await c.diagnostics(cUri, since);
    assert.ok(!diags.some((d: any) => d.code === 'gup-release-mismatch'), JSON.stringify(diags));
    assert.ok(!c.received.some((m) => m.method === 'workspace/configuration'), 'never asks a client that cannot answer');
  } finally {
    assert.equal(await c.shutdown(), 0);
  }
});

test('docsBaseUrl setting changes the diagnostic link', async () => {
  await withServer(
    async (c) => {
      const { text } = cursor(mismatchC);
      const since = c.received.length;
      c.open(cUri, 'c', text);
      const diags = await c.diagnostics(cUri, since, (d) => d.length > 0);
      assert.equal(diags[0].codeDescription.href, `https://docs.example.org/faultline/rules/${diags[0].code}.md`);
    },
    { faultline: { docsBaseUrl: 'https://docs.example.org/faultline/rules/' } },
  );
});

test('code lens over a function with a GUP acquisition counts acquisitions and findings', async () => {
  await withServer(async (c) => {
    const { text } = cursor(mismatchC);
    const since = c.received.length;
    c.open(cUri, 'c', text);
    await c.diagnostics(cUri, since, (d) => d.length > 0);
    const lenses = await c.request('textDocument/codeLens', { textDocument: { uri: cUri } });
    assert.equal(lenses.length, 1, JSON.stringify(lenses));
    assert.equal(lenses[0].range.start.line, lineOf(text, 'demo_pin_and_copy('));
    assert.match(lenses[0].command.title, /^Faultline: 1 GUP acquisition · 1 finding$/);
    // A file with no user-memory work gets no lens.
    const uri = 'file:///work/demo/plain.c';
    const s2 = c.received.length;
    c.open(uri, 'c', 'static int add(int a, int b)\n{\n\treturn a + b;\n}\n');
    await c.diagnostics(uri, s2);
    assert.deepEqual(await c.request('textDocument/codeLens', { textDocument: { uri } }), []);
  });
});

test('didClose clears the diagnostics', async () => {
  await withServer(async (c) => {
    const { text } = cursor(mismatchC);
    let since = c.received.length;
    c.open(cUri, 'c', text);
    await c.diagnostics(cUri, since, (d) => d.length > 0);
    since = c.received.length;
    c.notify('textDocument/didClose', { textDocument: { uri: cUri } });
    assert.deepEqual(await c.diagnostics(cUri, since), []);
  });
});

test('shutdown then exit ends the process with status 0; exit without shutdown with 1', async () => {
  const c = new LspClient();
  await c.initialize();
  assert.equal(await c.request('shutdown', null), null);
  c.notify('exit');
  assert.equal(await c.exited, 0);

  const d = new LspClient();
  await d.initialize();
  d.notify('exit');
  assert.equal(await d.exited, 1);
});

function applyEdits(text: string, edits: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

test('an engine that cannot start (no grammar next to the bundle): the server says so and keeps answering', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-nogrammar-'));
  try {
    // The bundle alone, away from the repository: no tree-sitter-c.wasm anywhere it looks.
    copyFileSync(serverPath(), join(dir, 'server.js'));
    const c = new LspClient(['--stdio'], { ...process.env, NODE_PATH: '' }, join(dir, 'server.js'));
    try {
      await c.initialize();
      const shown = await c.waitFor((m) => m.method === 'window/showMessage', 15000, 0, 'window/showMessage');
      assert.equal(shown.params.type, 1, 'an error message');
      assert.match(shown.params.message, /Faultline could not start/);
      c.open(cUri, 'c', cursor(mismatchC).text);
      assert.equal(await c.request('textDocument/hover', { textDocument: { uri: cUri }, position: { line: 7, character: 10 } }), null);
      assert.deepEqual(await c.request('textDocument/codeLens', { textDocument: { uri: cUri } }), []);
    } finally {
      assert.equal(await c.shutdown(), 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edits that arrive before the engine has loaded are not lost', async () => {
  const c = new LspClient();
  try {
    // No waiting after initialize: the grammar is still loading when these arrive.
    const init = c.request('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    c.notify('initialized', {});
    const text = balancedC;
    const line = lineOf(text, 'BUG_HERE');
    c.open(cUri, 'c', text, 1);
    c.notify('textDocument/didChange', {
      textDocument: { uri: cUri, version: 2 },
      contentChanges: [{ range: { start: { line, character: 1 }, end: { line, character: 1 } }, text: earlyReturn }],
    });
    await init;
    const diags = await c.diagnostics(cUri, 0, (d) => d.some((x: any) => x.code === 'gup-leak'));
    const last = c.received.filter((m) => m.method === 'textDocument/publishDiagnostics').pop();
    assert.equal(last?.params.version, 2);
    assert.equal(diags.find((x: any) => x.code === 'gup-leak').range.start.line, line + 1, 'the leaking return, in the edited text');
  } finally {
    assert.equal(await c.shutdown(), 0);
  }
});
