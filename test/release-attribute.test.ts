import { expect } from 'chai';
import { Rng } from '../shared/random';
import { baselineAttribute, mapAttribute, type AttributeModel, type SensitiveAttribute } from '../server/release/attribute-inference';

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
