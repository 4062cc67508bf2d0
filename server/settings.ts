// The server's settings: `faultline.rules` (enabled rule ids), `faultline.kernel` (kernel version
// the model assumes), `faultline.docsBaseUrl` (where rule docs links point),
// `faultline.simulation.maxStates` / `.timeMs` (budget of "Simulate this function"). They arrive through
// initializationOptions (any client) and, when the client supports it, workspace/configuration.

export interface FaultlineSettings {
  /** Enabled rule ids; undefined = every rule. */
  rules?: string[];
  kernel?: string;
  /** Base URL of the rule pages (`https://…/docs/rules/`); default: the install's docs/rules. */
  docsBaseUrl?: string;
  /** Directory holding the rule pages (`<dir>/<id>.md`), e.g. the copy inside the VS Code extension. */
  docsDir?: string;
  /** Delay between the last edit and the analysis, ms. */
  debounceMs?: number;
  /** `faultline.simulation.maxStates`: state budget per simulator run ("Simulate this function"). */
  simulationMaxStates?: number;
  /** `faultline.simulation.timeMs`: whole-simulation time budget, ms. */
  simulationTimeMs?: number;
}

/** A positive integer setting, clamped to [1, max]; anything else is ignored. */
function asCount(v: unknown, max: number): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 1) return undefined;
  return Math.min(Math.floor(n), max);
}

function asStringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') {
    const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
    return parts.length ? parts : undefined;
  }
  if (!Array.isArray(v)) return undefined;
  const parts = v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((s) => s.trim());
  // An empty list means "nothing chosen", not "no rules": a user who wants silence disables the server.
  return parts.length ? parts : undefined;
}

/**
 * Read settings from whatever shape a client sends: `{faultline: {...}}`, `{...}`, or dotted keys
 * (`{"faultline.rules": [...]}`, how some clients flatten VS Code settings).
 */
export function parseSettings(raw: unknown): FaultlineSettings {
  if (!raw || typeof raw !== 'object') return {};
  let o = raw as Record<string, unknown>;
  if (o.faultline && typeof o.faultline === 'object') o = o.faultline as Record<string, unknown>;
  const get = (k: string): unknown => (o[k] !== undefined ? o[k] : o[`faultline.${k}`]);
  const out: FaultlineSettings = {};
  const rules = asStringList(get('rules'));
  if (rules) out.rules = rules;
  const kernel = get('kernel');
  if (typeof kernel === 'string' && kernel.trim()) out.kernel = kernel.trim();
  const docs = get('docsBaseUrl');
  if (typeof docs === 'string' && docs.trim()) out.docsBaseUrl = docs.trim();
  const dir = get('docsDir');
  if (typeof dir === 'string' && dir.trim()) out.docsDir = dir.trim();
  const debounce = get('debounceMs');
  if (typeof debounce === 'number' && Number.isFinite(debounce) && debounce >= 0) out.debounceMs = Math.min(debounce, 5000);
  // VS Code sends `simulation: {maxStates}` under the faultline section; flattened clients send
  // `simulation.maxStates` or `faultline.simulation.maxStates`.
  const sim = o.simulation && typeof o.simulation === 'object' ? (o.simulation as Record<string, unknown>) : {};
  const maxStates = asCount(sim.maxStates ?? get('simulation.maxStates'), 50_000_000);
  if (maxStates !== undefined) out.simulationMaxStates = maxStates;
  const timeMs = asCount(sim.timeMs ?? get('simulation.timeMs'), 600_000);
  if (timeMs !== undefined) out.simulationTimeMs = timeMs;
  return out;
}

/** Later sources win, field by field. */
export function mergeSettings(...all: FaultlineSettings[]): FaultlineSettings {
  const out: FaultlineSettings = {};
  for (const s of all) {
    if (s.rules !== undefined) out.rules = s.rules;
    if (s.kernel !== undefined) out.kernel = s.kernel;
    if (s.docsBaseUrl !== undefined) out.docsBaseUrl = s.docsBaseUrl;
    if (s.docsDir !== undefined) out.docsDir = s.docsDir;
    if (s.debounceMs !== undefined) out.debounceMs = s.debounceMs;
    if (s.simulationMaxStates !== undefined) out.simulationMaxStates = s.simulationMaxStates;
    if (s.simulationTimeMs !== undefined) out.simulationTimeMs = s.simulationTimeMs;
  }
  return out;
}
