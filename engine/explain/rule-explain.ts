// `faultline explain RULE-ID` (issue 9): what a rule reports, from its meta alone — the one-line
// summary, the default severity, the one paragraph of what, why and fix it carries, and where its
// page is. Markdown, like the API explanations; the CLI renders it as text.

import { ruleById } from '../rules/registry';

/**
 * The explanation of rule `id`, or undefined when no rule has that id. `docsAt`: where the page
 * is for this reader (the CLI passes the installed file's path); the meta's repository path
 * otherwise.
 */
export function explainRule(id: string, docsAt?: string): string | undefined {
  const meta = ruleById(id)?.meta;
  if (!meta) return undefined;
  return [
    `**${meta.id}** (${meta.severity} by default): ${meta.title}`,
    meta.description,
    `Documentation: ${docsAt ?? meta.docs}`,
  ].join('\n\n');
}
