// The transport VS Code uses (TransportKind.ipc → `--node-ipc`): JSON-RPC messages as Node IPC
// messages instead of Content-Length frames. Same server file, transport chosen from argv.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { serverPath } from './lsp-client';
import { cursor, mismatchC } from './fixtures';

test('--node-ipc: initialize, didOpen, publishDiagnostics, shutdown, exit', async () => {
  const child = fork(serverPath(), ['--node-ipc'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const received: any[] = [];
  const waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  child.on('message', (m: any) => {
    received.push(m);
    if (m.method && m.id !== undefined) child.send({ jsonrpc: '2.0', id: m.id, result: null });
    for (const w of [...waiters]) if (w.pred(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pred: (m: any) => boolean, what: string) =>
    new Promise<any>((resolve, reject) => {
      const hit = received.find(pred);
      if (hit) return resolve(hit);
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${what}; stderr: ${stderr}`)), 15000);
      waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  try {
    child.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
    const init = await waitFor((m) => m.id === 1 && !m.method, 'initialize');
    assert.equal(init.result.capabilities.textDocumentSync.change, 2);
    child.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    const uri = 'file:///ipc/demo.c';
    child.send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'c', version: 1, text: cursor(mismatchC).text } } });
    const diags = await waitFor((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri, 'diagnostics');
    assert.ok(diags.params.diagnostics.some((d: any) => d.code === 'gup-release-mismatch'), JSON.stringify(diags.params));
    child.send({ jsonrpc: '2.0', id: 2, method: 'shutdown', params: null });
    await waitFor((m) => m.id === 2 && !m.method, 'shutdown');
    child.send({ jsonrpc: '2.0', method: 'exit' });
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill();
  }
});

test('no transport argument: a usage message and exit status 2, not a hang', async () => {
  const child = fork(serverPath(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(stderr, /--stdio/);
});
