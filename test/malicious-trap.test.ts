import { expect } from 'chai';
import { buildModel } from '../shared/models';
import { splitFlat } from '../shared/models/params';
import { loadMnist, type Dataset } from '../shared/data';
import { Rng } from '../shared/random';
import { modelSchema } from '../shared/models/schema';
import { initBackend } from '../shared/tensor/backend';
import type { ImageShape } from '../shared/models/types';
import { calibrateTrapFactor, plantTrapWeights, trapWeights } from '../server/malicious/trap-weights';
import { trapReadout, trapReadoutFromUpdate } from '../server/malicious/trap-readout';
import { clientGradient, countAtLeast, drawBatches, matchedPsnrs } from '../tools/eval/malicious-round';

const SHAPE: ImageShape = [28, 28, 1];
const N = 784;

describe('malicious server: trap weights (Curious Abandon Honesty)', function () {
  this.timeout(60000);
  let ds: Dataset;
  before(async () => {
    await initBackend({ quiet: true });
    ds = loadMnist();
  });

  it('each unit: half the inputs at −m, the other half at 0.95·m (paired), bias 0; the seed redraws them', () => {
    const layer = trapWeights({ inputs: N, units: 16 }, new Rng(4));
    for (let u = 0; u < 16; u++) {
      const column = Array.from({ length: N }, (_, j) => layer.kernel[j * 16 + u]);
      const neg = column
        .filter((w) => w < 0)
        .map((w) => -w)
        .sort((a, b) => a - b);
      const pos = column.filter((w) => w > 0).sort((a, b) => a - b);
      expect(neg.length).to.equal(N / 2);
      expect(pos.length).to.equal(N / 2);
      pos.forEach((w, i) => expect(w).to.be.closeTo(0.95 * neg[i], 1e-6));
    }
    expect(Array.from(layer.bias)).to.deep.equal(new Array<number>(16).fill(0));
    expect(trapWeights({ inputs: N, units: 16 }, new Rng(layer.secrets.seed)).kernel).to.deep.equal(layer.kernel);
  });

  it('a plain update of a batch of 8 gives back several digits at ≥ 30 dB; the architecture is unchanged', () => {
    const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [200] }), SHAPE, 10);
    const honest = model.initParams(new Rng(1));
    const { params } = plantTrapWeights(model, honest, new Rng(2));
    expect(params.length).to.equal(honest.length);
    // Only the first dense layer changed.
    const [, , ...rest] = splitFlat(params, model.specs);
    const [, , ...restHonest] = splitFlat(honest, model.specs);
    rest.forEach((p, i) => expect(p).to.deep.equal(restHonest[i]));
    const [batch] = drawBatches(ds, new Rng(3), 1, 8);
    const g = clientGradient(model, params, batch);
    const out = trapReadoutFromUpdate(g, model.specs, model.firstDenseLayer!, { expected: 8 });
    expect(countAtLeast(matchedPsnrs(out.images, out.count, { images: batch.images, count: 8 }, SHAPE), 30)).to.be.at.least(3);
  });

  it('the calibrated factor makes units fire for about the target fraction of public digits', () => {
    const publicImages = ds.images.subarray(0, 300 * N);
    const factor = calibrateTrapFactor({ inputs: N, units: 50 }, 7, publicImages, 300, 1 / 32);
    expect(factor).to.be.lessThan(0.95);
    const layer = trapWeights({ inputs: N, units: 50, positiveFactor: factor }, new Rng(7));
    let fired = 0;
    for (let n = 0; n < 300; n++) {
      for (let u = 0; u < 50; u++) {
        let z = 0;
        for (let j = 0; j < N; j++) z += layer.kernel[j * 50 + u] * publicImages[n * N + j];
        if (z > 0) fired++;
      }
    }
    expect(fired / (300 * 50)).to.be.closeTo(1 / 32, 0.005);
  });

  it('refuses a model without a dense first layer and malformed readout inputs', () => {
    const lenet = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), SHAPE, 10);
    expect(() => plantTrapWeights(lenet, lenet.initParams(new Rng(1)), new Rng(2))).to.throw(/no dense first layer/);
    expect(() => trapReadout(new Float32Array(10), new Float32Array(3), { expected: 1 })).to.throw(/does not fit 3 units/);
    expect(() => trapWeights({ inputs: N, units: 0 }, new Rng(1))).to.throw(/units must be a positive integer/);
  });
});
