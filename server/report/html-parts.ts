/**
 * Building blocks of the HTML reports: number formats, escaped tables, the page shell with its
 * inline stylesheet (no external resource of any kind), and the verdict block.
 */
import { escapeHtml } from './escape';
import type { ReportVerdict, VerdictLevel } from './verdict';

export function fixed(value: number | null | undefined, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

export function percent(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(100 * value).toFixed(1)} %` : '–';
}

/** An HTML table; every cell is text and gets escaped. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}

/** A chart or picture already encoded as a data URI (SVG charts too: an <img> runs no script). */
export function figure(dataUri: string, caption: string, alt = caption): string {
  return `<figure><img src="${escapeHtml(dataUri)}" alt="${escapeHtml(alt)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

const LEVEL_TEXT: Record<VerdictLevel, string> = {
  leaks: 'LEAKS',
  partly: 'PARTLY LEAKS',
  resisted: 'NO RECOGNISABLE LEAK',
  'not-assessed': 'NOT ASSESSED',
};

export function verdictBlock(verdict: ReportVerdict): string {
  const threats = verdict.threats.map(
    (t) =>
      `<div class="threat ${escapeHtml(t.level)}"><h3>${escapeHtml(t.title)}</h3>` +
      `<p class="headline"><span class="badge">${escapeHtml(LEVEL_TEXT[t.level])}</span> ${escapeHtml(t.headline)}</p>` +
      (t.details.length ? `<ul>${t.details.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : '') +
      `</div>`,
  );
  if (threats.length === 0) threats.push(paragraph('No threat was assessed in this run.'));
  return `${threats.join('\n')}\n<p class="basis">${escapeHtml(verdict.basis)}</p>`;
}

const STYLE = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.meta{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.85em}
.threat{border-left:6px solid #999;padding:.3em 1em;margin:.8em 0;background:#fafafa}
.threat.leaks{border-color:#b00020}.threat.partly{border-color:#e08000}.threat.resisted{border-color:#1b7a2e}
.badge{font-weight:bold;padding:.1em .4em;border-radius:3px;background:#999;color:white;font-size:.85em}
.leaks .badge{background:#b00020}.partly .badge{background:#e08000}.resisted .badge{background:#1b7a2e}
.headline{font-size:1.1em}.basis{color:#555;font-size:.85em}.error{color:#b00020}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}.columns>div{min-width:0}
`;

/** A complete, self-contained page. `title` is text; `body` is already-built HTML. */
export function page(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`
  );
}
