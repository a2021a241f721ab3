/**
 * The draw page's script: client/browser/main (compiled to dist) bundled for the browser with
 * esbuild on first request, then kept in memory. Node built-ins reached through shared/ (the data
 * loaders behind the scenario schema, and image folders' decoders pngjs and jpeg-js) are never called in a page: they become empty modules (os
 * answers only the byte order, which the wire format checks).
 */
import * as path from 'node:path';

const ENTRY = path.resolve(__dirname, '..', '..', 'client', 'browser', 'main.js');

const BROWSER_OS = `module.exports = { endianness: () => (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'LE' : 'BE') };`;

let bundled: Promise<string> | null = null;

async function build(): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    minify: true,
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'node-builtins-empty',
        setup(b) {
          b.onResolve(
            {
              filter:
                /^((node:)?(fs|path|zlib|os|crypto|url|worker_threads|child_process|util|stream|assert|buffer|events)|pngjs|jpeg-js)$/,
            },
            (args) => ({
              path: args.path,
              namespace: 'empty',
            }),
          );
          b.onLoad({ filter: /.*/, namespace: 'empty' }, (args) => ({
            // The wire format checks the host's byte order at load time: answer it from a typed array.
            contents: /(^|:)os$/.test(args.path) ? BROWSER_OS : 'module.exports = {};',
            loader: 'js',
          }));
        },
      },
    ],
  });
  return result.outputFiles[0].text;
}

/** The bundle's text; a failed build is retried on the next request. */
export function browserClientBundle(): Promise<string> {
  bundled ??= build().catch((err: unknown) => {
    bundled = null;
    throw err;
  });
  return bundled;
}
