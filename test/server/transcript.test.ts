// A JSON-RPC transcript pinning the protocol (clangd's lit tests in spirit): each step sends one
// message and names what must come back, as a subset of the JSON. Fields not named are free, so
// message wording can change; ids, methods, codes, positions and shapes cannot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LspClient, type Message } from './lsp-client';
import { cursor, lineOf, mismatchC } from './fixtures';

/** `actual` contains everything `expected` has (arrays: element-wise, same length unless `...`). */
function matches(actual: unknown, expected: unknown, path = '$'): string | undefined {
  if (expected === '*') return actual === undefined ? `${path}: missing` : undefined;
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual) ? undefined : `${path}: ${JSON.stringify(actual)} !~ ${expected}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: not an array`;
    const open = expected[expected.length - 1] === '...';
    const items = open ? expected.slice(0, -1) : expected;
    if (!open && actual.length !== items.length) return `${path}: length ${actual.length} != ${items.length}`;
    if (actual.length < items.length) return `${path}: length ${actual.length} < ${items.length}`;
    for (let i = 0; i < items.length; i++) {
      const err = matches(actual[i], items[i], `${path}[${i}]`);
      if (err) return err;
    }
    return undefined;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return `${path}: not an object`;
    for (const [k, v] of Object.entries(expected)) {
      const err = matches((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
      if (err) return err;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : `${path}: ${JSON.stringify(actual)} !== ${JSON.stringify(expected)}`;
}

test('transcript: initialize, open, diagnostics, hover, code action, shutdown, exit', async () => {
  const uri = 'file:///t/pin.c';
  const { text, line, character } = cursor(mismatchC);
  const putLine = lineOf(text, 'put_page(');
  const pinLine = lineOf(text, 'pin_user_pages_fast(');
  const c = new LspClient();

  type Step = { send: Message; expect?: (ms: Message[]) => Message | undefined; want?: unknown };
  const reply = (id: number) => (ms: Message[]) => ms.find((m) => m.id === id && m.method === undefined);
  const notification = (method: string) => (ms: Message[]) => ms.find((m) => m.method === method);
  const steps: Step[] = [
    {
      send: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } },
      expect: reply(1),
      want: {
        jsonrpc: '2.0',
        id: 1,
        result: {
          capabilities: {
            textDocumentSync: { openClose: true, change: 2 },
            hoverProvider: true,
            codeActionProvider: { codeActionKinds: ['quickfix'] },
            codeLensProvider: { resolveProvider: false },
          },
          serverInfo: { name: 'faultline' },
        },
      },
    },
    { send: { jsonrpc: '2.0', method: 'initialized', params: {} } },
    {
      send: { jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'c', version: 7, text } } },
      expect: notification('textDocument/publishDiagnostics'),
      want: {
        method: 'textDocument/publishDiagnostics',
        params: {
          uri,
          version: 7,
          diagnostics: [
            {
              range: { start: { line: putLine, character: 2 }, end: { line: putLine } },
              severity: 1,
              code: 'gup-release-mismatch',
              codeDescription: { href: /^file:\/\/.*\/docs\/rules\/gup-release-mismatch\.md$/ },
              source: 'faultline',
              message: /pages/,
              relatedInformation: [{ location: { uri, range: { start: { line: pinLine } } }, message: '*' }, '...'],
            },
          ],
        },
      },
    },
    {
      send: { jsonrpc: '2.0', id: 2, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line, character } } },
      expect: reply(2),
      want: {
        id: 2,
        result: {
          contents: { kind: 'markdown', value: /pin_user_pages_fast/ },
          range: { start: { line, character }, end: { line, character: character + 'pin_user_pages_fast'.length } },
        },
      },
    },
    {
      send: {
        jsonrpc: '2.0',
        id: 3,
        method: 'textDocument/codeAction',
        params: { textDocument: { uri }, range: { start: { line: putLine, character: 3 }, end: { line: putLine, character: 3 } }, context: { diagnostics: [] } },
      },
      expect: reply(3),
      want: {
        id: 3,
        result: [
          { title: /unpin_user_page/, kind: 'quickfix', isPreferred: true, diagnostics: [{ code: 'gup-release-mismatch' }], edit: { changes: { [uri]: '*' } } },
          { title: 'Disable gup-release-mismatch for this line', kind: 'quickfix', edit: { changes: { [uri]: [{ range: { start: { line: putLine, character: 0 } }, newText: '\t\t// @faultline suppress gup-release-mismatch: reason\n' }] } } },
          { title: 'Show documentation for gup-release-mismatch', command: { command: 'faultline.showRuleDoc', arguments: ['gup-release-mismatch', '*'] } },
        ],
      },
    },
    { send: { jsonrpc: '2.0', id: 4, method: 'shutdown', params: null }, expect: reply(4), want: { id: 4, result: null } },
    { send: { jsonrpc: '2.0', method: 'exit' } },
  ];

  try {
    for (const step of steps) {
      const since = c.received.length;
      c.write(step.send);
      if (!step.expect) continue;
      const got = await c.waitFor((m) => !!step.expect!([m]), 30000, since, JSON.stringify(step.send).slice(0, 80));
      const err = matches(got, step.want);
      assert.equal(err, undefined, `${err}\nsent: ${JSON.stringify(step.send)}\ngot: ${JSON.stringify(got, null, 1)}`);
    }
    assert.equal(await c.exited, 0);
  } finally {
    if (c.proc.exitCode === null) c.proc.kill();
  }
});
