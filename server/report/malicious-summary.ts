/**
 * The malicious-server story in summary.md (issue 18): what the server did to the model, whether
 * secure aggregation was on, what leaked (examples recovered at ≥ 30 dB per round), and which client
 * guard refused the model. Empty for an honest server without guards or refusals.
 */
import type { AttackRecord, GuardRefusal, RunResults } from './results';

interface ScenarioView {
  server?: { behaviour?: string; bins?: number; query?: string };
  client?: { guards?: string[] };
  defenses?: { secureAggregation?: unknown };
}

function behaviourText(server: ScenarioView['server']): string {
  switch (server?.behaviour) {
    case 'imprint':
      return `imprint — the server put a ${server.bins ?? '?'}-bin imprint block (Robbing the Fed, query ${server.query ?? '?'}) in front of the model it sent`;
    case 'trap-weights':
      return 'trap weights — the server crafted the first dense layer of the model it sent (Curious Abandon Honesty); architecture unchanged';
    default:
      return 'honest — the server sent the model the scenario names, unchanged';
  }
}

function leakLine(a: AttackRecord): string {
  const where = `${a.variant ? `${a.variant}, ` : ''}round ${a.round}, ${a.target} (${a.view})`;
  if (a.error) return `- ${where}: attack ${a.attack} failed: ${a.error}`;
  const r = a.recovered;
  return r
    ? `- ${where}: ${r.count} of ${r.of} examples recovered at PSNR ≥ ${r.psnrDb} dB (${((100 * r.count) / Math.max(1, r.of)).toFixed(0)} %)`
    : `- ${where}: ${a.attack}, PSNR ${a.psnr.toFixed(2)} dB`;
}

function refusalLines(refusals: readonly GuardRefusal[]): string[] {
  const byGuard = new Map<string, GuardRefusal[]>();
  for (const r of refusals) byGuard.set(r.guard, [...(byGuard.get(r.guard) ?? []), r]);
  return [...byGuard].map(
    ([guard, rs]) =>
      `- ${guard} refused ${rs.length} time${rs.length === 1 ? '' : 's'} (rounds ${[...new Set(rs.map((r) => r.round))].join(', ')}; clients ${[...new Set(rs.map((r) => r.client))].join(', ')}): ${rs[0].reason}`,
  );
}

export function maliciousSummary(results: RunResults): string[] {
  const s = results.scenario as unknown as ScenarioView;
  const guards = s.client?.guards ?? [];
  const refusals = results.rounds.flatMap((r) => r.refusals ?? []);
  const planted = results.attacks.filter((a) => a.recovered !== undefined || a.attack === 'imprint' || a.attack === 'trap-weights');
  if ((s.server?.behaviour ?? 'honest') === 'honest' && guards.length === 0 && refusals.length === 0) return [];
  const out = ['## Server and client guards', ''];
  out.push(`Server behaviour: ${behaviourText(s.server)}.`);
  out.push(
    `Secure aggregation: ${s.defenses?.secureAggregation ? 'on (the server attacked the unmasked aggregate)' : 'off (the server saw each update in the clear)'}.`,
  );
  out.push(`Client guards: ${guards.length ? guards.join(', ') : 'none'}.`, '');
  const recovered = planted.reduce((n, a) => n + (a.recovered?.count ?? 0), 0);
  if (planted.length > 0) out.push('What leaked:', ...planted.map(leakLine), '');
  if (refusals.length > 0) {
    out.push('Refusals (the client sat the round out; results.json rounds[].refusals):', ...refusalLines(refusals), '');
    if (recovered === 0)
      out.push(
        `Stopped by: ${[...new Set(refusals.map((r) => r.guard))].join(', ')} — no planted-model update reached the server, nothing was recovered.`,
        '',
      );
  } else if (s.server?.behaviour && s.server.behaviour !== 'honest') {
    out.push(
      recovered > 0
        ? `No guard stopped it: ${results.sweep ? 'see each variant above' : `${recovered} examples recovered in all`}.`
        : 'No guard refused; nothing was recovered at the threshold.',
      '',
    );
  }
  return out;
}
