// A tiny LSP client over real stdio for the server tests: Content-Length framing, requests with
// ids, notifications, and answers to the server's own requests (workspace/configuration...).
// Deliberately independent of vscode-languageclient so the tests pin the wire protocol.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');

/** The bundled server editors run; FAULTLINE_SERVER overrides (e.g. out/server/main.js). */
export function serverPath(): string {
  const p = process.env.FAULTLINE_SERVER ?? join(repoRoot, 'dist', 'server.js');
  if (!existsSync(p)) throw new Error(`server bundle not found at ${p}: run node scripts/build.mjs`);
  return p;
}

export interface Message {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

type Waiter = { pred: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class LspClient {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Every message received, in order (the transcript). */
  readonly received: Message[] = [];
  /** Every message sent, in order. */
  readonly sent: Message[] = [];
  stderr = '';
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private waiters: Waiter[] = [];
  /** Answers to server->client requests by method; default answers null. */
  handlers = new Map<string, (params: any) => unknown>();
  exited: Promise<number | null>;

  constructor(args: string[] = ['--stdio'], env: NodeJS.ProcessEnv = process.env, server: string = serverPath()) {
    this.proc = spawn(process.execPath, [server, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.proc.stdout.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    this.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`server exited; stderr: ${this.stderr}`));
      this.pending.clear();
    });
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const sep = this.buf.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const header = this.buf.subarray(0, sep).toString('ascii');
      const m = /Content-Length: *(\d+)/i.exec(header);
      if (!m) throw new Error(`bad header from server: ${header}`);
      const len = Number(m[1]);
      if (this.buf.length < sep + 4 + len) return;
      const body = this.buf.subarray(sep + 4, sep + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(sep + 4 + len);
      this.dispatch(JSON.parse(body) as Message);
    }
  }

  private dispatch(msg: Message): void {
    this.received.push(msg);
    if (msg.method !== undefined && msg.id !== undefined && msg.id !== null) {
      // A request from the server.
      const h = this.handlers.get(msg.method);
      let result: unknown = null;
      try {
        result = h ? h(msg.params) : null;
      } catch {
        result = null;
      }
      this.write({ jsonrpc: '2.0', id: msg.id, result: result ?? null });
    } else if (msg.method === undefined && typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg);
      }
    }
    for (const w of [...this.waiters]) {
      if (w.pred(msg)) {
        clearTimeout(w.timer);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  }

  /** A short account of what arrived, for failure messages. */
  summary(): string {
    return this.received
      .map((m) => (m.method ? `${m.method}${m.method === 'window/logMessage' ? `(${String(m.params?.message).slice(0, 300)})` : m.method === 'textDocument/publishDiagnostics' ? `(${m.params?.diagnostics?.length} v${m.params?.version})` : ''}` : `reply#${m.id}`))
      .join(', ');
  }

  write(msg: Message): void {
    this.sent.push(msg);
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  /** Send raw bytes (for malformed-input tests). */
  writeRaw(data: string | Buffer): void {
    this.proc.stdin.write(data);
  }

  async request(method: string, params?: unknown, timeoutMs = 30000): Promise<any> {
    const id = this.nextId++;
    const p = new Promise<Message>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`timeout waiting for ${method} (${timeoutMs} ms); stderr: ${this.stderr}`));
      }, timeoutMs).unref();
    });
    this.write({ jsonrpc: '2.0', id, method, params });
    const res = await p;
    if (res.error) throw Object.assign(new Error(`${method}: ${res.error.message}`), { rpcError: res.error });
    return res.result;
  }

  notify(method: string, params?: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  /** Wait for a message (already received after `since`, or a future one) matching pred. */
  waitFor(pred: (m: Message) => boolean, timeoutMs = 30000, since = 0, what = 'message'): Promise<Message> {
    for (let i = since; i < this.received.length; i++) if (pred(this.received[i])) return Promise.resolve(this.received[i]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`timeout waiting for ${what} (${timeoutMs} ms); received: ${this.summary()}; stderr: ${this.stderr}`));
      }, timeoutMs);
      timer.unref();
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** The next publishDiagnostics for uri after message index `since` (optionally matching a check). */
  diagnostics(uri: string, since: number, check: (diags: any[]) => boolean = () => true, timeoutMs = 30000): Promise<any[]> {
    return this.waitFor(
      (m) => m.method === 'textDocument/publishDiagnostics' && m.params?.uri === uri && check(m.params.diagnostics),
      timeoutMs,
      since,
      `publishDiagnostics for ${uri}`,
    ).then((m) => m.params.diagnostics);
  }

  async initialize(initializationOptions: unknown = {}, capabilities: unknown = defaultCapabilities()): Promise<any> {
    const result = await this.request('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities,
      initializationOptions,
      clientInfo: { name: 'faultline-test-client' },
    });
    this.notify('initialized', {});
    return result;
  }

  open(uri: string, languageId: string, text: string, version = 1): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }

  async shutdown(): Promise<number | null> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    try {
      await this.request('shutdown', null, 5000);
      this.notify('exit');
    } catch {
      this.proc.kill();
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

export function defaultCapabilities(): unknown {
  return {
    textDocument: {
      synchronization: { dynamicRegistration: false },
      publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true },
      hover: { contentFormat: ['markdown', 'plaintext'] },
      codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', ''] } }, isPreferredSupport: true },
      codeLens: {},
    },
    workspace: { configuration: true },
  };
}

/** defaultCapabilities() with window.workDoneProgress (the Simulate command reports progress). */
export function capsWithProgress(): unknown {
  return { ...(defaultCapabilities() as object), window: { workDoneProgress: true } };
}

/** Start a server, initialize it, run `fn`, then shut it down and check that it exited with 0. */
export async function withLspServer(fn: (c: LspClient) => Promise<void>, init: unknown = {}, caps: unknown = defaultCapabilities()): Promise<void> {
  const c = new LspClient();
  try {
    await c.initialize(init, caps);
    await fn(c);
  } finally {
    const code = await c.shutdown();
    assert.equal(code, 0, `server exit code; stderr:\n${c.stderr}`);
  }
}

/** Open a C document and wait for its first diagnostics. */
export async function openAndWait(c: LspClient, uri: string, text: string): Promise<void> {
  const since = c.received.length;
  c.open(uri, 'c', text);
  await c.diagnostics(uri, since);
}

/** A position in `text` where `marker` starts (0-based line/character), plus `delta` characters. */
export function positionOf(text: string, marker: string, delta = 0): { line: number; character: number } {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker not found: ${marker}`);
  const before = text.slice(0, at + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}
