import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../shared/random';
import { loadCsv } from '../shared/data/csv';
import { dataSchema } from '../shared/data/schema';
import {
  baselineAttribute,
  mapAttribute,
  mapFromLogLikelihoods,
  type AttributeModel,
  type SensitiveAttribute,
} from '../server/release/attribute-inference';
import { confusionMatrix, labelLogLikelihood, scoresLogLikelihood } from '../server/release/attribute-evidence';
import { fillValue, marginalPrior, sensitiveColumn, valueOf } from '../server/release/attribute-column';

/** Least squares with intercept by the normal equations (Gaussian elimination, partial pivoting). */
function fitLinear(rows: Float64Array[], ys: number[]): AttributeModel {
  const d = rows[0].length + 1;
  const a = Array.from({ length: d }, () => new Float64Array(d + 1));
  rows.forEach((r, n) => {
    const x = [1, ...r];
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) a[i][j] += x[i] * x[j];
      a[i][d] += x[i] * ys[n];
    }
  });
  for (let i = 0; i < d; i++) a[i][i] += 1e-6; // one-hot columns plus intercept are collinear
  for (let c = 0; c < d; c++) {
    const p = a.slice(c).reduce((best, row, k) => (Math.abs(row[c]) > Math.abs(a[best][c]) ? c + k : best), c);
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= d; k++) a[r][k] -= f * a[c][k];
    }
  }
  const w = a.map((row, i) => row[d] / row[i]);
  const predict = (row: Float64Array) => w[0] + Array.from(row).reduce((s, v, i) => s + v * w[i + 1], 0);
  const residuals = rows.map((r, n) => ys[n] - predict(r));
  const errorStd = Math.sqrt(residuals.reduce((s, e) => s + e * e, 0) / residuals.length);
  return { predict, errorStd };
}

/** Rows: 3 public features, then the sensitive attribute one-hot in 3 columns (warfarin-like). */
function table(n: number, prior: number[], rng: Rng): { rows: Float64Array[]; ys: number[]; sensitive: number[] } {
  const rows: Float64Array[] = [];
  const ys: number[] = [];
  const sensitive: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    const s = u < prior[0] ? 0 : u < prior[0] + prior[1] ? 1 : 2;
    const row = new Float64Array(6);
    for (let j = 0; j < 3; j++) row[j] = rng.normal();
    row[3 + s] = 1;
    rows.push(row);
    sensitive.push(s);
    ys.push(1 + row[0] - 0.5 * row[1] + 2 * row[4] + 4 * row[5] + rng.normal(0, 0.5));
  }
  return { rows, ys, sensitive };
}

describe('release: attribute inference (MAP with marginal priors)', () => {
  const prior = [0.5, 0.3, 0.2];
  const attribute: SensitiveAttribute = {
    values: 3,
    prior,
    fill: (row, v) => {
      row.fill(0, 3, 6);
      row[3 + v] = 1;
    },
  };

  it('beats the prior-only baseline when the sensitive column is predictive of the output', () => {
    const rng = new Rng(11);
    const trainSet = table(2000, prior, rng);
    const model = fitLinear(trainSet.rows, trainSet.ys);
    const targets = table(1000, prior, rng);
    let map = 0;
    let baseline = 0;
    targets.rows.forEach((row, i) => {
      const known = Float64Array.from(row);
      known.fill(0, 3, 6); // the attacker does not see the sensitive columns
      if (mapAttribute(model, attribute, known, targets.ys[i]).value === targets.sensitive[i]) map++;
      if (baselineAttribute(attribute) === targets.sensitive[i]) baseline++;
    });
    expect(baseline / 1000).to.be.closeTo(0.5, 0.06);
    expect(map / 1000).to.be.greaterThan(0.85);
  });

  it('falls back to the prior when the model carries no information about the attribute', () => {
    const flat: AttributeModel = { predict: () => 0, errorStd: 1 };
    const guess = mapAttribute(flat, attribute, new Float64Array(6), 3);
    expect(guess.value).to.equal(0);
    guess.posterior.forEach((p, v) => expect(p).to.be.closeTo(prior[v], 1e-12));
  });
});

describe('release: attribute inference on classifiers (evidence, sensitive column)', () => {
  it('reads the label evidence from each masking: shown score, rounding floor, top-k rest, label-only confusion', () => {
    const full = { mode: 'full' } as const;
    expect(labelLogLikelihood({ label: 0, scores: [0.7, 0.2, 0.1] }, 1, full, null)).to.be.closeTo(Math.log(0.2), 1e-12);
    // Rounded to 0 at 1 decimal: anything below half a step.
    expect(labelLogLikelihood({ label: 0, scores: [1, 0, 0] }, 2, { mode: 'round', decimals: 1 }, null)).to.be.closeTo(
      Math.log(0.05),
      1e-12,
    );
    // Top-1 hid classes 1 and 2: they share what class 0 leaves.
    expect(labelLogLikelihood({ label: 0, scores: [0.6, null, null] }, 2, { mode: 'top-k', k: 1 }, null)).to.be.closeTo(
      Math.log(0.2),
      1e-12,
    );
    const confusion = confusionMatrix([0, 0, 0, 1], [0, 0, 1, 1], 2);
    // Predicted 0: true labels 0, 0, 1, plus one of each by smoothing.
    expect(confusion[0]).to.deep.equal([3 / 5, 2 / 5]);
    expect(labelLogLikelihood({ label: 0, scores: null }, 1, { mode: 'label-only' }, confusion)).to.be.closeTo(Math.log(0.4), 1e-12);
    expect(() => labelLogLikelihood({ label: 0, scores: null }, 1, { mode: 'label-only' }, null)).to.throw(/confusion matrix/);
  });

  it('matches the observed answer: identical answers score 0, a different label-only answer is all but ruled out', () => {
    expect(scoresLogLikelihood({ label: 0, scores: [0.7, 0.3] }, { label: 0, scores: [0.7, 0.3] }, 2, 0.01)).to.equal(0);
    expect(scoresLogLikelihood({ label: 0, scores: [0.7, 0.3] }, { label: 0, scores: [0.6, 0.4] }, 2, 0.1)).to.be.closeTo(-1, 1e-9);
    expect(scoresLogLikelihood({ label: 0, scores: null }, { label: 1, scores: null }, 2, 0.01)).to.be.below(-1000);
    // The prior still decides between values the evidence cannot tell apart; a zero prior never wins.
    expect(mapFromLogLikelihoods([0.2, 0.5, 0.3], [-1, -1, -1]).value).to.equal(1);
    expect(mapFromLogLikelihoods([0, 0.5, 0.5], [0, -5, -1]).value).to.equal(2);
  });

  it('locates a categorical and a numeric sensitive column in a loaded CSV, with their values as written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-attribute-column-'));
    try {
      const file = path.join(dir, 't.csv');
      fs.writeFileSync(file, 'age,gene,height,y\n20,A,1.5,x\n30,B,1.7,y\n30,C,1.9,x\n50,B,1.6,y\n');
      const data = dataSchema.parse({ dataset: 'csv', path: file, label: 'y', categorical: ['gene'] });
      const table = loadCsv({ path: file, label: 'y', categorical: ['gene'] });
      const gene = sensitiveColumn('gene', data, [table]);
      expect([gene.kind, gene.offset, gene.width, gene.values]).to.deep.equal(['categorical', 1, 3, ['A', 'B', 'C']]);
      expect([0, 1, 2, 3].map((r) => valueOf(gene, table, r))).to.deep.equal([0, 1, 2, 1]);
      expect(marginalPrior(gene, table)).to.deep.equal([0.25, 0.5, 0.25]);
      const age = sensitiveColumn('age', data, [table]);
      // Standardised in the inputs, written back as in the file.
      expect([age.kind, age.offset, age.values]).to.deep.equal(['numeric', 0, ['20', '30', '50']]);
      const example = table.images.slice(0, 5);
      fillValue(age, example, 2);
      fillValue(gene, example, 2);
      expect(example[0]).to.equal(age.levels[2]);
      expect(Array.from(example.subarray(1, 4))).to.deep.equal([0, 0, 1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
