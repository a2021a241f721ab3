/**
 * The "Released model" part of summary.md and report.html: the model the federation released, the
 * attacks on it through its outputs (release.attacks[], docs/release.md) and the monitor's false
 * positives. One row per attack, so a masking sweep reads as a table.
 */
import type { ReleaseAttackRecord, ReleaseResults } from '../release/schema';
import { figure, paragraph, section, table } from './html-parts';
import type { RunResults, SweepRow } from './results';

/** A sweep row's attacks on its released model in one cell: "white-box full 100 %; black-box round-2 10 %". */
export function sweepReleaseCell(row: SweepRow): string {
  if (!row.release || row.release.length === 0) return '–';
  return row.release.map((a) => `${a.access} ${a.masking} ${(100 * a.classAccuracy).toFixed(0)} %`).join('; ');
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

function row(a: ReleaseAttackRecord): string[] {
  const pc = a.perClass;
  return [
    a.attack + (a.variant ? ` [${a.variant}]` : ''),
    a.access,
    a.masking,
    `${(100 * a.classAccuracy).toFixed(0)} % of ${pc.length}`,
    mean(pc.map((c) => c.confidence)).toFixed(3),
    `${mean(pc.map((c) => c.ssimOwn)).toFixed(3)} / ${mean(pc.map((c) => c.ssimOther)).toFixed(3)}`,
    String(a.queries),
    a.flagged
      ? `${a.flaggedAfterQueries ?? '?'}${a.flagReason ? ` (${a.flagReason})` : ''}`
      : a.access === 'black-box'
        ? 'not flagged'
        : '–',
    a.seconds.toFixed(1),
  ];
}

function facts(r: ReleaseResults): string[] {
  const lines = [
    `Released model: ${r.model.name}, ${r.model.params} parameters, test accuracy ${(100 * r.model.testAccuracy).toFixed(1)} %.`,
    `Evaluator (a convnet trained on the held-out split only): ${(100 * r.evaluator.testAccuracy).toFixed(1)} % on the training split; an inversion counts when it classifies it as the target class.`,
  ];
  if (r.monitor)
    lines.push(
      `Query monitor on benign traffic: ${r.monitor.benignQueries} held-out examples from one key, ${r.monitor.benignFlagged ? 'FLAGGED (a false positive)' : 'not flagged'}.`,
    );
  return lines;
}

export function releaseMarkdown(results: RunResults, markdownTable: (h: string[], rows: string[][], right: boolean[]) => string): string[] {
  const r = results.release;
  if (!r) return [];
  return [
    '## Released model',
    '',
    ...facts(r),
    '',
    r.attacks.length ? markdownTable(HEADER, r.attacks.map(row), NUMERIC) : 'No attack on the released model.',
    '',
  ];
}

export function releaseHtml(results: RunResults, image: (rel: string) => string | null): string {
  const r = results.release;
  if (!r) return '';
  const pictures = r.attacks
    .filter((a) => a.image)
    .map((a) => {
      const uri = image(a.image as string);
      const caption = `MI-FACE ${a.access}, output ${a.masking}${a.variant ? ` [${a.variant}]` : ''}: inversions (top, class order) above their nearest own-class training example.`;
      return uri ? figure(uri, caption) : '';
    });
  const body =
    facts(r).map(paragraph).join('') +
    (r.attacks.length ? table(HEADER, r.attacks.map(row), NUMERIC) : paragraph('No attack on the released model.')) +
    pictures.join('');
  return section('released-model', 'Released model', body);
}
