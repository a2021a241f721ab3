/**
 * The report's verdict: per threat, in plain words with its threshold. Derived here from the
 * figures results.json already holds; a caller with an authoritative verdict (the threat-model
 * aware one) passes its own ReportVerdict to the renderer instead.
 *
 * Usage: const verdict = deriveVerdict(results);
 */
import { isScored, type AttackRecord, type RunResults } from './results';

/** A reconstruction counts as recognisable when its matched SSIM reaches this (docs/results.md). */
export const RECOGNISABLE_SSIM = 0.6;

export type ThreatId = 'curious-server' | 'malicious-server' | 'released-model';
/** leaks: every attacked example recognisable; partly: some; resisted: none; not-assessed: nothing scored. */
export type VerdictLevel = 'leaks' | 'partly' | 'resisted' | 'not-assessed';

export interface ThreatVerdict {
  threat: ThreatId;
  title: string;
  level: VerdictLevel;
  /** One sentence a data-protection officer can read. */
  headline: string;
  details: string[];
}

export interface ReportVerdict {
  threats: ThreatVerdict[];
  /** Where the verdict comes from and what it rests on. */
  basis: string;
}

const TITLES: Record<ThreatId, string> = {
  'curious-server': 'Curious server (honest but curious: follows the protocol, looks at what it receives)',
  'malicious-server': 'Malicious server (changes the model it sends)',
  'released-model': 'Released model (an outsider queries the trained model)',
};

/** Attacks that need a server which modifies the model (issue: the malicious server). */
const MALICIOUS_ATTACKS = new Set(['imprint', 'trap-weights']);

function threatOf(record: AttackRecord): ThreatId {
  const declared = (record as unknown as Record<string, unknown>).threat;
  if (declared === 'malicious-server' || declared === 'released-model') return declared;
  return MALICIOUS_ATTACKS.has(record.attack) ? 'malicious-server' : 'curious-server';
}

/** Examples of a record and how many of them are recognisable (per-image SSIM, else the mean). */
function recognisable(record: AttackRecord): { examples: number; recognised: number } {
  const examples = record.trueLabels?.length ?? record.batchSize;
  if (record.perImage && record.perImage.length > 0) {
    const matched = new Set(record.perImage.filter((p) => p.original >= 0 && p.ssim >= RECOGNISABLE_SSIM).map((p) => p.original));
    return { examples, recognised: Math.min(examples, matched.size) };
  }
  return { examples, recognised: record.ssim >= RECOGNISABLE_SSIM ? examples : 0 };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The verdict on one group of gradient-attack records (one threat, or one sweep variant of it). */
function gradientVerdict(threat: ThreatId, records: readonly AttackRecord[]): ThreatVerdict {
  const scored = records.filter(isScored);
  const unscored = records.filter((r) => r.unscored !== undefined).length;
  const failed = records.length - scored.length - unscored;
  const counts = scored.map(recognisable);
  const examples = counts.reduce((s, c) => s + c.examples, 0);
  const recognised = counts.reduce((s, c) => s + c.recognised, 0);
  const leakingTargets = counts.filter((c) => c.recognised > 0).length;
  const labels = scored.filter((r) => Number.isFinite(r.labelAccuracy));
  const labelShare = labels.length
    ? labels.reduce((s, r) => s + r.labelAccuracy * r.batchSize, 0) / labels.reduce((s, r) => s + r.batchSize, 0)
    : NaN;
  const details: string[] = [];
  if (Number.isFinite(labelShare)) details.push(`Labels recovered: ${(100 * labelShare).toFixed(0)} % of the attacked examples' labels.`);
  if (failed > 0) details.push(`${plural(failed, 'attack')} failed and ${failed === 1 ? 'proves' : 'prove'} nothing either way.`);
  if (unscored > 0)
    details.push(
      `${plural(unscored, 'reconstruction')} could not be scored: no ground truth reached the server (client-held data without --share-truth).`,
    );
  details.push(`Recognisable means matched SSIM ≥ ${RECOGNISABLE_SSIM} between a reconstruction and its original (1 = identical).`);
  if (scored.length === 0) {
    return {
      threat,
      title: TITLES[threat],
      level: 'not-assessed',
      headline:
        unscored > 0
          ? 'No reconstruction could be scored (no ground truth on the server): no verdict.'
          : records.length
            ? 'Every attack failed: no verdict.'
            : 'Not attacked in this run.',
      details,
    };
  }
  const level: VerdictLevel = recognised === 0 ? 'resisted' : recognised === examples ? 'leaks' : 'partly';
  const headline =
    `${leakingTargets} of ${plural(scored.length, 'attacked update')} gave away at least one recognisable example; ` +
    `${recognised} of ${plural(examples, 'attacked example')} reconstructed recognisably (SSIM ≥ ${RECOGNISABLE_SSIM}).`;
  if (new Set(scored.map((r) => r.view)).size > 1)
    details.push('An example attacked through several views (a masked update and the aggregate) counts once per view.');
  return { threat, title: TITLES[threat], level, headline, details };
}

interface ReleaseAttackFigures {
  attack?: unknown;
  access?: unknown;
  masking?: unknown;
  classAccuracy?: unknown;
  sensitive?: unknown;
  attributeAccuracy?: unknown;
  baselineAccuracy?: unknown;
}

const LEVEL_ORDER: VerdictLevel[] = ['resisted', 'partly', 'leaks'];

/** Attribute inference leaks when it beats guessing from the prior alone by 10 points, partly from 2. */
function attributeLevel(a: ReleaseAttackFigures): VerdictLevel {
  const gain = (a.attributeAccuracy as number) - (a.baselineAccuracy as number);
  return gain >= 0.1 ? 'leaks' : gain > 0.02 ? 'partly' : 'resisted';
}

function attributeDetail(a: ReleaseAttackFigures): string {
  const pct = (x: unknown) => `${(100 * (x as number)).toFixed(0)} %`;
  return `${String(a.attack)} of "${String(a.sensitive)}" (${String(a.access ?? 'access ?')}, output ${String(a.masking ?? 'full')}): right for ${pct(a.attributeAccuracy)} of the records, against ${pct(a.baselineAccuracy)} from the prior alone.`;
}

/** The released-model section, when results.json carries `release.attacks` (docs/results.md). */
function releaseVerdict(results: RunResults): ThreatVerdict | null {
  const release = (results as unknown as { release?: { attacks?: unknown } }).release;
  if (!release || !Array.isArray(release.attacks) || release.attacks.length === 0) return null;
  const all = release.attacks as ReleaseAttackFigures[];
  const rows = all.filter((a) => typeof a.classAccuracy === 'number');
  const attribute = all.filter((a) => typeof a.attributeAccuracy === 'number' && typeof a.baselineAccuracy === 'number');
  const best = Math.max(...rows.map((a) => a.classAccuracy as number));
  const details = [
    ...rows.map(
      (a) =>
        `${String(a.attack)} (${String(a.access ?? 'access ?')}, output ${String(a.masking ?? 'full')}): inversions classified as their target class ${(100 * (a.classAccuracy as number)).toFixed(0)} % of the time.`,
    ),
    ...attribute.map(attributeDetail),
  ];
  if (rows.length === 0 && attribute.length === 0)
    return {
      threat: 'released-model',
      title: TITLES['released-model'],
      level: 'not-assessed',
      headline: 'No scored attack on the released model.',
      details,
    };
  const levels: VerdictLevel[] = [
    ...(rows.length ? [best >= 0.8 ? 'leaks' : best > 0.2 ? 'partly' : 'resisted'] : []),
    ...attribute.map(attributeLevel),
  ] as VerdictLevel[];
  const level = levels.reduce((a, b) => (LEVEL_ORDER.indexOf(b) > LEVEL_ORDER.indexOf(a) ? b : a));
  const gain = Math.max(...attribute.map((a) => (a.attributeAccuracy as number) - (a.baselineAccuracy as number)));
  const headlines = [
    ...(rows.length ? [`The best attack on the released model inverted ${(100 * best).toFixed(0)} % of the classes recognisably.`] : []),
    ...(attribute.length ? [`Attribute inference beat the prior-only guess by ${(100 * gain).toFixed(0)} points at best.`] : []),
  ];
  return { threat: 'released-model', title: TITLES['released-model'], level, headline: headlines.join(' '), details };
}

/** A sweep: one line per variant under the threat's verdict, so a defence's effect is visible. */
function perVariantDetails(records: readonly AttackRecord[], variants: readonly string[]): string[] {
  return variants.map(
    (v) =>
      `Variant "${v}": ${
        gradientVerdict(
          'curious-server',
          records.filter((r) => r.variant === v),
        ).headline
      }`,
  );
}

/** The gradient-attack threats of a list of records (the live dashboard's verdict as attacks finish). */
export function attackVerdicts(records: readonly AttackRecord[]): ThreatVerdict[] {
  return (['curious-server', 'malicious-server'] as const)
    .map((threat) => ({ threat, records: records.filter((a) => threatOf(a) === threat) }))
    .filter((t) => t.threat === 'curious-server' || t.records.length > 0)
    .map((t) => gradientVerdict(t.threat, t.records));
}

export function deriveVerdict(results: RunResults): ReportVerdict {
  const threats: ThreatVerdict[] = [];
  const variants = results.sweep?.map((r) => r.variant) ?? [];
  for (const threat of ['curious-server', 'malicious-server'] as const) {
    const records = results.attacks.filter((a) => threatOf(a) === threat);
    if (threat === 'malicious-server' && records.length === 0) continue;
    const verdict = gradientVerdict(threat, records);
    if (variants.length > 0 && records.length > 0) verdict.details.unshift(...perVariantDetails(records, variants));
    threats.push(verdict);
  }
  const release = releaseVerdict(results);
  if (release) threats.push(release);
  // results.json's own verdict (threat model and defences named) leads when it is there.
  const lead = results.verdict ? `${results.verdict.sentence} ` : '';
  return {
    threats,
    basis: `${lead}Derived by the report from the per-image scores in results.json (recognisable: SSIM ≥ ${RECOGNISABLE_SSIM}).`,
  };
}
