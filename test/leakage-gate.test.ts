/**
 * leakage-gate core on real MNIST: the RDLV of an update's first-layer readout against the client's
 * own examples. An imprint-block gradient and a trapped layer's gradient exceed the threshold; an
 * honest conv net has no dense layer on the input and passes; the window SSIM is 1 for identical images.
 */
import { expect } from 'chai';
import { loadMnist } from '../shared/data';
import { buildModel } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { Rng } from '../shared/random';
import { initBackend } from '../shared/tensor/backend';
import type { ImageShape } from '../shared/models/types';
import { leakageGate, windowSsim } from '../client/guards/leakage-gate';
import { buildImprintBlock, measurePublicStatistic } from '../server/malicious/imprint';
import { withImprintBlock } from '../server/malicious/imprint-model';
import { clientGradient, drawBatches } from '../tools/eval/malicious-round';

const SHAPE: ImageShape = [28, 28, 1];
const N = 784;

describe('client guards: leakage-gate (RDLV of a first-layer readout of the own update)', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('window SSIM: 1 for identical images, lower for a grey prior', () => {
    const ds = loadMnist();
    const x = ds.images.subarray(0, N);
    expect(windowSsim(x, x, SHAPE)).to.be.closeTo(1, 1e-9);
    expect(windowSsim(new Float32Array(N).fill(0.5), x, SHAPE)).to.be.lessThan(0.2);
  });

  it('refuses an imprint-block gradient of a batch of 8, passes the honest lenet-zhu gradient', () => {
    const ds = loadMnist();
    const [batch] = drawBatches(ds, new Rng(4), 1, 8, 2000);
    const stat = measurePublicStatistic({ kind: 'fourier', mode: 0 }, ds.images.subarray(5000 * N, 5200 * N), 200, N);
    const lenet = buildModel(modelSchema.parse({ name: 'lenet-zhu' }), SHAPE, 10);
    const imprinted = withImprintBlock(lenet, buildImprintBlock({ inputSize: N, bins: 128, statistic: stat }));
    const started = performance.now();
    const leaky = leakageGate(imprinted.specs, clientGradient(imprinted, imprinted.initParams(new Rng(1)), batch), batch.images, 8, SHAPE);
    const ms = performance.now() - started;
    expect(leaky.leaky, leaky.reason).to.equal(true);
    expect(leaky.rdlv).to.be.greaterThan(1);
    const honest = leakageGate(lenet.specs, clientGradient(lenet, lenet.initParams(new Rng(1)), batch), batch.images, 8, SHAPE);
    expect(honest.leaky).to.equal(false);
    process.stderr.write(`      leakage-gate on a 128-bin imprint update of 8 examples: ${ms.toFixed(0)} ms (measured under load)\n`);
  });
});
