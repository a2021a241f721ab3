#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in dist/bin/cli/main.js, compiled by `npm install` (prepare script).
try {
  require('../dist/bin/cli/main.js').main(process.argv);
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/bin/cli/main')) {
    console.error('fedleak: the TypeScript build is missing. Run `npm install` (or `npm run build`) in the fedleak folder first.');
    process.exit(1);
  }
  throw err;
}
