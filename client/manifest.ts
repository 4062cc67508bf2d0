// The VS Code side of Faultline as data: which documents the server handles, which settings and
// commands the extension contributes, and the extension manifest generated at package time
// (scripts/package-vsix.mjs). Plain TypeScript with no `vscode` import, so the packager and the
// tests can read it without an editor.

/** Extensions of files that carry patches: git format-patch output, saved mails (b4, mutt). */
export const PATCH_FILE_EXTENSIONS = ['.patch', '.diff', '.mbox', '.eml'] as const;

/** VS Code language ids whose documents go to the server. `diff` is VS Code's built-in id for
 *  .patch/.diff; the manifest adds .mbox/.eml to it so mailed patches are checked too. */
export const LANGUAGE_IDS = ['c', 'cpp', 'diff'] as const;

/** A document filter as vscode-languageclient takes it (kept structural to avoid a vscode import). */
export type DocumentFilterLike =
  | { scheme: string; language: string; pattern?: string }
  | { scheme: string; language?: string; pattern: string };

/**
 * The documents the client sends to the server. Language ids cover files VS Code already knows;
 * the pattern catches patch files a user re-associated with another language (e.g. plaintext).
 * Both `file` and `untitled` schemes: a patch pasted into a new editor is worth checking.
 */
export function documentSelector(): DocumentFilterLike[] {
  const sel: DocumentFilterLike[] = [];
  for (const scheme of ['file', 'untitled']) {
    for (const language of LANGUAGE_IDS) sel.push({ scheme, language });
  }
  const exts = PATCH_FILE_EXTENSIONS.map((e) => e.slice(1)).join(',');
  sel.push({ scheme: 'file', pattern: `**/*.{${exts}}` });
  return sel;
}

/** What the server receives as initializationOptions, and again (under `faultline`) through
 *  workspace/configuration and workspace/didChangeConfiguration (server/settings.ts reads it). */
export interface FaultlineSettings {
  /** Rule ids to run; empty = every rule. */
  rules: string[];
  /** Kernel version the code targets, normalised to the API table's `v6.8` form; empty = the
   *  table's default. Behaviour changed across versions (commit bb523b406c84, v5.16: fault_in_*()
   * return
   *  values since 5.16; C.2: the `vmas` argument went away in 6.5). */
  kernel: string;
  /** Base URL for rule documentation links; empty = the pages shipped inside the extension. */
  docsBaseUrl: string;
}

export interface FaultlineInitOptions extends FaultlineSettings {
  /** Absolute path of the docs/rules directory shipped in the extension. */
  docsDir: string;
  client: 'vscode';
}

/** Reads raw configuration values into well-typed settings, dropping anything malformed
 *  (a hand-edited settings.json must not break the server). */
export function normalizeSettings(raw: { rules?: unknown; kernel?: unknown; docsBaseUrl?: unknown }): FaultlineSettings {
  const list = typeof raw.rules === 'string' ? raw.rules.split(',') : Array.isArray(raw.rules) ? raw.rules : [];
  const rules = [...new Set(list.map((r) => (typeof r === 'string' ? r.trim() : r)).filter(isRuleId))];
  // The API table writes versions as `v5.6` (engine/kernel/api-schema.ts `since`); accept `5.6` too.
  const kernel = typeof raw.kernel === 'string' && /^v?\d+\.\d+(\.\d+)?(-rc\d+)?$/.test(raw.kernel.trim()) ? `v${raw.kernel.trim().replace(/^v/, '')}` : '';
  const docsBaseUrl = typeof raw.docsBaseUrl === 'string' && /^https?:\/\//.test(raw.docsBaseUrl.trim()) ? raw.docsBaseUrl.trim() : '';
  return { rules, kernel, docsBaseUrl };
}

/** A rule id as the rule catalog writes them: lower-case words joined by dashes. Guards the path we
 *  build from a command argument (it comes from a diagnostic or a code action). */
export function isRuleId(id: unknown): id is string {
  return typeof id === 'string' && /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(id) && id.length <= 64;
}

/** URL of a rule's page under a docs base URL. */
export function ruleDocUrl(base: string, id: string): string {
  return `${base.replace(/\/+$/, '')}/${id}.md`;
}

export const COMMANDS = {
  showRuleDoc: 'faultline.showRuleDoc',
  restartServer: 'faultline.restartServer',
  /** "Simulate this function" (code lens, code action, palette): runs the server's command below. */
  simulate: 'faultline.simulate',
  /** The last simulation's trace as a panel (webview: lanes per CPU, state beside each step). */
  showTracePanel: 'faultline.showTracePanel',
} as const;

/** The server-side command (advertised in executeCommandProvider; server/simulate.ts). A distinct id:
 *  vscode-languageclient registers a client command for every id the server advertises, which
 *  would clash with the extension's own `faultline.simulate`. */
export const SERVER_SIMULATE_COMMAND = 'faultline.server.simulate';

/** Scheme of the read-only trace documents (`faultline-trace:/<function>.md`). */
export const TRACE_SCHEME = 'faultline-trace';

/** Default of `faultline.simulation.maxStates` (the server uses the same). */
export const DEFAULT_SIMULATION_MAX_STATES = 200000;
/** Default of `faultline.simulation.timeMs`. */
export const DEFAULT_SIMULATION_TIME_MS = 10000;

/** The argument of `faultline.simulate` when a lens or a code action calls it. */
export interface SimulateArgs {
  uri: string;
  function: string;
  arch?: string;
}

/** Reads a command argument into {uri, function}; undefined when it is not one (palette call). */
export function simulateArgs(arg: unknown): SimulateArgs | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const o = arg as Record<string, unknown>;
  if (typeof o.uri !== 'string' || typeof o.function !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.function)) return undefined;
  return { uri: o.uri, function: o.function, ...(typeof o.arch === 'string' && /^[a-z0-9_-]+$/.test(o.arch) ? { arch: o.arch } : {}) };
}

/** The simulation budget from raw configuration values; malformed values fall back to the defaults. */
export function normalizeSimulation(raw: { maxStates?: unknown; timeMs?: unknown }): { maxStates: number; timeMs: number } {
  const count = (v: unknown, dflt: number, max: number) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.min(Math.floor(v), max) : dflt;
  return { maxStates: count(raw.maxStates, DEFAULT_SIMULATION_MAX_STATES, 50_000_000), timeMs: count(raw.timeMs, DEFAULT_SIMULATION_TIME_MS, 600_000) };
}

export interface ManifestInput {
  version: string;
  description?: string;
  license?: string;
  /** Rule ids with a page in docs/rules (for the settings schema's suggestions). */
  ruleIds: string[];
}

/** The extension's package.json (the root package.json is the npm project, not this). */
export function extensionManifest(input: ManifestInput): Record<string, unknown> {
  const ruleIds = [...new Set(input.ruleIds)].sort();
  return {
    name: 'faultline',
    displayName: 'Faultline',
    description:
      input.description ??
      'Reason about Linux kernel patches that touch user memory: GUP reference balance, fault-in loops, faults under locks.',
    version: input.version,
    publisher: 'faultline',
    license: input.license ?? 'MIT',
    engines: { vscode: '^1.91.0' },
    categories: ['Linters', 'Programming Languages'],
    keywords: ['linux', 'kernel', 'gup', 'pin_user_pages', 'lsp'],
    main: './dist/extension.js',
    // Patch files are activated through `diff`, which the languages contribution below extends;
    // no workspaceContains glob, which would walk a whole kernel tree at start-up.
    activationEvents: LANGUAGE_IDS.map((l) => `onLanguage:${l}`),
    capabilities: {
      // Faultline executes no workspace code: it parses and interprets the IR (ARCHITECTURE.md).
      untrustedWorkspaces: { supported: true },
      virtualWorkspaces: false,
    },
    contributes: {
      languages: [
        {
          id: 'diff',
          extensions: [...PATCH_FILE_EXTENSIONS],
        },
      ],
      commands: [
        { command: COMMANDS.showRuleDoc, title: 'Show Rule Documentation', category: 'Faultline' },
        { command: COMMANDS.restartServer, title: 'Restart Language Server', category: 'Faultline' },
        { command: COMMANDS.simulate, title: 'Simulate This Function', category: 'Faultline' },
        { command: COMMANDS.showTracePanel, title: 'Show Simulation Trace Panel', category: 'Faultline' },
      ],
      menus: {
        // The simulator reads C functions: offer it in the palette only for C editors.
        commandPalette: [{ command: COMMANDS.simulate, when: 'editorLangId == c || editorLangId == cpp' }],
      },
      configuration: {
        title: 'Faultline',
        properties: {
          'faultline.rules': {
            type: 'array',
            default: [],
            uniqueItems: true,
            // The ids that ship a docs page are offered; others are still accepted (a newer server).
            items: ruleIds.length
              ? { type: 'string', anyOf: [{ enum: ruleIds }, { pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' }] }
              : { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' },
            markdownDescription:
              'Rule ids to run, e.g. `["gup-leak", "gup-release-mismatch"]`. Empty: every rule.',
          },
          'faultline.kernel': {
            type: 'string',
            default: '',
            pattern: '^(v?\\d+\\.\\d+(\\.\\d+)?(-rc\\d+)?)?$',
            markdownDescription:
              'Kernel version the code targets (e.g. `6.8`). Empty: the API table\'s default. Some APIs changed behaviour across versions.',
          },
          'faultline.docsBaseUrl': {
            type: 'string',
            default: '',
            markdownDescription:
              'Base URL of the rule documentation (`<url>/<rule-id>.md`). Empty: the pages shipped with the extension.',
          },
          'faultline.simulation.maxStates': {
            type: 'number',
            default: DEFAULT_SIMULATION_MAX_STATES,
            minimum: 1,
            markdownDescription:
              'States the simulator may explore per run in **Simulate This Function** (per adversary layout and profile). Larger finds deeper live-locks and takes longer.',
          },
          'faultline.simulation.timeMs': {
            type: 'number',
            default: DEFAULT_SIMULATION_TIME_MS,
            minimum: 1,
            markdownDescription:
              'Time budget of one **Simulate This Function** run, in milliseconds, shared by the architecture profiles. A run can always be cancelled from its progress notification.',
          },
          'faultline.trace.server': {
            type: 'string',
            enum: ['off', 'messages', 'verbose'],
            default: 'off',
            description: 'Trace the communication between VS Code and the Faultline language server.',
          },
        },
      },
    },
  };
}
