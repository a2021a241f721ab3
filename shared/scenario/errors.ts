/** Scenario validation errors, worded so a person can act on them (field path first). */
import type { z } from 'zod';

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** One zod issue as "path: what is wrong"; `prefix` is prepended to the path (e.g. "attack.settings"). */
export function describeIssue(issue: z.core.$ZodIssue, prefix: readonly (string | number)[] = []): string {
  const full = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  const where = full.length ? full.map(String).join('.') : '(top level)';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `${where}: expected ${issue.expected}${issue.message.includes('received') ? `, ${issue.message.replace(/^.*received/, 'received')}` : ''}`;
    case 'invalid_union': {
      // A discriminated union (e.g. attack.name) lists the values it knows.
      const options = (issue as { options?: unknown[] }).options;
      return options ? `${where}: expected one of ${options.map((v) => JSON.stringify(v)).join(', ')}` : `${where}: ${issue.message}`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Throws a ScenarioError listing every problem, one per line. */
export function failWith(source: string, problems: readonly string[]): never {
  throw new ScenarioError(`invalid scenario ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
