/**
 * Attribute inference on a released tabular model inside `fedleak run` (issue 17): a generated
 * warfarin-like table whose genotype column is predictive of the dose band, a real federation of
 * client processes, the attacks white-box and black-box through the real HTTP API; and the load-time
 * errors for a sensitive column the attack cannot use.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScenario, validateScenario } from '../server/scenario/load';
import { releaseResultsSchema, type AttributeAttackRecord } from '../server/release';
import type { RunResults } from '../server/report/results';
import { warfarinLikeCsv } from '../tools/data/warfarin-like';

// dist/test → repository root
const ROOT = path.resolve(__dirname, '..', '..');
const FEDLEAK = path.join(ROOT, 'bin', 'fedleak.js');

function fedleak(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FEDLEAK, ...args], { timeout: 120000, cwd }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

function scenario(csv: string, attacks: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'attribute-test',
    seed: 1,
    data: { dataset: 'csv', path: csv, label: 'dose', categorical: ['race', 'cyp2c9', 'vkorc1'], testFraction: 0.3 },
    model: { name: 'mlp', hidden: [16] },
    federation: {
      clients: 2,
      clientsPerRound: 2,
      clientsPerProcess: 2,
      rounds: 20,
      algorithm: 'fedavg',
      localEpochs: 2,
      batchSize: 32,
      learningRate: 0.1,
    },
    release: { api: { requestsPerSecond: 0, inputsPerSecond: 0 }, attacks },
    ...extra,
  };
}

describe('release: attribute inference on a CSV model (fedleak run, real processes and HTTP)', function () {
  this.timeout(180000);
  let dir: string;
  let csv: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-attribute-'));
    csv = path.join(dir, 'patients.csv');
    fs.writeFileSync(csv, warfarinLikeCsv({ rows: 1000, seed: 7 }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('beats the prior-only baseline on members and non-members, white-box and through the API', async () => {
    const file = path.join(dir, 'attribute.json');
    const attacks = [
      { name: 'attribute-inference', sensitive: 'vkorc1', access: 'white-box', evidence: 'label' },
      { name: 'attribute-inference', sensitive: 'vkorc1', access: 'black-box', evidence: 'both', masking: { mode: 'label-only' } },
      { name: 'attribute-inference', sensitive: 'age_decade', access: 'white-box', evidence: 'label', maxRecords: 100 },
    ];
    fs.writeFileSync(file, JSON.stringify(scenario(csv, attacks)));
    const run = await fedleak(['run', file, '-o', path.join(dir, 'out')], dir);
    expect(run.code, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'results.json'), 'utf8')) as RunResults;
    expect(() => releaseResultsSchema.parse(results.release)).to.not.throw();
    const [whiteBox, blackBox, age] = (results.release?.attacks ?? []) as AttributeAttackRecord[];
    // 1000 rows, 30 % held out: every record attacked, each with its 3 genotypes.
    expect([whiteBox.members.records, whiteBox.nonMembers.records]).to.deep.equal([700, 300]);
    for (const a of [whiteBox, blackBox]) {
      expect(a.attributeAccuracy, `${a.access} ${a.evidence}`).to.be.greaterThan(a.baselineAccuracy + 0.1);
      expect(a.members.attributeAccuracy).to.be.greaterThan(a.members.baselineAccuracy + 0.05);
      expect(a.nonMembers.attributeAccuracy).to.be.greaterThan(a.nonMembers.baselineAccuracy + 0.05);
      expect(a.perValue.map((v) => v.value)).to.deep.equal(['A/A', 'A/G', 'G/G']);
      expect(a.perValue.reduce((s, v) => s + v.records, 0)).to.equal(1000);
    }
    expect(whiteBox.queries).to.equal(0);
    expect([blackBox.access, blackBox.masking, blackBox.queries]).to.deep.equal(['black-box', 'label-only', 1000 * 3]);
    // A numeric column is discretised into the values it takes, written as in the CSV.
    expect(age.perValue.map((v) => v.value)).to.deep.equal(['2', '3', '4', '5', '6', '7', '8', '9']);
    expect(age.records).to.equal(200);
    expect(fs.readFileSync(path.join(dir, 'out', 'summary.md'), 'utf8')).to.include('vkorc1 (both)');
    expect(results.verdict?.sentence).to.match(/Attribute inference guessed "vkorc1" right for \d+ % of 1000 records at best/);
    // The released-model verdict: ≥ 10 points over the prior is a leak.
    expect(fs.readFileSync(path.join(dir, 'out', 'report.html'), 'utf8')).to.match(
      /Attribute inference beat the prior-only guess by \d+ points/,
    );
  });

  it('refuses an unusable sensitive column at load time, naming the field', async () => {
    const bad =
      (sensitive: string, extra: Record<string, unknown> = {}) =>
      () =>
        validateScenario(scenario(csv, [{ name: 'attribute-inference', sensitive }], extra), 'bad.json');
    expect(bad('genotype')).to.throw(
      /release\.attacks\.0\.sensitive: column "genotype" is not an input of the model \(not in the table, or left out of data\.features\); its input columns are age_decade, height_cm, weight_kg, race, amiodarone, enzyme_inducer, cyp2c9, vkorc1$/,
    );
    expect(bad('height_cm')).to.throw(/release\.attacks\.0\.sensitive: column "height_cm" is numeric with \d+ distinct values/);
    expect(bad('dose')).to.throw(/release\.attacks\.0\.sensitive: "dose" is the label column/);
    expect(bad('vkorc1', { data: { dataset: 'mnist' } })).to.throw(
      /release\.attacks\.0\.name: attribute-inference needs a table \(data\.dataset "csv"\), but data\.dataset is "mnist"/,
    );
    expect(bad('vkorc1', { data: { dataset: 'csv', path: path.join(dir, 'missing.csv'), label: 'dose' } })).to.throw(
      /release\.attacks\.0\.sensitive: cannot read the table to check the column: .*missing\.csv: file not found/,
    );
    // The command line stops before training, with the same message.
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(scenario(csv, [{ name: 'attribute-inference', sensitive: 'genotype' }])));
    const run = await fedleak(['run', file, '-o', path.join(dir, 'bad-out')], dir);
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.match(/release\.attacks\.0\.sensitive: column "genotype" is not an input of the model/);
    expect(fs.existsSync(path.join(dir, 'bad-out', 'results.json'))).to.equal(false);
  });

  it('the built-in attribute-inference-csv finds its shipped table from any directory', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { scenario: s } = loadScenario('attribute-inference-csv');
      expect(path.isAbsolute(s.data.path ?? '')).to.equal(true);
      expect(fs.existsSync(s.data.path ?? '')).to.equal(true);
      expect(s.release?.attacks.every((a) => a.name === 'attribute-inference')).to.equal(true);
      // An override keeps the meaning docs/data.md gives it: relative to the current directory.
      expect(loadScenario('attribute-inference-csv', ['data.path=patients.csv']).scenario.data.path).to.equal('patients.csv');
    } finally {
      process.chdir(cwd);
    }
  });
});
