// docs/scenarios.md is generated from the scenario data (a test keeps the file in sync):
// every scenario with its source, oracle and expected verdict per profile.

import { PROFILE_NAMES } from '../kernel/profiles';
import { MAINLINE } from '../kernel/versions';
import { SCENARIOS, SEED_ROWS } from './scenarios/index';
import { expectedVerdict } from './scenario';

export function scenariosMarkdown(): string {
  const lines: string[] = [];
  lines.push('# Simulator scenarios');
  lines.push('');
  lines.push('Generated from `engine/sim/scenarios/` by `engine/sim/scenarios-doc.ts`; `test/engine/sim/docs.test.ts`');
  lines.push('fails when this file and the data disagree. Run one with');
  lines.push('`faultline simulate --scenario NAME [--arch P|all] [--kernel V] [--json]`.');
  lines.push('');
  lines.push('## The mailing-list scenarios, before and after their fixes');
  lines.push('');
  lines.push('| scenario | before | after |');
  lines.push('|---|---|---|');
  for (const r of SEED_ROWS) lines.push(`| ${r.row} | \`${r.before}\` | ${r.after.map((a) => `\`${a}\``).join(', ')} |`);
  lines.push('');
  lines.push('## All scenarios');
  lines.push('');
  lines.push(`| scenario | side | oracle | kernel | ${PROFILE_NAMES.join(' | ')} | source | what |`);
  lines.push(`|---|---|---|---|${PROFILE_NAMES.map(() => '---').join('|')}|---|---|`);
  for (const sc of SCENARIOS) {
    const v = PROFILE_NAMES.map((a) => expectedVerdict(sc, a) ?? '-');
    lines.push(`| \`${sc.name}\` | ${sc.side} | ${sc.oracle} | ${sc.kernel ?? `mainline (${MAINLINE})`} | ${v.join(' | ')} | ${sc.source} | ${sc.title.replace(/\|/g, '\\|')} |`);
  }
  lines.push('');
  return lines.join('\n');
}
