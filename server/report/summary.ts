/**
 * The run summary as markdown (<out>/summary.md; readable as-is in a terminal): training per round,
 * then one row per attack result, then the sweep table when there is one.
 *
 * Usage: fs.writeFileSync(path.join(outDir, 'summary.md'), summaryMarkdown(results));
 */
import * as path from 'node:path';
import { maliciousSummary } from './malicious-summary';
import { isScored, type AttackRecord, type RunResults } from './results';
import { dataLabel, resultsVerdict, scenarioFromFile, whatRan } from './run-verdict';
import { validateScenario } from '../scenario/load';
import { releaseMarkdown, sweepReleaseCell } from './release-section';

function fixed(value: number | null | undefined, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function percent(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : '–';
}

/** PSNR is infinite for an exact reconstruction. */
function psnr(value: number | null | undefined): string {
  if (value === Infinity) return '∞';
  return fixed(value, 2);
}

/** A markdown table with columns padded so it also reads well as plain text. */
export function markdownTable(header: string[], rows: string[][], rightAlign: boolean[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length), 3));
  const pad = (cell: string, c: number) => (rightAlign[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (rightAlign[c] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** For a batch, the worst and best pair: a mean of 39 dB can be three exact images and one grey square. */
function psnrRange(a: AttackRecord): string {
  const values = (a.perImage ?? []).map((p) => p.psnr).filter((v) => Number.isFinite(v));
  if (values.length < 2) return '';
  return ` (${psnr(Math.min(...values))}–${psnr(Math.max(...values))})`;
}

function attackRow(a: AttackRecord): string[] {
  const labels = a.recoveredLabels && a.trueLabels ? ` (recovered ${a.recoveredLabels.join(',')}; true ${a.trueLabels.join(',')})` : '';
  const measured = isScored(a);
  const png = a.image ? `[png](${a.image})` : '';
  return [
    String(a.round),
    a.target,
    a.view,
    a.attack + (a.variant ? ` [${a.variant}]` : ''),
    String(a.batchSize),
    a.error ? 'error' : a.unscored ? 'unscored' : a.mse.toExponential(2),
    measured ? psnr(a.psnr) + psnrRange(a) : '–',
    measured ? fixed(a.ssim, 3) : '–',
    measured ? percent(a.labelAccuracy) + labels : a.unscored && a.recoveredLabels ? `recovered ${a.recoveredLabels.join(',')}` : '–',
    String(a.iterations),
    String(a.evaluations),
    fixed(a.seconds, 1),
    a.error ?? (a.unscored ? `${png} ${a.unscored}`.trim() : png),
  ];
}

function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const ATTACK_HEADER = [
  'round',
  'target',
  'view',
  'attack',
  'batch',
  'MSE',
  'PSNR dB',
  'SSIM',
  'labels',
  'iterations',
  'evaluations',
  'seconds',
  'image',
];
const ATTACK_RIGHT = [true, false, false, false, true, true, true, true, false, true, true, true, false];

/** One row per attack result (markdown; also what `fedleak run` prints at the end). */
export function attackTable(attacks: readonly AttackRecord[]): string {
  return markdownTable(ATTACK_HEADER, attacks.map(attackRow), ATTACK_RIGHT);
}

/** The title, the verdict, what ran and when. */
function headerLines(results: RunResults): string[] {
  const s = results.scenario;
  const out: string[] = [`# ${s.name}`, ''];
  // Generated from what ran, not the file's description: an override or a defence must show here.
  out.push(`**Verdict:** ${(results.verdict ?? resultsVerdict(results)).sentence}`, '');
  const base = scenarioFromFile(results.scenarioFile, (raw, source) =>
    validateScenario(raw, source, { baseDir: path.dirname(results.scenarioFile) }),
  );
  out.push(`What ran: ${whatRan(s, base)}`, '');
  out.push(
    `fedleak ${results.fedleakVersion}, ${results.backend.name} backend; ${s.federation.algorithm}, ${s.model.name} on ${dataLabel(s)}, ` +
      `${s.federation.clients} clients (${s.federation.clientsPerRound} per round), seed ${s.seed}.`,
    `Started ${results.startedAt}, finished ${results.finishedAt}.`,
    '',
  );
  return out;
}

/** Why the rounds have no test accuracy, when none was measured; null when it was. */
export function unmeasuredAccuracyNote(results: Pick<RunResults, 'rounds' | 'scenario'>): string | null {
  if (results.rounds.length === 0 || results.rounds.some((r) => Number.isFinite(r.testAccuracy))) return null;
  const why =
    results.scenario.data.dataset === 'none'
      ? ' The server holds no data (data.dataset "none"): every example stays on the clients (data.location "clients"), so there is no held-out set to evaluate the global model on.'
      : '';
  return `Test accuracy and loss were not measured.${why}`;
}

/** Training: one row per round. */
function trainingLines(results: RunResults): string[] {
  const out: string[] = ['## Training', ''];
  if (results.rounds.length === 0 && results.sweep)
    out.push("A sweep: each variant's rounds are in `<variant>/summary.md` and `<variant>/results.json`.");
  else if (results.rounds.length === 0) out.push('No rounds completed.');
  else {
    const note = unmeasuredAccuracyNote(results);
    if (note) out.push(note, '');
    out.push(
      markdownTable(
        ['round', 'test accuracy', 'test loss', 'participants', 'dropped', 'seconds'],
        results.rounds.map((r) => [
          String(r.round),
          percent(r.testAccuracy),
          fixed(r.testLoss, 4),
          String(r.participants.length),
          r.dropped.length ? r.dropped.join(', ') : '–',
          fixed(r.seconds, 2),
        ]),
        [true, true, true, true, false, true],
      ),
    );
  }
  out.push('');
  return out;
}

/** Attacks: one row per result, then the medians of the scored ones. */
function attackLines(results: RunResults): string[] {
  const out: string[] = ['## Attacks', ''];
  if (results.attacks.length === 0) out.push(`No attack results (attack.name is "${results.scenario.attack.name}").`);
  else {
    out.push(attackTable(results.attacks));
    const ok = results.attacks.filter(isScored);
    const unscored = results.attacks.filter((a) => a.unscored !== undefined).length;
    if (unscored > 0)
      out.push(
        '',
        `${unscored} of ${results.attacks.length} reconstructions could not be scored: no ground truth reached the server ` +
          '(client-held data; a client shares it only when started with --share-truth). Their pictures show the reconstructions alone.',
      );
    out.push(
      '',
      `${ok.length} of ${results.attacks.length} attacks scored; median PSNR ${psnr(median(ok.map((a) => a.psnr)))} dB, ` +
        `median SSIM ${fixed(median(ok.map((a) => a.ssim)), 3)}, median label accuracy ${percent(median(ok.map((a) => a.labelAccuracy)))}.`,
    );
  }
  out.push('');
  return out;
}

/** The sweep table, one row per variant; nothing when the run is not a sweep. */
function sweepLines(results: RunResults): string[] {
  if (!results.sweep || results.sweep.length === 0) return [];
  return [
    '## Sweep',
    '',
    markdownTable(
      [
        'variant',
        'final test accuracy',
        'accuracy cost',
        'PSNR dB',
        'SSIM',
        'labels',
        'attacks',
        'ε',
        'released model (MI-FACE class accuracy)',
      ],
      results.sweep.map((row) => [
        row.variant,
        percent(row.finalTestAccuracy),
        row.accuracyCost === undefined ? '–' : `${(100 * row.accuracyCost).toFixed(1)} pp`,
        row.attack ? psnr(row.attack.psnr) : '–',
        row.attack ? fixed(row.attack.ssim, 3) : '–',
        row.attack ? percent(row.attack.labelAccuracy) : '–',
        row.attack ? String(row.attack.count) : '0',
        row.privacy ? fixed(row.privacy.epsilon, 3) : '–',
        sweepReleaseCell(row),
      ]),
      [false, true, true, true, true, true, true, true, false],
    ),
    '',
  ];
}

/** The privacy accounting line; nothing without differential privacy. */
function privacyLines(results: RunResults): string[] {
  if (!results.privacy) return [];
  const p = results.privacy;
  return [
    `Privacy: (ε = ${fixed(p.epsilon, 3)}, δ = ${p.delta}) after ${p.steps} steps, noise multiplier ${p.noiseMultiplier}, sample rate ${p.sampleRate}.`,
    '',
  ];
}

export function summaryMarkdown(results: RunResults): string {
  const out: string[] = [
    ...headerLines(results),
    ...trainingLines(results),
    ...attackLines(results),
    ...maliciousSummary(results),
    ...sweepLines(results),
    ...releaseMarkdown(results, markdownTable),
    ...privacyLines(results),
  ];
  return `${out.join('\n')}\n`;
}
