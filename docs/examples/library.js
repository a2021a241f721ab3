#!/usr/bin/env node
// fedleak as a library: load a built-in scenario with overrides, watch the run's events, read the results.
// Run from a checkout (`npm run build` first) or from any project that has `npm install fedleak`:
//   node docs/examples/library.js [outDir]
'use strict';
const os = require('node:os');
const path = require('node:path');
const { loadScenario, runScenario, attacks, scenarios, createRunEvents } = require('fedleak');

async function main() {
  console.log(
    `built-in scenarios: ${scenarios()
      .map((s) => s.name)
      .join(', ')}`,
  );
  console.log(`attacks: ${attacks.names().join(', ')}`);

  // The same spellings as the CLI's --set; a bad field throws a ScenarioError naming it.
  const loaded = loadScenario('analytic-mlp', { set: ['federation.rounds=1', 'federation.clients=2', 'federation.clientsPerRound=2'] });
  const events = createRunEvents();
  events.on('round', (record, total) =>
    console.log(`round ${record.round}/${total}: test accuracy ${(100 * record.testAccuracy).toFixed(1)} %`),
  );
  events.on('attack-done', ({ record }) => console.log(`attack ${record.attack} on ${record.target}: PSNR ${record.psnr.toFixed(1)} dB`));

  const outDir = process.argv[2] ?? path.join(os.tmpdir(), `fedleak-library-example-${process.pid}`);
  const results = await runScenario(loaded, { outDir, events, overwrite: true });
  const best = Math.max(...results.attacks.map((a) => a.psnr));
  console.log(`${results.attacks.length} attacks, best PSNR ${best.toFixed(1)} dB; report: ${path.join(outDir, 'report.html')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
