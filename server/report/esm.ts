/**
 * Loads ESM-only packages (vega, vega-lite) from this CommonJS build. TypeScript with
 * `module: commonjs` rewrites `import()` into `require()`, which cannot load an ES module; a
 * Function-constructed `import()` is left alone by the compiler and resolved by Node at run time.
 */
import type * as Vega from 'vega';
import type { TopLevelSpec } from 'vega-lite/build/index';

export interface VegaLiteModule {
  compile(spec: TopLevelSpec): { spec: Vega.Spec };
}

const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let loaded: Promise<{ vega: typeof Vega; vegaLite: VegaLiteModule }> | null = null;

/** vega and vega-lite, imported once per process. */
export function loadVega(): Promise<{ vega: typeof Vega; vegaLite: VegaLiteModule }> {
  loaded ??= Promise.all([dynamicImport('vega'), dynamicImport('vega-lite')]).then(([vega, vegaLite]) => ({
    vega: vega as typeof Vega,
    vegaLite: vegaLite as VegaLiteModule,
  }));
  return loaded;
}
