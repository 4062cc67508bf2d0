// The VS Code extension: starts the Faultline language server (dist/server.js, bundled next to
// this file) over node IPC, forwards the `faultline.*` settings, and adds two commands. All
// analysis lives in the server; this file only wires VS Code to it (ARCHITECTURE.md "Layers").
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  COMMANDS,
  documentSelector,
  isRuleId,
  normalizeSettings,
  ruleDocUrl,
  type FaultlineInitOptions,
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
  const initializationOptions: FaultlineInitOptions = {
    ...readSettings(),
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
          return result.map((value, i) =>
            params.items[i]?.section === 'faultline' && value && typeof value === 'object'
              ? { ...value, ...normalizeSettings(value as Record<string, unknown>) }
              : value,
          );
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

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Faultline', { log: true });
  context.subscriptions.push(output);
  client = createClient(context);

  context.subscriptions.push(
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
