// What a simulation verdict covered (issue 8, "a verdict says what it covered"), in one set of
// words shared by `faultline simulate` (per-profile lines) and the editor's hover on a simulated
// finding: `ok` only when the copy was reached and every buffer length, layout and adversary
// choice was explored; `inconclusive` with its reason (loop never entered, bound hit, a construct
// the interpreter does not model, a caller's precondition); a failure with the input that made it.

import type { ProfileCoverage } from '../findings';

export interface CoverageInput {
  verdict: string;
  note: string;
  bound?: string;
  /** The buffer length and layout (and choices) of the run that decided the verdict. */
  choice?: string;
  /** What the function relied on its caller for (locks, page references). */
  preconditions?: string[];
}

/** Why a verdict is inconclusive, from its bound and note (the explorer's and run.ts's words). */
function reason(r: CoverageInput): string {
  const b = r.bound ?? '';
  if (b === 'copy not reached') return `copy not reached: ${r.note}`;
  if (b === 'precondition') return `depends on a precondition the caller provides: ${r.note}`;
  if (b === 'cancelled') return 'cancelled before every run finished (the document changed)';
  if (b.startsWith('unsupported')) return `a construct the interpreter does not model (${b.replace(/^unsupported:\s*/, '')})`;
  if (/states?\b/.test(b)) return `bound hit (${b}): ${r.note}`;
  return r.note;
}

/** One profile's coverage in words (`lengths`: the buffer lengths tried, from the code's guards). */
export function coverageWords(r: CoverageInput, lengths?: number[]): string {
  if (r.verdict === 'ok') {
    const lens = lengths?.length ? `${lengths.join('/')}-byte buffers, ` : '';
    const pre = r.preconditions?.length ? `; assuming ${r.preconditions.join('; ')}` : '';
    return `covered: ${lens}every layout and adversary choice, copy reached${pre}`;
  }
  if (r.verdict === 'inconclusive') return reason(r);
  return r.choice ? `with ${r.choice}` : r.note;
}

export function profileCoverage(arch: string, r: CoverageInput, lengths?: number[]): ProfileCoverage {
  return { arch, verdict: r.verdict, covered: coverageWords(r, lengths) };
}

/** The hover's section for a simulated finding: one line per profile. */
export function coverageMarkdown(profiles: ProfileCoverage[]): string {
  const lines = profiles.map((p) => `- **${p.arch}**: \`${p.verdict}\` — ${p.covered.replace(/([*_`[\]])/g, '\\$1')}`);
  return `**Simulation** (what each verdict covered)\n\n${lines.join('\n')}`;
}
