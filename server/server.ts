// The language server: documents, per-document analysis workers, diagnostics, hover, code actions,
// code lens. The only code that knows LSP (ARCHITECTURE.md); the engine does the thinking.
//
// Scheduling follows clangd (STYLE.md): one worker per open document; an edit bumps the document's
// generation, which cancels queued and running analysis (the engine polls `cancelled()` and the
// session yields between pieces of work); reads (hover, code actions, lens) use the latest text,
// re-analysing synchronously from the session's cache when the published result is stale.

import {
  DidChangeConfigurationNotification,
  MessageType,
  ShowMessageNotification,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { CancellationToken, ExecuteCommandParams, WorkDoneProgressReporter } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createEngine, type Engine } from '../engine/engine';
import { DocumentSession, type SessionResult } from '../engine/session';
import { treeRootVersion, treeVersionOf } from '../engine/input/tree-version';
import { setSimulationBroker } from '../engine/sim/broker';
import { SimulationPool } from './sim-pool';
import { findingToDiagnostic, problemToDiagnostic } from './convert';
import { codeActions, codeLenses, docsLinker, hover, simulateCodeActions, SHOW_RULE_DOC_COMMAND } from './features';
import {
  DEFAULT_MAX_STATES,
  DEFAULT_SIMULATION_TIME_MS,
  runSimulation,
  SERVER_SIMULATE_COMMAND,
  SIMULATE_COMMAND,
  toCommandResult,
  type SimulateCommandResult,
} from './simulate';
import { mergeSettings, parseSettings, type FaultlineSettings } from './settings';

/** Language ids we analyse: C sources and headers (some clients call .h cpp), and patches. */
const C_LANGUAGES = new Set(['c', 'cpp', 'objective-c', 'h']);
const PATCH_LANGUAGES = new Set(['diff', 'patch', 'git-commit', 'mail', 'email']);
const DEFAULT_DEBOUNCE_MS = 15;

function uriToPath(uri: string): string {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
}

function shouldAnalyze(languageId: string, path: string): boolean {
  if (C_LANGUAGES.has(languageId) || PATCH_LANGUAGES.has(languageId)) return true;
  // Clients that send a plain-text id for a .c / .patch file still get analysis by extension.
  return /\.(c|h|patch|diff|mbox|eml)$/i.test(path);
}

interface Worker {
  uri: string;
  languageId: string;
  version: number;
  path: string;
  /** Created once the engine is ready; until then `early` holds the text and takes the edits. */
  session?: DocumentSession;
  early?: TextDocument;
  /** Bumped by every edit and by settings changes: running work compares against it. */
  generation: number;
  timer?: NodeJS.Timeout;
  closed: boolean;
  /** Version the last published diagnostics belong to. */
  published?: number;
  /** A re-check after simulation answers, pending. */
  recheck?: NodeJS.Timeout;
}

/** Simulation answers arriving within this window are published together. */
const RECHECK_DELAY_MS = 150;

export interface ServerOptions {
  /** Inject an engine (tests); default createEngine(). */
  engine?: Promise<Engine>;
  /** Run "Simulate" on the main thread instead of a worker thread (in-process tests). */
  simulateInProcess?: boolean;
  /**
   * Where the rules' simulations run: a pool of worker threads (default), one job per event-loop
   * turn on this thread ('in-process', tests), or in place inside the analysis ('inline': blocks).
   */
  simulations?: 'workers' | 'in-process' | 'inline';
  /** Worker threads of the simulation pool. */
  simulationWorkers?: number;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const workers = new Map<string, Worker>();
  // Every simulation a rule needs runs off this thread (issue 8): the rule gets "pending", the
  // pool runs the job, and the documents with that text are checked again when it finishes.
  const mode = options.simulations ?? (options.simulateInProcess ? 'in-process' : 'workers');
  const pool = mode === 'inline' ? undefined : new SimulationPool({
    inProcess: mode === 'in-process',
    ...(options.simulationWorkers ? { size: options.simulationWorkers } : {}),
    log: (msg) => connection.console.log(msg),
    onResult: (text) => {
      for (const w of workers.values()) {
        if (w.closed || w.session?.text !== text) continue;
        // Answers come in bursts (one per function): re-check once per burst, not per answer.
        if (w.recheck) continue;
        w.recheck = setTimeout(() => {
          w.recheck = undefined;
          if (w.closed || w.session?.text !== text) return;
          // The cached findings of that text were computed without the simulation: drop them.
          w.session.setOptions(sessionOptions(w.path));
          schedule(w);
        }, RECHECK_DELAY_MS);
      }
    },
  });
  setSimulationBroker(pool);
  /** Jobs for texts no open document has any more are dropped or cancelled. */
  const retainOpenTexts = () => pool?.retainTexts(new Set([...workers.values()].map((w) => w.session?.text ?? w.early?.getText() ?? '')));
  let engine: Engine | undefined;
  const enginePromise = options.engine ?? createEngine();
  const engineReady = enginePromise.then(
    (e) => {
      engine = e;
      return e;
    },
    (err) => {
      const msg = err instanceof Error ? err.message : String(err);
      connection.console.error(`faultline: the engine failed to start: ${err instanceof Error ? err.stack ?? msg : msg}`);
      // Without the engine no document gets diagnostics: say so once, where the user looks.
      void Promise.resolve()
        .then(() => connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message: `Faultline could not start its analysis engine: ${msg}` }))
        .catch(() => undefined);
      return undefined;
    },
  );

  let initSettings: FaultlineSettings = {};
  let settings: FaultlineSettings = {};
  // The client's settings arrive after `initialized` (workspace/configuration); the first analysis
  // waits for them, so a document opened right away never shows findings of a disabled rule.
  let settingsReady: Promise<void> = Promise.resolve();
  /** The workspace folder (its Makefile gives the kernel version when a file's tree has none). */
  let workspaceRoot: string | undefined;
  let hasConfiguration = false;
  let hasDynamicConfig = false;
  let canShowDocument = false;
  let canWorkDoneProgress = false;

  const log = (msg: string) => connection.console.log(msg);
  const logError = (what: string, err: unknown) =>
    connection.console.error(`faultline: ${what} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);

  /** Every handler goes through here: one feature's exception logs and answers empty, never kills the server. */
  function guard<P, R>(what: string, fallback: R, fn: (p: P) => R | Promise<R>): (p: P) => Promise<R> {
    return async (p: P) => {
      try {
        return await fn(p);
      } catch (err) {
        logError(what, err);
        return fallback;
      }
    };
  }

  function docsLink() {
    return docsLinker(settings.docsBaseUrl, settings.docsDir);
  }

  /**
   * The kernel version a document is judged with: `faultline.kernel`, else the tree's own (the
   * top-level Makefile above the file, else the workspace root's), else mainline (issue 8).
   */
  function kernelFor(path: string): string | undefined {
    if (settings.kernel) return settings.kernel;
    try {
      return (path ? treeVersionOf(path) : undefined)?.version ?? (workspaceRoot ? treeRootVersion(workspaceRoot)?.version : undefined);
    } catch {
      return undefined;
    }
  }

  function sessionOptions(path: string) {
    const kernel = kernelFor(path);
    return { rules: settings.rules, ...(kernel ? { kernel } : {}) };
  }

  function publish(w: Worker, result: SessionResult): void {
    const link = docsLink();
    const diagnostics = result.findings.map((f, i) => findingToDiagnostic(f, i, w.uri, link(f.rule)));
    for (const p of result.problems) diagnostics.push(problemToDiagnostic(p));
    w.published = w.version;
    void connection.sendDiagnostics({ uri: w.uri, version: w.version, diagnostics });
  }

  /** The worker's session, created from the early text the first time the engine is there. */
  function sessionOf(w: Worker): DocumentSession | undefined {
    if (w.session) return w.session;
    if (!engine || !w.early) return undefined;
    w.session = new DocumentSession(engine, w.uri, w.path, w.early.getText(), { ...sessionOptions(w.path), languageId: w.languageId });
    w.early = undefined;
    return w.session;
  }

  async function run(w: Worker): Promise<void> {
    const generation = w.generation;
    const cancelled = () => w.closed || w.generation !== generation;
    const session = sessionOf(w);
    if (!session) return;
    try {
      const result = await session.analyzeAsync(cancelled);
      if (!result || cancelled()) return;
      publish(w, result);
    } catch (err) {
      logError(`analysis of ${w.uri}`, err);
      // Leave the last diagnostics as they were: a crash in one rule should not blank the editor.
    }
  }

  function schedule(w: Worker): void {
    w.generation++;
    if (w.timer) clearTimeout(w.timer);
    const delay = settings.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      void Promise.all([engineReady, settingsReady]).then(([e]) => {
        if (e && !w.closed) void run(w);
      });
    }, delay);
  }

  /** The result for the document's current text; analyses now (from cache) when the published one is stale. */
  function currentResult(w: Worker): SessionResult | undefined {
    const session = sessionOf(w);
    if (!session) return undefined;
    const cur = session.current;
    if (cur) return cur;
    try {
      return session.analyze(() => w.closed);
    } catch (err) {
      logError(`analysis of ${w.uri}`, err);
      return session.lastResult;
    }
  }

  async function pullSettings(): Promise<void> {
    let fromClient: FaultlineSettings = {};
    if (hasConfiguration) {
      try {
        const [section] = await connection.workspace.getConfiguration([{ section: 'faultline' }]);
        fromClient = parseSettings(section);
      } catch (err) {
        logError('workspace/configuration', err);
      }
    }
    const next = mergeSettings(initSettings, fromClient);
    const changed = JSON.stringify(next) !== JSON.stringify(settings);
    settings = next;
    if (!changed) return;
    for (const w of workers.values()) {
      w.session?.setOptions(sessionOptions(w.path));
      schedule(w);
    }
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const caps = params.capabilities;
    hasConfiguration = !!caps.workspace?.configuration;
    hasDynamicConfig = !!caps.workspace?.didChangeConfiguration?.dynamicRegistration;
    canShowDocument = !!caps.window?.showDocument?.support;
    canWorkDoneProgress = !!caps.window?.workDoneProgress;
    initSettings = parseSettings(params.initializationOptions);
    const rootUri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    if (rootUri?.startsWith('file:')) {
      try { workspaceRoot = fileURLToPath(rootUri); } catch { workspaceRoot = undefined; }
    }
    settings = initSettings;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        codeLensProvider: { resolveProvider: false },
        // Only the server-side id: VS Code's client registers a command for every advertised id,
        // and its own `faultline.simulate` (lens, code action, palette) calls this one.
        executeCommandProvider: { commands: [SERVER_SIMULATE_COMMAND], workDoneProgress: true },
      },
      serverInfo: { name: 'faultline', version: '0.1.0' },
    };
  });

  connection.onInitialized(async () => {
    settingsReady = (async () => {
      if (hasDynamicConfig) {
        try {
          await connection.client.register(DidChangeConfigurationNotification.type, { section: 'faultline' });
        } catch (err) {
          logError('registering for configuration changes', err);
        }
      }
      await pullSettings();
    })();
    await settingsReady;
  });

  connection.onDidChangeConfiguration(
    guard('didChangeConfiguration', undefined, async (p: { settings: unknown }) => {
      // Clients without workspace/configuration push the settings themselves.
      if (!hasConfiguration && p.settings) initSettings = mergeSettings(initSettings, parseSettings(p.settings));
      await pullSettings();
    }),
  );

  connection.onDidOpenTextDocument(
    guard('didOpen', undefined, async (p) => {
      const { uri, languageId, version, text } = p.textDocument;
      const path = uriToPath(uri);
      if (!shouldAnalyze(languageId, path)) return;
      const existing = workers.get(uri);
      if (existing) {
        existing.closed = true;
        existing.session?.dispose();
      }
      // Created synchronously, before any await, so a didChange right behind the didOpen finds it.
      const w: Worker = { uri, languageId, version, path, generation: 0, closed: false, early: TextDocument.create(uri, languageId, version, text) };
      workers.set(uri, w);
      sessionOf(w);
      schedule(w);
    }),
  );

  connection.onDidChangeTextDocument(
    guard('didChange', undefined, async (p) => {
      const w = workers.get(p.textDocument.uri);
      if (!w) return;
      const session = sessionOf(w);
      if (session) for (const change of p.contentChanges) session.applyChange(change);
      else if (w.early) w.early = TextDocument.update(w.early, p.contentChanges, p.textDocument.version);
      w.version = p.textDocument.version;
      retainOpenTexts();
      schedule(w);
    }),
  );

  connection.onDidCloseTextDocument(
    guard('didClose', undefined, async (p) => {
      const w = workers.get(p.textDocument.uri);
      if (!w) return;
      w.closed = true;
      if (w.timer) clearTimeout(w.timer);
      w.session?.dispose();
      workers.delete(p.textDocument.uri);
      retainOpenTexts();
      void connection.sendDiagnostics({ uri: p.textDocument.uri, diagnostics: [] });
    }),
  );

  connection.onHover(
    guard('hover', null, async (p) => {
      if (!engine) await engineReady;
      const w = workers.get(p.textDocument.uri);
      const session = w && sessionOf(w);
      if (!w || !session) return null;
      return hover(session, currentResult(w), p.position, docsLink(), { kernel: kernelFor(w.path) });
    }),
  );

  connection.onCodeAction(
    guard('codeAction', [], async (p) => {
      if (!engine) await engineReady;
      const w = workers.get(p.textDocument.uri);
      const session = w && sessionOf(w);
      if (!w || !session) return [];
      const result = currentResult(w);
      return [...codeActions(session, result, p, docsLink()), ...simulateCodeActions(session, result, p, kernelFor(w.path))];
    }),
  );

  connection.onCodeLens(
    guard('codeLens', [], async (p) => {
      if (!engine) await engineReady;
      const w = workers.get(p.textDocument.uri);
      const session = w && sessionOf(w);
      if (!w || !session) return [];
      return codeLenses(session, currentResult(w), () => w.closed, kernelFor(w.path));
    }),
  );

  /**
   * "Simulate this function" (issue 4): the document's current text in a worker thread, with
   * window/workDoneProgress (the client's token, else one the server creates) and cancellation
   * (the request's $/cancelRequest or the progress's cancel). Later edits do not cancel it: the
   * result names the version it ran on and the version current when it finished.
   */
  /** Simulations in progress by uri + function + arch: a new request cancels the old one. */
  const running = new Map<string, () => void>();

  async function simulate(p: ExecuteCommandParams, token: CancellationToken, attached: WorkDoneProgressReporter): Promise<SimulateCommandResult | null> {
    const arg = p.arguments?.[0];
    const uri = typeof arg === 'string' ? arg : typeof (arg as { uri?: unknown })?.uri === 'string' ? (arg as { uri: string }).uri : undefined;
    const fnArg = typeof arg === 'string' ? p.arguments?.[1] : (arg as { function?: unknown })?.function;
    const fnName = typeof fnArg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(fnArg) ? fnArg : undefined;
    const archArg = (arg as { arch?: unknown } | undefined)?.arch;
    const arch = typeof archArg === 'string' ? archArg : undefined;
    if (!uri || !fnName) {
      connection.window.showErrorMessage('Faultline: simulate needs {uri, function}.');
      return null;
    }
    if (!engine) await engineReady;
    const w = workers.get(uri);
    let text: string;
    let version = 0;
    let path = uriToPath(uri);
    if (w) {
      text = sessionOf(w)?.text ?? w.early?.getText() ?? '';
      version = w.version;
      path = w.path;
    } else if (uri.startsWith('file:')) {
      // Not open in the client (a generic client running the command by hand): the file on disk.
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        connection.window.showErrorMessage(`Faultline: cannot read ${uri}: ${err instanceof Error ? err.message : String(err)}`);
        return null;
      }
    } else return null;

    let reporter: WorkDoneProgressReporter = attached;
    let progressToken: CancellationToken | undefined;
    // vscode-languageserver takes the client's workDoneToken out of the params and hands a
    // reporter bound to it (or a null reporter without one): only the real one has a `_token`.
    const clientToken = '_token' in (attached as object);
    if (!clientToken && canWorkDoneProgress) {
      try {
        const created = await connection.window.createWorkDoneProgress();
        reporter = created;
        progressToken = created.token;
      } catch (err) {
        logError('window/workDoneProgress/create', err);
      }
    }
    // Simulating the same function again supersedes the run still going (the user asked again,
    // perhaps after an edit): one worker per function, never a pile of them.
    const key = `${uri}\0${fnName}\0${arch ?? ''}`;
    running.get(key)?.();
    let superseded = false;
    const supersede = () => {
      superseded = true;
    };
    running.set(key, supersede);
    const cancelled = () => superseded || token.isCancellationRequested || !!progressToken?.isCancellationRequested || (w?.closed ?? false);
    reporter.begin(`Faultline: simulating ${fnName}()`, undefined, 'starting', true);
    // What the user asked for first: background simulations wait until it is done.
    const release = pool?.hold();
    let lastReport = 0;
    try {
      const r = await runSimulation(
        {
          text, function: fnName, path, ...(arch ? { arch } : {}), ...(kernelFor(path) ? { kernel: kernelFor(path) } : {}),
          maxStates: settings.simulationMaxStates ?? DEFAULT_MAX_STATES,
          timeMs: settings.simulationTimeMs ?? DEFAULT_SIMULATION_TIME_MS,
        },
        {
          cancelled,
          onCancel: (listener) => {
            token.onCancellationRequested(listener);
            progressToken?.onCancellationRequested(listener);
          },
          onProgress: (explored) => {
            // Runs can finish in bursts: at most ten reports a second.
            const now = Date.now();
            if (now - lastReport < 100) return;
            lastReport = now;
            reporter.report(`${explored} states explored`);
          },
          ...(options.simulateInProcess ? { inProcess: true } : {}),
        },
      );
      return toCommandResult(r, uri, version, workers.get(uri)?.version ?? version);
    } finally {
      if (running.get(key) === supersede) running.delete(key);
      release?.();
      reporter.done();
    }
  }

  // faultline.server.simulate is advertised. faultline.simulate (what lenses and code actions name)
  // and faultline.showRuleDoc are not (VS Code's client registers those itself and would clash);
  // generic clients that send them anyway get them run here.
  connection.onExecuteCommand(async (p, token, workDone) => {
    try {
      if (p.command === SERVER_SIMULATE_COMMAND) return await simulate(p, token, workDone);
      if (p.command === SIMULATE_COMMAND) {
        const r = await simulate(p, token, workDone);
        // A generic client cannot show the trace document: say the verdict where the user looks.
        if (r) connection.window.showInformationMessage(`Faultline: ${r.function}(): ${r.verdict}${r.arch ? ` on ${r.arch}` : ''}${r.cancelled ? ' (cancelled)' : ''}. ${r.error ?? r.note}`);
        return r;
      }
      if (p.command !== SHOW_RULE_DOC_COMMAND) return null;
      const rule = typeof p.arguments?.[0] === 'string' ? (p.arguments[0] as string) : undefined;
      if (!rule) return null;
      const uri = typeof p.arguments?.[1] === 'string' ? (p.arguments[1] as string) : docsLink()(rule);
      if (canShowDocument) await connection.window.showDocument({ uri, external: !uri.startsWith('file:') });
      else connection.window.showInformationMessage(`${rule}: ${uri}`);
      return null;
    } catch (err) {
      logError(`executeCommand ${p.command}`, err);
      return null;
    }
  });

  connection.onShutdown(() => {
    for (const w of workers.values()) {
      w.closed = true;
      if (w.timer) clearTimeout(w.timer);
      w.session?.dispose();
    }
    workers.clear();
    pool?.dispose();
    setSimulationBroker(undefined);
  });

  void engineReady.then((e) => {
    if (e) log('faultline: engine ready');
  });
}
