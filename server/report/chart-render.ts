/**
 * Compiles a Vega-Lite spec to SVG with vega in Node (no browser, no canvas: vega's SVG string
 * renderer) and rasterises SVG to PNG with sharp (librsvg) for papers.
 *
 * Usage:
 *   const svg = await chartSvg(spec);
 *   const png = await svgToPng(svg);          // 2× the SVG's size
 */
import sharp from 'sharp';
import type { TopLevelSpec } from 'vega-lite/build/index';
import { loadVega } from './esm';

/** The chart as a standalone SVG document. Data must be inline: nothing is fetched. */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const compiled = vegaLite.compile(spec).spec;
  // A loader that refuses every URL: a chart never reaches the network or the file system.
  const loader = vega.loader({ mode: 'http' });
  loader.load = () => Promise.reject(new Error('charts use inline data only'));
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG document, drawn at `scale` × its own size (2 suits print). */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .png()
    .toBuffer();
}
