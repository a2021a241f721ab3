/**
 * Import rules that keep the data flow client → wire → server → observer → report visible in the folders
 * (docs/architecture.md). `npm run lint` runs them; a violation fails `npm test`.
 */
module.exports = {
  forbidden: [
    {
      name: 'shared-is-shared',
      comment: 'shared/ holds only what both sides use: it imports neither client/ nor server/.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(client|server)/' },
    },
    {
      name: 'client-not-server',
      comment: 'A client never reaches into the server: they meet only through shared/ (wire, contract).',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^server/' },
    },
    {
      name: 'server-not-client',
      comment: 'The server never runs client code: it sees clients only through the wire.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^client/' },
    },
    {
      name: 'product-not-tools',
      comment: 'Product code does not depend on benchmarks, evaluation tools or tests.',
      severity: 'error',
      from: { path: '^(shared|client|server)/' },
      to: { path: '^(bench|tools|test)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
