/**
 * The one-sentence verdict that opens results.json, summary.md and report.html, and the "what ran"
 * sentence generated from the resolved scenario (never its hand-written description): attack,
 * threat model, active defences, and the fields that differ from the scenario file.
 */
import * as fs from 'node:fs';
import { resolveThreatModel } from '../observer/threat-model';
import { DEFAULT_RECOGNISABLE_SSIM, runVerdict, type TargetVerdict } from '../observer/verdict';
import type { Scenario } from '../scenario/schema';
import type { AttackRecord, RunResults } from './results';
import type { AttributeAttackRecord } from '../release/schema';

export interface ResultsVerdict {
  sentence: string;
  /** A reconstruction counts as recognisable when its matched SSIM reaches this (docs/attacks.md). */
  threshold: number;
  threatModel: string;
  defences: string[];
  leakedTargets: number;
  leakedExamples: number;
  totalExamples: number;
  targets: Array<TargetVerdict & { round: number; view: string; variant?: string }>;
}

/** Active defences in pipeline order, as a reader names them. */
export function activeDefences(s: Scenario): string[] {
  const d = s.defenses as Record<string, unknown> & Scenario['defenses'];
  const out: string[] = [];
  for (const mod of d.order) {
    const cfg = d[mod];
    if (cfg === undefined) continue;
    out.push(`${mod} ${JSON.stringify(cfg).replace(/"/g, '')}`);
  }
  if (s.defenses.dp) out.push(`DP-FedAvg (clip ${s.defenses.dp.clippingNorm}, noise multiplier ${s.defenses.dp.noiseMultiplier})`);
  if (s.defenses.secureAggregation) out.push(`secure aggregation (views: ${s.defenses.secureAggregation.views.join(', ')})`);
  const rule = (s.federation as { aggregation?: unknown }).aggregation;
  const ruleName =
    typeof rule === 'string'
      ? rule
      : typeof rule === 'object' && rule !== null
        ? String((rule as { rule?: unknown; name?: unknown }).rule ?? (rule as { name?: unknown }).name ?? '')
        : '';
  if (ruleName && ruleName !== 'mean') out.push(`${ruleName} aggregation`);
  return out;
}

export function threatModelLabel(s: Scenario): string {
  const t = resolveThreatModel(s.threatModel);
  return t.name === 'custom' ? `custom (${t.capabilities.join(', ')})` : `${t.name} (${t.summary})`;
}

function targetKey(a: AttackRecord): string {
  return `${a.variant ?? ''}/${a.round}/${a.view}/${a.target}`;
}

/** One sentence on the released model: the best class accuracy any inversion reached, and through which access. */
function releaseSentence(release: RunResults['release']): string {
  const attacks = release?.attacks ?? [];
  const inversions = attacks.filter((a) => a.attack === 'mi-face');
  let sentence = '';
  if (inversions.length > 0) {
    const best = inversions.reduce((a, b) => (b.classAccuracy > a.classAccuracy ? b : a));
    const pct = Math.round(100 * best.classAccuracy);
    sentence += ` Through the released model, model inversion reconstructed ${pct} % of the attacked classes recognisably at best (${best.access}, outputs ${best.masking}; ${inversions.length} attack${inversions.length === 1 ? '' : 's'}).`;
  }
  // One clause per sensitive column: its best attack.
  const best = new Map<string, AttributeAttackRecord>();
  for (const a of attacks) {
    if (a.attack !== 'attribute-inference') continue;
    const seen = best.get(a.sensitive);
    if (!seen || a.attributeAccuracy > seen.attributeAccuracy) best.set(a.sensitive, a);
  }
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  const clauses = [...best.values()].map(
    (a) =>
      `"${a.sensitive}" right for ${pct(a.attributeAccuracy)} of ${a.records} records at best (${a.access}, outputs ${a.masking}, evidence ${a.evidence}) against ${pct(a.baselineAccuracy)} from its prior alone`,
  );
  if (clauses.length) sentence += ` Attribute inference guessed ${clauses.join('; ')}.`;
  return sentence;
}

export function resultsVerdict(
  results: Pick<RunResults, 'scenario' | 'attacks' | 'release'>,
  threshold = DEFAULT_RECOGNISABLE_SSIM,
): ResultsVerdict {
  const s = results.scenario;
  // One outcome per attacked update; a failed attack leaked nothing that was shown. An unscored
  // reconstruction (no ground truth) is neither leaked nor safe: it is left out and said.
  const records = results.attacks.filter((a) => a.unscored === undefined);
  const unscored = results.attacks.length - records.length;
  const outcomes = records.map((a) => ({
    target: targetKey(a),
    examples: a.batchSize,
    matchedSsim: a.error ? [] : (a.perImage ?? []).filter((p) => p.original >= 0).map((p) => p.ssim ?? NaN),
  }));
  const threatModel = threatModelLabel(s);
  const defences = activeDefences(s);
  const v = runVerdict({ outcomes, threatModel, defences, threshold });
  const failed = records.filter((a) => a.error).length;
  const updates =
    records.length === 0 && unscored > 0
      ? `No reconstruction could be scored under threat model ${threatModel}.`
      : records.length === 0 && results.release
        ? 'No update was attacked.'
        : v.sentence;
  const sentence =
    (failed > 0 ? `${updates} ${failed} of ${records.length} attacks failed and are counted as not leaking.` : updates) +
    (unscored > 0
      ? ` ${unscored} of ${results.attacks.length} reconstructions are unscored: no ground truth reached the server (client-held data), so whether they leaked is not measured.`
      : '') +
    releaseSentence(results.release);
  return {
    sentence,
    threshold,
    threatModel,
    defences,
    leakedTargets: v.leakedTargets,
    leakedExamples: v.leakedExamples,
    totalExamples: v.totalExamples,
    targets: v.targets.map((t, i) => ({
      ...t,
      target: records[i].target,
      round: records[i].round,
      view: records[i].view,
      ...(records[i].variant ? { variant: records[i].variant } : {}),
    })),
  };
}

/** Dotted paths where `resolved` differs from `base` (leaves only). */
export function differingFields(base: unknown, resolved: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(base) && isObj(resolved)) {
    const keys = [...new Set([...Object.keys(base), ...Object.keys(resolved)])];
    return keys.flatMap((k) => differingFields(base[k], resolved[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(base) === JSON.stringify(resolved) ? [] : [prefix];
}

/** The data as a reader names it: the dataset, or where client-held data lives. */
export function dataLabel(s: Pick<Scenario, 'data'>): string {
  if (s.data.dataset === 'none') return 'client-held data (none on the server)';
  return s.data.location === 'clients' ? `client-held data (server evaluates on ${s.data.dataset})` : s.data.dataset;
}

/** What ran, from the resolved scenario; `base` is the scenario file as resolved without overrides. */
export function whatRan(s: Scenario, base: Scenario | null): string {
  const attack = s.attack.name === 'none' ? 'no attack' : `attack ${s.attack.name} on rounds ${s.attack.rounds.join(', ')}`;
  const defences = activeDefences(s);
  const changed = base ? differingFields(base, s).filter((p) => p !== 'sweep' && !p.startsWith('sweep.')) : [];
  const overrides = changed.length
    ? ` Overrides of the scenario file: ${changed.map((p) => `${p} = ${JSON.stringify(valueAt(s, p))}`).join('; ')}.`
    : '';
  return (
    `${s.federation.algorithm} over ${s.federation.clients} clients (${s.federation.clientsPerRound} per round, batch ${s.federation.batchSize}), ` +
    `${s.federation.rounds} round${s.federation.rounds === 1 ? '' : 's'}, model ${s.model.name} on ${dataLabel(s)}; ${attack} under threat model ${threatModelLabel(s)}; ` +
    `${defences.length ? `defences: ${defences.join('; ')}` : 'no defences'}.${overrides}`
  );
}

function valueAt(obj: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((node, k) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[k] : undefined), obj);
}

/** The scenario file resolved without overrides, or null when it is gone or no longer valid. */
export function scenarioFromFile(file: string, validate: (raw: unknown, source: string) => Scenario): Scenario | null {
  try {
    return validate(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  } catch {
    return null;
  }
}
