import { expect } from 'chai';
import { fedMeanStrategy, withDpFedAvg, strategyFor, type AcceptedUpdate } from '../server/strategy';
import { dpAggregate } from '../server/dp/aggregate';
import { applyAggregate, weightedMean } from '../server/coordinator/aggregate';
import { scenarioSchema } from '../server/scenario/schema';
import { MODEL_DEFINITION_FORMAT, type ModelDefinition } from '../shared/models/definition';
import { Rng } from '../shared/random';

const P = 6;
const model: ModelDefinition = {
  format: MODEL_DEFINITION_FORMAT,
  name: 'bare-vector',
  inputShape: [1, 1, 1],
  numClasses: 1,
  layers: [],
  params: [{ name: 'v', shape: [P] }],
};
const training = { algorithm: 'fedsgd', batchSize: 2, localSteps: 1, localEpochs: 0, learningRate: 0.5 } as const;

function updates(): AcceptedUpdate[] {
  const rng = new Rng(9);
  return ['c0', 'c2'].map((clientId, i) => ({
    clientId,
    round: 3,
    update: Float32Array.from({ length: P }, () => rng.normal(0, 2)),
    numExamples: i + 1,
    frameBytes: 100 + i,
  }));
}

describe('server strategies', () => {
  const ctx = { round: 3, globalParams: Float32Array.from({ length: P }, (_, i) => i / 10), selected: ['c0', 'c1', 'c2'] };

  it('FedSGD configures one round.start carrying the payload for every selected client, and steps by the weighted mean', () => {
    const s = fedMeanStrategy({ model, training, roundTimeoutMs: 1234 });
    const plan = s.configure(ctx);
    expect(plan.payload).to.deep.include({ round: 3, model, training });
    expect(plan.payload.params).to.equal(ctx.globalParams);
    expect(plan.instructions.map((i) => i.clientId)).to.deep.equal(['c0', 'c1', 'c2']);
    for (const { message } of plan.instructions)
      expect(message).to.deep.include({
        type: 'round.start',
        round: 3,
        algorithm: 'fedsgd',
        batchSize: 2,
        learningRate: 0.5,
        timeoutMs: 1234,
      });
    const u = updates();
    const agg = s.aggregate(ctx, plan, u);
    expect(Array.from(agg.params)).to.deep.equal(Array.from(applyAggregate(ctx.globalParams, weightedMean(u), 'fedsgd', 0.5)));
    // The observer sees the updates as received.
    expect(agg.observed.map((o) => [o.sender, o.kind, o.view, o.bytes, o.update])).to.deep.equal(
      u.map((x) => [x.clientId, 'gradient', 'plain', x.frameBytes, x.update]),
    );
    expect(agg.privacy).to.equal(undefined);
  });

  it('DP-FedAvg clips each update once: the observer gets the clipped update the noisy mean is made of', () => {
    const dp = { clippingNorm: 1, noiseMultiplier: 0.7, delta: 1e-5 };
    const s = withDpFedAvg(fedMeanStrategy({ model, training, roundTimeoutMs: 1000 }), { dp, sampleRate: 0.5, seed: 4 });
    const u = updates();
    const agg = s.aggregate(ctx, s.configure(ctx), u);
    const reference = dpAggregate(
      u.map((x) => ({ update: x.update, weight: x.numExamples })),
      dp,
      new Rng(4).fork('aggregate/round-3'),
      3,
    );
    expect(Array.from(agg.params)).to.deep.equal(Array.from(applyAggregate(ctx.globalParams, reference.aggregate, 'fedsgd', 0.5)));
    expect(agg.observed.map((o) => Array.from(o.update))).to.deep.equal(reference.clippedUpdates.map((c) => Array.from(c)));
    for (const o of agg.observed) expect(o.serverClippedTo).to.equal(1);
    expect(agg.privacy).to.deep.include({ steps: 3, sampleRate: 0.5, noiseMultiplier: 0.7 });
    // The received updates are untouched (the norm of these is well above 1).
    expect(Math.hypot(...u[0].update)).to.be.above(1);
  });

  it('strategyFor picks the scenario algorithm and wraps it in DP-FedAvg when defenses.dp is set', () => {
    const plain = scenarioSchema.parse({ name: 's', federation: { algorithm: 'fedavg' } });
    expect(strategyFor({ scenario: plain, model }).name).to.equal('fedavg');
    const dp = scenarioSchema.parse({ name: 's', defenses: { dp: { clippingNorm: 1, noiseMultiplier: 1 } } });
    expect(strategyFor({ scenario: dp, model }).name).to.equal('dp-fedavg(fedsgd)');
  });
});
