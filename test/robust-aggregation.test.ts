/**
 * Byzantine-robust aggregation (issue 14, finding 1). The rules' arithmetic on small vectors; then
 * fedavg-mnist (reduced) with four real client processes and one Byzantine websocket client that
 * holds a real token and answers every round with (a) a zero update claiming 1e15 examples,
 * (b) all values 1e30, (c) all values 3.4e38.
 */
import { expect } from 'chai';
import { aggregationProblems, aggregationRule, krumScores } from '../server/strategy';
import type { AcceptedUpdate } from '../server/strategy/types';
import { validateScenario } from '../server/scenario/load';
import { publicScenario } from '../server/coordinator';
import { validatePublicScenario } from '../shared/scenario/public';
import { initBackend } from '../shared/tensor/backend';
import { ROBUSTNESS_DEFAULTS, robustnessScenario } from '../bench/robustness';
import { runWithByzantine, type ByzantineAttack, type ByzantineRun } from '../bench/robustness-federation';
import type { Scenario } from '../server/scenario/schema';

function updates(values: number[][], examples: number[] = values.map(() => 1)): AcceptedUpdate[] {
  return values.map((v, i) => ({ clientId: `c${i}`, round: 1, update: Float32Array.from(v), numExamples: examples[i], frameBytes: 0 }));
}

function scenarioWith(federation: Record<string, unknown>, defenses: Record<string, unknown> = {}): Scenario {
  return validateScenario({ name: 'robust', federation: { clients: 5, clientsPerRound: 5, ...federation }, defenses }, 'robust test');
}

describe('robust aggregation rules', () => {
  const byzantine = [
    [1, 2],
    [2, 3],
    [3, 4],
    [1e30, -1e30],
  ];

  it('median: coordinate-wise, unweighted; one client cannot move it outside the honest range', () => {
    const { mean } = aggregationRule({ name: 'median' })(updates(byzantine, [1, 1, 1, 1e6]));
    expect(Array.from(mean)).to.deep.equal([2.5, 2.5]);
    expect(Array.from(aggregationRule({ name: 'median' })(updates([[5], [1], [3]])).mean)).to.deep.equal([3]);
  });

  it('trimmed-mean: drops ⌊β·n⌋ from each end per coordinate', () => {
    const rule = aggregationRule({ name: 'trimmed-mean', beta: 0.25 });
    expect(Array.from(rule(updates(byzantine)).mean)).to.deep.equal([2.5, 2.5]);
    // β·n < 1: nothing trimmed, the plain unweighted mean.
    expect(Array.from(aggregationRule({ name: 'trimmed-mean', beta: 0.2 })(updates([[1], [2], [6]])).mean)).to.deep.equal([3]);
  });

  it('krum: scores by the n − f − 2 nearest, keeps the lowest; multi-krum averages the m lowest, the others recorded as rejected', () => {
    const points = [[0], [1], [2], [3], [100]];
    // f = 1: 2 nearest. Scores: 0→1+4, 1→1+1, 2→1+1, 3→1+4, 100→97²+98².
    expect(
      krumScores(
        points.map((p) => Float32Array.from(p)),
        2,
      ),
    ).to.deep.equal([5, 2, 2, 5, 97 ** 2 + 98 ** 2]);
    const krum = aggregationRule({ name: 'krum', f: 1, m: 1 })(updates(points));
    expect(Array.from(krum.mean)).to.deep.equal([1]);
    expect(krum.adjustments.map((a) => `${a.client}:${a.action}`)).to.deep.equal([
      'c0:rejected',
      'c2:rejected',
      'c3:rejected',
      'c4:rejected',
    ]);
    const multi = aggregationRule({ name: 'krum', f: 1, m: 4 })(updates(points));
    expect(Array.from(multi.mean)).to.deep.equal([1.5]);
    expect(multi.adjustments.map((a) => a.client)).to.deep.equal(['c4']);
  });

  it('norm-bounded: Δ·min(1, M/‖Δ‖) per client, then the weighted mean; clipped updates recorded', () => {
    const { mean, adjustments } = aggregationRule({ name: 'norm-bounded', normBound: 5 })(
      updates(
        [
          [3, 4],
          [30, 40],
        ],
        [1, 3],
      ),
    );
    expect(Array.from(mean)).to.deep.equal([3, 4]);
    expect(adjustments).to.have.length(1);
    expect(adjustments[0].client).to.equal('c1');
    expect(adjustments[0].reason).to.match(/L2 norm 50\.00 > normBound 5/);
  });

  it('the scenario names a rule by string or with its settings; bad settings and impossible combinations are named', () => {
    expect(scenarioWith({ aggregation: 'median' }).federation.aggregation).to.deep.equal({ name: 'median' });
    expect(scenarioWith({}).federation.aggregation).to.deep.equal({ name: 'mean' });
    expect(scenarioWith({ aggregation: 'trimmed-mean' }).federation.aggregation).to.deep.equal({ name: 'trimmed-mean', beta: 0.2 });
    expect(scenarioWith({ aggregation: { name: 'krum', f: 1 } }).federation.aggregation).to.deep.equal({ name: 'krum', f: 1, m: 1 });
    expect(() => scenarioWith({ aggregation: 'norm-bounded' })).to.throw(/federation\.aggregation\.normBound/);
    expect(() => scenarioWith({ aggregation: { name: 'trimmed-mean', beta: 0.5 } })).to.throw(/federation\.aggregation\.beta/);
    expect(() => scenarioWith({ aggregation: 'bulyan' })).to.throw(/federation\.aggregation/);
    expect(() => scenarioWith({ aggregation: { name: 'krum', f: 2 } })).to.throw(
      /krum with f = 2 needs federation\.clientsPerRound > 2f \+ 2 = 6, got 5/,
    );
    expect(() => scenarioWith({ aggregation: 'median' }, { dp: { clippingNorm: 1, noiseMultiplier: 1 } })).to.throw(
      /cannot be combined with defenses\.dp/,
    );
    expect(aggregationProblems(scenarioWith({ aggregation: { name: 'krum', f: 1, m: 5 } }))).to.deep.equal([]);
  });

  it('clients never see the server-only federation fields, and still validate what they get', () => {
    const s = scenarioWith({ aggregation: 'median', maxExamplesPerUpdate: 50 });
    const sent = publicScenario(s) as { federation: Record<string, unknown> };
    expect(sent.federation).to.not.have.any.keys('aggregation', 'maxExamplesPerUpdate', 'reconnectTimeoutMs');
    expect(validatePublicScenario(sent, 'welcome').federation.clients).to.equal(5);
  });
});

describe('one Byzantine client among five (real client processes, fedavg-mnist reduced)', function () {
  this.timeout(300000);
  const options = { ...ROBUSTNESS_DEFAULTS, rounds: 2, dataLimit: 2000, evalLimit: 400 };
  const env = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };
  const run = (aggregation: unknown, attack: ByzantineAttack | null, rounds = options.rounds): Promise<ByzantineRun> =>
    runWithByzantine(robustnessScenario({ ...options, rounds }, aggregation), attack, env);
  const finalAccuracy = (r: ByzantineRun) => r.rounds[r.rounds.length - 1].testAccuracy;
  let clean = 0;

  before(async () => {
    await initBackend({ quiet: true });
    const r = await run('mean', null);
    clean = finalAccuracy(r);
    expect(clean).to.be.greaterThan(0.7);
  });

  for (const attack of ['zero-1e15', 'all-1e30', 'max-float'] as const) {
    it(`median × ${attack}: the run finishes and accuracy stays within 3 points of the clean run`, async () => {
      const r = await run('median', attack);
      expect(r.status).to.equal('finished');
      expect(r.rounds.map((x) => x.dropped)).to.deep.equal([[], []]);
      expect(finalAccuracy(r)).to.be.at.least(clean - 0.03);
      expect(r.rounds.every((x) => x.aggregation?.rule === 'median')).to.equal(true);
    });
  }

  it('norm-bounded × max-float: the Byzantine update is clipped to M in every round (recorded), accuracy near clean', async () => {
    const r = await run({ name: 'norm-bounded', normBound: 5 }, 'max-float');
    expect(r.status).to.equal('finished');
    for (const x of r.rounds)
      expect(x.aggregation?.adjustments.find((a) => a.client === 'c0')?.reason).to.match(/^L2 norm .* > normBound 5/);
    expect(finalAccuracy(r)).to.be.at.least(clean - 0.03);
  });

  it('mean × zero-1e15: the claim is capped at the shard size and recorded, so the zero update cannot freeze the model', async () => {
    const r = await run('mean', 'zero-1e15');
    for (const x of r.rounds) {
      const capped = x.aggregation?.adjustments.find((a) => a.client === 'c0');
      expect(capped?.action).to.equal('examples-capped');
      expect(capped?.reason).to.match(/^numExamples 1000000000000000 > 320, the most it can have used/);
    }
    expect(finalAccuracy(r)).to.be.at.least(clean - 0.05);
  });

  it('mean × max-float: the aggregate overflows by round 3; it is refused and recorded, the run is not lost', async () => {
    // θ grows by ≈3.4e38 / (Σ n) in round 1, then by 3.4e38 (the Byzantine client alone) per round: Infinity in round 3.
    const r = await run('mean', 'max-float', 3);
    expect(r.status).to.equal('finished');
    expect(r.rounds.map((x) => x.round)).to.deep.equal([1, 2, 3]);
    expect(
      r.rounds.some((x) =>
        /^the aggregate gives (-)?Infinity at parameter \d+; the global model is kept/.test(x.aggregation?.rejectedAggregate ?? ''),
      ),
    ).to.equal(true);
  });

  it('mean × all-1e30: finishes, but the model is destroyed (honest clients drop with NaN from round 2): why robust rules exist', async () => {
    const r = await run('mean', 'all-1e30');
    expect(r.status).to.equal('finished');
    expect(r.rounds[1].dropped).to.deep.equal(['c1', 'c2', 'c3', 'c4']);
    expect(finalAccuracy(r)).to.be.below(0.3);
  });
});
