/**
 * Two runs side by side in one self-contained page: what differs in their scenarios, their key
 * figures, verdicts, charts and reconstructions. Pure: takes both runs' results and assets.
 *
 * Usage: const html = renderCompareHtml([{ label, results, verdict, assets }, { … }]);
 */
import { escapeHtml } from './escape';
import { figure, fixed, page, percent, section, svgDataUri, table, verdictBlock } from './html-parts';
import type { ReportAssets } from './report-html';
import { isScored, type RunResults } from './results';
import type { ReportVerdict } from './verdict';

export interface ComparedRun {
  /** How the run is named in the page (its folder). */
  label: string;
  results: RunResults;
  verdict: ReportVerdict;
  assets: ReportAssets;
}

/** Dotted paths to leaf values ("federation.rounds" → 10). */
export function flatten(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
  } else if (prefix) out.set(prefix, JSON.stringify(value));
  return out;
}

function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function keyFigures(r: RunResults): string[] {
  const last = r.rounds[r.rounds.length - 1];
  const scored = r.attacks.filter(isScored);
  const p = r.privacy;
  return [
    r.scenario.name + (r.sweep ? ` (sweep of ${r.sweep.length})` : ''),
    `${r.scenario.federation.algorithm}, ${r.scenario.model.name}, ${r.scenario.data.dataset}`,
    r.scenario.attack.name,
    String(r.rounds.length),
    last ? percent(last.testAccuracy) : '–',
    `${scored.length} of ${r.attacks.length}`,
    fixed(median(scored.map((a) => a.psnr)), 2),
    fixed(median(scored.map((a) => a.ssim)), 3),
    percent(median(scored.map((a) => a.labelAccuracy))),
    p ? `ε = ${fixed(p.epsilon, 3)}, δ = ${p.delta}` : '–',
  ];
}

const FIGURE_NAMES = [
  'scenario',
  'training',
  'attack',
  'rounds',
  'final test accuracy',
  'attacks scored',
  'median PSNR dB',
  'median SSIM',
  'median label accuracy',
  'privacy',
];

function figuresTable(a: ComparedRun, b: ComparedRun): string {
  const fa = keyFigures(a.results);
  const fb = keyFigures(b.results);
  return table(
    ['', a.label, b.label],
    FIGURE_NAMES.map((name, i) => [name, fa[i], fb[i]]),
  );
}

function differences(a: ComparedRun, b: ComparedRun): string {
  const fa = flatten(a.results.scenario);
  const fb = flatten(b.results.scenario);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort().filter((k) => fa.get(k) !== fb.get(k));
  if (keys.length === 0) return '<p>The two scenarios are identical (after defaults were filled in).</p>';
  return table(
    ['scenario field', a.label, b.label],
    keys.map((k) => [k, fa.get(k) ?? '(unset)', fb.get(k) ?? '(unset)']),
  );
}

function sideBySide(a: string, b: string): string {
  return `<div class="columns"><div>${a}</div><div>${b}</div></div>`;
}

function charts(run: ComparedRun): string {
  const names: Array<[string, string]> = [
    ['accuracy', 'test accuracy'],
    ['loss', 'test loss'],
    ['attack-objective', 'attack objective'],
    ['privacy', 'ε spent'],
    ['frontier', 'privacy–utility frontier'],
  ];
  return names
    .map(([name, caption]) =>
      run.assets.charts.has(name) ? figure(svgDataUri(run.assets.charts.get(name) as string), `${run.label}: ${caption}`) : '',
    )
    .join('');
}

function pictures(run: ComparedRun): string {
  const parts = run.results.attacks.map((a) => {
    const rel = a.labelledImage ?? a.image;
    const uri = rel ? run.assets.image(rel) : null;
    const what = `round ${a.round} ${a.target} (${a.view})${a.variant ? ` [${a.variant}]` : ''}`;
    return uri ? figure(uri, `${run.label}: ${what}`) : `<p>${escapeHtml(`${what}: ${a.error ?? 'no picture'}`)}</p>`;
  });
  return parts.join('') || '<p>No attack results.</p>';
}

export function renderCompareHtml(runs: readonly [ComparedRun, ComparedRun]): string {
  const [a, b] = runs;
  const body = [
    `<h1>${escapeHtml(a.label)} vs ${escapeHtml(b.label)}</h1>`,
    section('figures', 'Key figures', figuresTable(a, b)),
    section('differences', 'What differs', differences(a, b)),
    section(
      'verdicts',
      'Verdicts',
      sideBySide(`<h3>${escapeHtml(a.label)}</h3>${verdictBlock(a.verdict)}`, `<h3>${escapeHtml(b.label)}</h3>${verdictBlock(b.verdict)}`),
    ),
    section('charts', 'Charts', sideBySide(charts(a), charts(b))),
    section('reconstructions', 'Reconstructions', sideBySide(pictures(a), pictures(b))),
  ];
  return page(`fedleak compare: ${a.label} vs ${b.label}`, body.join('\n'));
}
