/**
 * report.html of a run or a sweep: one self-contained page (inline CSS, pictures and charts as data
 * URIs, no script, no external URL) that opens offline. Verdict first, then the labelled
 * reconstructions, training, attack objective, privacy, defences and, for sweeps, the frontier and
 * the defence table. Pure: takes the results, a verdict and the assets; works on partial results.
 *
 * Usage: const html = renderReportHtml(results, deriveVerdict(results), assets);
 */
import { escapeHtml } from './escape';
import { figure, fixed, page, paragraph, percent, section, svgDataUri, table, verdictBlock } from './html-parts';
import type { AttackRecord, RunResults } from './results';
import type { ReportVerdict } from './verdict';
import { dataLabel, whatRan } from './run-verdict';
import { releaseHtml, sweepReleaseCell } from './release-section';
import { unmeasuredAccuracyNote } from './summary';

export interface ReportAssets {
  /** Chart SVG documents by name: accuracy, loss, attack-objective, privacy, frontier. */
  charts: ReadonlyMap<string, string>;
  /** A picture of the run folder (path relative to it) as a data URI; null when it cannot be read. */
  image(rel: string): string | null;
}

function chart(assets: ReportAssets, name: string, caption: string): string {
  const svg = assets.charts.get(name);
  return svg ? figure(svgDataUri(svg), caption) : '';
}

function header(results: RunResults): string {
  const s = results.scenario;
  const f = s.federation;
  const meta =
    `${f.algorithm}, ${s.model.name} on ${dataLabel(s)}, ${f.clients} clients (${f.clientsPerRound} per round), ` +
    `${f.rounds} rounds, seed ${s.seed}; attack ${s.attack.name}. fedleak ${results.fedleakVersion}, ${results.backend.name} backend. ` +
    `Started ${results.startedAt}, finished ${results.finishedAt}.`;
  return `<h1>${escapeHtml(s.name)}${results.sweep ? ' (sweep)' : ''}</h1>\n${results.verdict ? `<p class="headline"><strong>${escapeHtml(results.verdict.sentence)}</strong></p>` : ''}${paragraph(`What ran: ${whatRan(s, null)}`)}\n<p class="meta">${escapeHtml(meta)}</p>`;
}

function attackCaption(a: AttackRecord): string {
  const variant = a.variant ? ` [${a.variant}]` : '';
  return (
    `Round ${a.round}, ${a.target} (${a.view})${variant}, ${a.attack}, batch ${a.batchSize}: mean PSNR ${fixed(a.psnr, 2)} dB, ` +
    `SSIM ${fixed(a.ssim, 3)}, labels ${percent(a.labelAccuracy)}; ${a.iterations} iterations in ${fixed(a.seconds, 1)} s.`
  );
}

function unscoredCaption(a: AttackRecord): string {
  const labels = a.recoveredLabels?.length ? `; recovered labels ${a.recoveredLabels.join(', ')}` : '';
  return (
    `Round ${a.round}, ${a.target} (${a.view}), ${a.attack}, batch ${a.batchSize}: reconstructions only, UNSCORED${labels}; ` +
    `${a.iterations} iterations in ${fixed(a.seconds, 1)} s. ${a.unscored ?? ''}`
  );
}

/** Why some pictures have no figures: said once, above them. */
function unscoredNote(unscored: number, total: number): string {
  return (
    `${unscored} of ${total} reconstructions could not be scored: no ground truth reached the server (client-held data; ` +
    'a client shares it only when started with --share-truth). They are shown alone, without originals; whether they resemble ' +
    'the private examples is not measured, and the verdict does not count them.'
  );
}

function reconstructions(results: RunResults, assets: ReportAssets): string {
  if (results.attacks.length === 0) return paragraph(`No attack results (attack.name is "${results.scenario.attack.name}").`);
  const parts = results.attacks.map((a) => {
    if (a.error) return `<p class="error">${escapeHtml(`Round ${a.round}, ${a.target} (${a.view}): ${a.error}`)}</p>`;
    const rel = a.labelledImage ?? a.image;
    const uri = rel ? assets.image(rel) : null;
    const caption = a.unscored ? unscoredCaption(a) : attackCaption(a);
    return uri ? figure(uri, caption, `reconstructions of round ${a.round} ${a.target}`) : paragraph(`${caption} (picture missing)`);
  });
  const unscored = results.attacks.filter((a) => a.unscored).length;
  return (
    paragraph('Each column: the private original above the reconstruction, with PSNR, SSIM and true → recovered label; worst first.') +
    (unscored ? paragraph(unscoredNote(unscored, results.attacks.length)) : '') +
    parts.join('\n')
  );
}

function training(results: RunResults, assets: ReportAssets): string {
  const charts = chart(assets, 'accuracy', 'Test accuracy per round.') + chart(assets, 'loss', 'Test loss per round.');
  if (results.rounds.length === 0)
    return charts || paragraph(results.sweep ? 'A sweep: see each variant for its rounds.' : 'No rounds completed.');
  const rows = results.rounds.map((r) => [
    String(r.round),
    percent(r.testAccuracy),
    fixed(r.testLoss, 4),
    String(r.participants.length),
    r.dropped.join(', ') || '–',
    fixed(r.seconds, 2),
  ]);
  const note = unmeasuredAccuracyNote(results);
  return (
    charts +
    (note ? paragraph(note) : '') +
    `<details><summary>Rounds</summary>${table(['round', 'test accuracy', 'test loss', 'participants', 'dropped', 'seconds'], rows, [true, true, true, true, false, true])}</details>`
  );
}

function privacy(results: RunResults, assets: ReportAssets): string {
  const p = results.privacy;
  const rows = (results.sweep ?? [])
    .filter((r) => r.privacy)
    .map((r) => [
      r.variant,
      fixed(r.privacy?.epsilon, 3),
      String(r.privacy?.delta),
      String(r.privacy?.noiseMultiplier),
      String(r.privacy?.steps),
    ]);
  if (!p && rows.length === 0) return '';
  const text = p
    ? paragraph(
        `(ε = ${fixed(p.epsilon, 3)}, δ = ${p.delta})-differential privacy after ${p.steps} rounds: noise multiplier ${p.noiseMultiplier}, sample rate ${p.sampleRate} (Rényi-DP accountant). Smaller ε is stronger; ε above about 10 promises little.`,
      )
    : table(['variant', 'ε', 'δ', 'noise multiplier', 'rounds'], rows, [false, true, true, true, true]);
  return section('privacy', 'Privacy spent', text + chart(assets, 'privacy', 'ε spent up to each round.'));
}

function defences(results: RunResults): string {
  const d = results.scenario.defenses;
  const active = Object.entries(d).filter(([key, value]) => key !== 'order' && value !== undefined);
  const item = (name: string, value: unknown) => `<li><b>${escapeHtml(name)}</b>: ${escapeHtml(JSON.stringify(value))}</li>`;
  const perVariant = (results.sweep ?? []).map((r) => item(`variant ${r.variant}`, r.overrides));
  const items = [...active.map(([k, v]) => item(k, v)), ...perVariant];
  const none = results.sweep ? 'No defence in the base scenario.' : 'No defence is configured in this run.';
  const list = items.length ? `<ul>${items.join('')}</ul>` : paragraph(none);
  const cost = results.sweep
    ? paragraph("Accuracy cost of each variant: the defence table below (the first variant's final test accuracy minus its own).")
    : paragraph('The accuracy cost of a defence needs a baseline: run a sweep with the undefended variant first.');
  return section('defences', 'Defences', list + cost);
}

function sweep(results: RunResults, assets: ReportAssets): string {
  if (!results.sweep) return '';
  const rows = results.sweep.map((r) => [
    r.variant,
    JSON.stringify(r.overrides),
    percent(r.finalTestAccuracy),
    r.accuracyCost === undefined ? '–' : `${fixed(100 * r.accuracyCost, 1)} pp`,
    r.attack ? fixed(r.attack.psnr, 2) : '–',
    r.attack ? fixed(r.attack.ssim, 3) : '–',
    r.attack ? percent(r.attack.labelAccuracy) : '–',
    r.privacy ? fixed(r.privacy.epsilon, 3) : '–',
    sweepReleaseCell(r),
  ]);
  const body =
    chart(
      assets,
      'frontier',
      'Privacy–utility frontier: leakage (mean SSIM of the reconstructions) against final test accuracy, one point per variant.',
    ) +
    table(
      ['variant', 'overrides', 'final test accuracy', 'accuracy cost', 'PSNR dB', 'SSIM', 'labels', 'ε', 'released model (MI-FACE)'],
      rows,
      [false, false, true, true, true, true, true, true, false],
    );
  const grid = (results.images ?? []).filter((i) => i.endsWith('reconstructions.png')).map((i) => assets.image(i));
  return section(
    'sweep',
    'Defence table',
    body + grid.map((uri) => (uri ? figure(uri, 'One row of reconstructions per variant.') : '')).join(''),
  );
}

export function renderReportHtml(results: RunResults, verdict: ReportVerdict, assets: ReportAssets): string {
  const objective = chart(
    assets,
    'attack-objective',
    'Attack objective per iteration (log scale); dashed lines mark restart boundaries when known.',
  );
  const body = [
    header(results),
    section('verdict', 'Verdict', verdictBlock(verdict)),
    section('reconstructions', 'Reconstructions', reconstructions(results, assets)),
    section('training', 'Training', training(results, assets)),
    releaseHtml(results, (rel) => assets.image(rel)),
    objective ? section('objective', 'Attack objective', objective) : '',
    privacy(results, assets),
    defences(results),
    sweep(results, assets),
  ].filter(Boolean);
  return page(`fedleak report: ${results.scenario.name}`, body.join('\n'));
}
