/**
 * The "Released model" part of summary.md and report.html: the model the federation released, the
 * attacks on it through its outputs (release.attacks[], docs/release.md) and the monitor's false
 * positives. One row per attack, so a masking sweep reads as a table.
 */
import type { AttributeAttackRecord, MiFaceAttackRecord, ReleaseResults } from '../release/schema';
import { figure, paragraph, section, table } from './html-parts';
import type { RunResults, SweepRow } from './results';

/** A sweep row's attacks on its released model in one cell: "white-box full 100 %; black-box round-2 10 %". */
export function sweepReleaseCell(row: SweepRow): string {
  if (!row.release || row.release.length === 0) return '–';
  const pct = (x: number | undefined) => `${(100 * (x ?? NaN)).toFixed(0)} %`;
  return row.release
    .map((a) =>
      a.attack === 'attribute-inference'
        ? `attribute ${a.access} ${a.masking} ${pct(a.attributeAccuracy)} (prior ${pct(a.baselineAccuracy)})`
        : `${a.access} ${a.masking} ${pct(a.classAccuracy)}`,
    )
    .join('; ');
}

const HEADER = [
  'attack',
  'access',
  'masking',
  'class accuracy',
  'mean p(label)',
  'SSIM own / other',
  'queries',
  'flagged after',
  'seconds',
];
const NUMERIC = [false, false, false, true, true, true, true, true, true];

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function row(a: MiFaceAttackRecord): string[] {
  const pc = a.perClass;
  return [
    a.attack + (a.variant ? ` [${a.variant}]` : ''),
    a.access,
    a.masking,
    `${(100 * a.classAccuracy).toFixed(0)} % of ${pc.length}`,
    mean(pc.map((c) => c.confidence)).toFixed(3),
    `${mean(pc.map((c) => c.ssimOwn)).toFixed(3)} / ${mean(pc.map((c) => c.ssimOther)).toFixed(3)}`,
    String(a.queries),
    flaggedCell(a),
    a.seconds.toFixed(1),
  ];
}

const ATTRIBUTE_HEADER = [
  'attack',
  'access',
  'masking',
  'sensitive (evidence)',
  'accuracy',
  'prior baseline',
  'members',
  'non-members',
  'queries',
  'flagged after',
  'seconds',
];
const ATTRIBUTE_NUMERIC = [false, false, false, false, true, true, true, true, true, true, true];

function flaggedCell(a: ReleaseResults['attacks'][number]): string {
  if (a.flagged) return `${a.flaggedAfterQueries ?? '?'}${a.flagReason ? ` (${a.flagReason})` : ''}`;
  return a.access === 'black-box' ? 'not flagged' : '–';
}

function attributeRow(a: AttributeAttackRecord): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const split = (s: AttributeAttackRecord['members']) => `${pct(s.attributeAccuracy)} (prior ${pct(s.baselineAccuracy)}) of ${s.records}`;
  return [
    a.attack + (a.variant ? ` [${a.variant}]` : ''),
    a.access,
    a.masking,
    `${a.sensitive} (${a.evidence})`,
    `${pct(a.attributeAccuracy)} of ${a.records}`,
    pct(a.baselineAccuracy),
    split(a.members),
    split(a.nonMembers),
    String(a.queries),
    flaggedCell(a),
    a.seconds.toFixed(1),
  ];
}

function miFaceAttacks(r: ReleaseResults): MiFaceAttackRecord[] {
  return r.attacks.filter((a): a is MiFaceAttackRecord => a.attack === 'mi-face');
}

function attributeAttacks(r: ReleaseResults): AttributeAttackRecord[] {
  return r.attacks.filter((a): a is AttributeAttackRecord => a.attack === 'attribute-inference');
}

function facts(r: ReleaseResults): string[] {
  const lines = [
    `Released model: ${r.model.name}, ${r.model.params} parameters, test accuracy ${(100 * r.model.testAccuracy).toFixed(1)} %.`,
  ];
  if (miFaceAttacks(r).length)
    lines.push(
      `Evaluator (a convnet trained on the held-out split only): ${(100 * r.evaluator.testAccuracy).toFixed(1)} % on the training split; an inversion counts when it classifies it as the target class.`,
    );
  if (attributeAttacks(r).length)
    lines.push(
      "Attribute inference: the MAP guess of the sensitive column from the rest of each record, the evidence named and the column's training prior, against always guessing its most frequent value (members: training records; non-members: held-out records).",
    );
  if (r.monitor)
    lines.push(
      `Query monitor on benign traffic: ${r.monitor.benignQueries} held-out examples from one key, ${r.monitor.benignFlagged ? 'FLAGGED (a false positive)' : 'not flagged'}.`,
    );
  return lines;
}

const NO_ATTACK = 'No attack on the released model.';

/** One table per kind of attack (their columns differ); none when nothing attacked the model. */
function tables(r: ReleaseResults, render: (h: string[], rows: string[][], right: boolean[]) => string): string[] {
  const parts: string[] = [];
  const miFace = miFaceAttacks(r);
  const attribute = attributeAttacks(r);
  if (miFace.length) parts.push(render(HEADER, miFace.map(row), NUMERIC));
  if (attribute.length) parts.push(render(ATTRIBUTE_HEADER, attribute.map(attributeRow), ATTRIBUTE_NUMERIC));
  return parts;
}

export function releaseMarkdown(results: RunResults, markdownTable: (h: string[], rows: string[][], right: boolean[]) => string): string[] {
  const r = results.release;
  if (!r) return [];
  return [
    '## Released model',
    '',
    ...facts(r),
    '',
    ...tables(r, markdownTable).flatMap((t) => [t, '']),
    ...(r.attacks.length ? [] : [NO_ATTACK, '']),
  ];
}

export function releaseHtml(results: RunResults, image: (rel: string) => string | null): string {
  const r = results.release;
  if (!r) return '';
  const pictures = miFaceAttacks(r)
    .filter((a) => a.image)
    .map((a) => {
      const uri = image(a.image as string);
      const caption = `MI-FACE ${a.access}, output ${a.masking}${a.variant ? ` [${a.variant}]` : ''}: inversions (top, class order) above their nearest own-class training example.`;
      return uri ? figure(uri, caption) : '';
    });
  const body = facts(r).map(paragraph).join('') + (r.attacks.length ? tables(r, table).join('') : paragraph(NO_ATTACK)) + pictures.join('');
  return section('released-model', 'Released model', body);
}
