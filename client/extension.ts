// The VS Code extension: starts the Faultline language server (dist/server.js, bundled next to
// this file) over node IPC, forwards the `faultline.*` settings, and adds three commands (rule
// docs, restart, "Simulate This Function") plus the read-only `faultline-trace:` documents the
// simulation trace opens in. All analysis lives in the server; this file only wires VS Code to
// it (ARCHITECTURE.md "Layers").
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { traceViewHtml, type TraceViewStep } from './trace-view';
import {
  ExecuteCommandRequest,
  LanguageClient,
  TransportKind,
  WorkDoneProgress,
  type LanguageClientOptions,
  type ServerOptions,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
  type WorkDoneProgressEnd,
} from 'vscode-languageclient/node';
import {
  COMMANDS,
  SERVER_SIMULATE_COMMAND,
  TRACE_SCHEME,
  documentSelector,
  isRuleId,
  normalizeSettings,
  normalizeSimulation,
  ruleDocUrl,
  simulateArgs,
  type FaultlineInitOptions,
  type SimulateArgs,
} from './manifest';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

function readSettings(): ReturnType<typeof normalizeSettings> {
  const cfg = vscode.workspace.getConfiguration('faultline');
  return normalizeSettings({ rules: cfg.get('rules'), kernel: cfg.get('kernel'), docsBaseUrl: cfg.get('docsBaseUrl') });
}

function docsDir(context: vscode.ExtensionContext): string {
  return context.asAbsolutePath(path.join('docs', 'rules'));
}

function createClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  // TransportKind.ipc makes the client append `--node-ipc`; the server picks its transport from argv.
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const cfg = vscode.workspace.getConfiguration('faultline');
  const initializationOptions: FaultlineInitOptions & { simulation: ReturnType<typeof normalizeSimulation> } = {
    ...readSettings(),
    simulation: normalizeSimulation({ maxStates: cfg.get('simulation.maxStates'), timeMs: cfg.get('simulation.timeMs') }),
    docsDir: docsDir(context),
    client: 'vscode',
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    outputChannel: output,
    initializationOptions,
    synchronize: { configurationSection: 'faultline' },
    middleware: {
      workspace: {
        // Pulled configuration goes through the same normalisation as initializationOptions,
        // so the server never sees a malformed hand-edited value.
        configuration: async (params, token, next) => {
          const result = await next(params, token);
          if (!Array.isArray(result)) return result;
          return result.map((value, i) => {
            if (params.items[i]?.section !== 'faultline' || !value || typeof value !== 'object') return value;
            const v = value as Record<string, unknown>;
            const sim = v.simulation && typeof v.simulation === 'object' ? (v.simulation as Record<string, unknown>) : {};
            return { ...v, ...normalizeSettings(v), simulation: normalizeSimulation(sim) };
          });
        },
      },
    },
  };
  return new LanguageClient('faultline', 'Faultline', serverOptions, clientOptions);
}

/** Opens a rule's page: the copy shipped in the extension, in the markdown preview; or, when
 *  faultline.docsBaseUrl is set (or the page is missing), the page on the web. */
async function showRuleDoc(context: vscode.ExtensionContext, arg?: unknown, href?: unknown): Promise<void> {
  let id: unknown = arg;
  // Called from a diagnostic/code action the argument may be the rule id or {rule} / {code}.
  if (id && typeof id === 'object') {
    const o = id as { rule?: unknown; ruleId?: unknown; code?: unknown };
    id = o.rule ?? o.ruleId ?? o.code;
  }
  const dir = docsDir(context);
  if (id === undefined) {
    let ids: string[] = [];
    try {
      ids = fs.readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort();
    } catch {
      /* no docs shipped: fall through to the message below */
    }
    if (ids.length === 0) {
      void vscode.window.showWarningMessage('Faultline: no rule documentation is installed.');
      return;
    }
    id = await vscode.window.showQuickPick(ids, { placeHolder: 'Faultline rule' });
    if (id === undefined) return;
  }
  if (!isRuleId(id)) {
    void vscode.window.showErrorMessage(`Faultline: "${String(id)}" is not a rule id.`);
    return;
  }
  const { docsBaseUrl } = readSettings();
  const file = path.join(dir, `${id}.md`);
  if (!docsBaseUrl && fs.existsSync(file)) {
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(file));
    return;
  }
  if (docsBaseUrl) {
    await vscode.env.openExternal(vscode.Uri.parse(ruleDocUrl(docsBaseUrl, id)));
    return;
  }
  // The server's code action passes the page's link as a second argument: use it when this
  // install has no copy of the page (a server newer than the extension's docs).
  if (typeof href === 'string' && /^https?:\/\//.test(href)) {
    await vscode.env.openExternal(vscode.Uri.parse(href));
    return;
  }
  void vscode.window.showErrorMessage(`Faultline: no documentation page for rule ${id}.`);
}

/** The trace documents: read-only, served from memory, one per simulated function. Shown as
 *  Markdown source, not in the Markdown preview: the preview's markdown-it drops `file:` links,
 *  and every step line is such a link (`[L12](file:///…/x.c#L12)`). Here each one is a document
 *  link that opens the source at that line (the `#L12` fragment selects it). */
class TraceDocuments implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider {
  private readonly docs = new Map<string, string>();
  /** Trace uri -> the source document it was simulated from (relative links resolve against it). */
  private readonly sources = new Map<string, vscode.Uri>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? `# No Faultline trace\n\nRun **Faultline: Simulate This Function** to produce ${uri.path}.\n`;
  }
  /** Stores a trace; links to the source (`<source uri>#L12`) are shortened to `<file name>#L12`
   *  for reading, and resolved back against the source by provideDocumentLinks. */
  set(uri: vscode.Uri, markdown: string, source: string): void {
    const src = vscode.Uri.parse(source);
    const name = path.posix.basename(src.path);
    const short = name && !/[()\s\]]/.test(name) ? markdown.split(`](${source}#L`).join(`](${name}#L`) : markdown;
    this.docs.set(uri.toString(), short);
    this.sources.set(uri.toString(), src);
    // Keep the last few: a trace is a few kB, but a long session should not hoard them.
    while (this.docs.size > 32) {
      const first = this.docs.keys().next().value as string;
      this.docs.delete(first);
      this.sources.delete(first);
    }
    this.changed.fire(uri);
  }
  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    const links: vscode.DocumentLink[] = [];
    const text = doc.getText();
    const source = this.sources.get(doc.uri.toString());
    const re = /\[([^\]\n]*)\]\(([^)\s]+)\)/g;
    for (let m = re.exec(text); m && links.length < 5000; m = re.exec(text)) {
      let target: vscode.Uri;
      try {
        const hash = m[2].indexOf('#');
        const file = hash < 0 ? m[2] : m[2].slice(0, hash);
        const fragment = hash < 0 ? '' : m[2].slice(hash + 1);
        if (/^[a-z][a-z0-9+.-]*:/i.test(m[2])) target = vscode.Uri.parse(m[2]);
        else if (source && file === path.posix.basename(source.path)) target = source.with({ fragment });
        else continue;
      } catch {
        continue;
      }
      const link = new vscode.DocumentLink(new vscode.Range(doc.positionAt(m.index), doc.positionAt(m.index + m[0].length)), target);
      const line = /#L(\d+)$/.exec(m[2])?.[1];
      link.tooltip = line ? `Go to line ${line} of ${path.basename(target.path)}` : `Open ${path.basename(target.path)}`;
      links.push(link);
    }
    return links;
  }
  dispose(): void {
    this.changed.dispose();
  }
}

interface SimulateResult {
  uri: string;
  function: string;
  version: number;
  currentVersion: number;
  verdict: string;
  arch: string;
  cancelled: boolean;
  statesExplored: number;
  note: string;
  error?: string;
  trace: string;
  traceUri?: string;
  kernel: string;
  decisive: number;
  steps: TraceViewStep[];
  profiles?: { arch: string; verdict: string }[];
  /** Who runs each thread (a seed rule's scenario): the webview's lane heads. */
  threads?: string[];
}

let lastResult: SimulateResult | undefined;
let tracePanel: vscode.WebviewPanel | undefined;

/** The last simulation as a webview panel: strict CSP with a nonce, no remote content. */
function showTracePanel(): void {
  const r = lastResult;
  if (!r) {
    void vscode.window.showInformationMessage('Faultline: run Simulate This Function first.');
    return;
  }
  if (!tracePanel) {
    tracePanel = vscode.window.createWebviewPanel('faultlineTrace', `Trace: ${r.function}()`, vscode.ViewColumn.Beside, { enableScripts: true, localResourceRoots: [] });
    tracePanel.onDidDispose(() => { tracePanel = undefined; });
    tracePanel.webview.onDidReceiveMessage(async (m: { line?: unknown }) => {
      const src = lastResult;
      if (!src || typeof m.line !== 'number') return;
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(src.uri));
      const pos = new vscode.Position(m.line, 0);
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
    });
  }
  tracePanel.title = `Trace: ${r.function}()`;
  const nonce = [...Array(32)].map(() => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 62)]).join('');
  tracePanel.webview.html = traceViewHtml(r, nonce);
  tracePanel.reveal(vscode.ViewColumn.Beside);
}

/** The function to simulate when the palette runs the command: the server's code action at the
 *  cursor, else a pick among the functions that have a Simulate lens. */
async function pickFunction(editor: vscode.TextEditor): Promise<SimulateArgs | undefined> {
  const uri = editor.document.uri;
  const actions = (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>('vscode.executeCodeActionProvider', uri, editor.selection)) ?? [];
  for (const a of actions) {
    const cmd = 'command' in a && a.command && typeof a.command === 'object' ? a.command : (a as vscode.Command);
    if (cmd?.command === COMMANDS.simulate) {
      const args = simulateArgs(cmd.arguments?.[0]);
      if (args) return args;
    }
  }
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  const fns = lenses.map((l) => simulateArgs(l.command?.command === COMMANDS.simulate ? l.command.arguments?.[0] : undefined)).filter((a): a is SimulateArgs => !!a);
  if (fns.length === 0) {
    void vscode.window.showInformationMessage('Faultline: no function in this file has a fault-in retry loop or a fault under a lock to simulate.');
    return undefined;
  }
  if (fns.length === 1) return fns[0];
  const picked = await vscode.window.showQuickPick(fns.map((f) => ({ label: f.function, args: f })), { placeHolder: 'Function to simulate' });
  return picked?.args;
}

async function simulate(traces: TraceDocuments, arg?: unknown): Promise<SimulateResult | undefined> {
  const c = client;
  if (!c) {
    void vscode.window.showErrorMessage('Faultline: the language server is not running.');
    return undefined;
  }
  let args = simulateArgs(arg);
  if (!args) {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Faultline: open a C file to simulate one of its functions.');
      return undefined;
    }
    args = await pickFunction(editor);
    if (!args) return undefined;
  }
  const target = args;
  // Our own progress token: the server reports on it (no second, server-created progress) and the
  // notification's Cancel button cancels the request ($/cancelRequest), which stops the run.
  const workDoneToken = `faultline-simulate-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Faultline: simulating ${target.function}()`, cancellable: true },
    async (progress, token) => {
      const sub = c.onProgress(WorkDoneProgress.type, workDoneToken, (v: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
        if (v.kind !== 'end' && v.message) progress.report({ message: v.message });
      });
      try {
        return (await c.sendRequest(ExecuteCommandRequest.type, { command: SERVER_SIMULATE_COMMAND, arguments: [target], workDoneToken }, token)) as SimulateResult | null;
      } catch (e) {
        if (token.isCancellationRequested) return null;
        throw e;
      } finally {
        sub.dispose();
      }
    },
  );
  if (!result) return undefined;
  lastResult = result;
  if (tracePanel) showTracePanel();
  const traceUri = vscode.Uri.parse(result.traceUri ?? `${TRACE_SCHEME}:/${encodeURIComponent(result.function)}.md`);
  traces.set(traceUri, result.trace, result.uri);
  const doc = await vscode.workspace.openTextDocument(traceUri);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  const stale = result.currentVersion !== result.version ? ' The document changed since; run it again for the current text.' : '';
  const what = `Faultline: ${result.function}(): ${result.verdict}${result.arch ? ` on ${result.arch}` : ''}${result.cancelled ? ' (cancelled)' : ''}.${stale}`;
  if (result.error) void vscode.window.showWarningMessage(`${what} ${result.error}`);
  else if (result.verdict !== 'ok' || stale) {
    void vscode.window.showInformationMessage(what, 'Trace Panel').then((pick) => { if (pick) showTracePanel(); });
  }
  return result;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Faultline', { log: true });
  context.subscriptions.push(output);
  client = createClient(context);
  const traces = new TraceDocuments();

  context.subscriptions.push(
    traces,
    vscode.workspace.registerTextDocumentContentProvider(TRACE_SCHEME, traces),
    vscode.languages.registerDocumentLinkProvider({ scheme: TRACE_SCHEME }, traces),
    // Returns the result too, so other extensions and tests can read the verdict.
    vscode.commands.registerCommand(COMMANDS.simulate, (arg?: unknown) => simulate(traces, arg)),
    vscode.commands.registerCommand(COMMANDS.showTracePanel, () => showTracePanel()),
    vscode.commands.registerCommand(COMMANDS.showRuleDoc, (arg?: unknown, href?: unknown) => showRuleDoc(context, arg, href)),
    vscode.commands.registerCommand(COMMANDS.restartServer, () => {
      // Two quick restarts share one: never two servers for the same documents.
      restarting ??= restartServer(context).finally(() => (restarting = undefined));
      return restarting;
    }),
    { dispose: () => void client?.stop() },
  );

  try {
    await client.start();
    output.info(`Faultline language server started (${context.asAbsolutePath('dist/server.js')})`);
  } catch (e) {
    // A server that cannot start must not take the extension host down; say why instead.
    output.error(`could not start the Faultline language server: ${String(e)}`);
    void vscode.window.showErrorMessage('Faultline: the language server failed to start; see the Faultline output.');
  }
}

let restarting: Promise<void> | undefined;

async function restartServer(context: vscode.ExtensionContext): Promise<void> {
  output?.info('restarting the Faultline language server');
  // A fresh client rather than restart(): initializationOptions are read when it is built,
  // so changed settings reach the new server's initialize.
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop(5000);
    } catch (e) {
      output?.warn(`stopping the old server failed: ${String(e)}`);
    }
  }
  client = createClient(context);
  try {
    await client.start();
    output?.info('Faultline language server restarted');
  } catch (e) {
    output?.error(`could not restart the Faultline language server: ${String(e)}`);
    void vscode.window.showErrorMessage('Faultline: the language server failed to restart; see the Faultline output.');
  }
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.stop();
}
