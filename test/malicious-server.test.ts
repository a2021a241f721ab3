/**
 * The malicious server end to end (issue 18): real client processes over loopback websockets, real
 * MNIST, real secure aggregation. server.behaviour plants the imprint block or trap weights; the
 * attacks read examples out of plain updates and out of the unmasked aggregate; the clients' guards
 * (client.guards) refuse the planted model and the refusals land in results.json.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateScenario } from '../server/scenario/load';
import { runScenario } from '../server/run';
import type { AttackRecord, RunResults } from '../server/report/results';
import { initBackend } from '../shared/tensor/backend';
import { summaryMarkdown } from '../server/report/summary';

function scenario(over: Record<string, unknown>): ReturnType<typeof validateScenario> {
  return validateScenario(
    {
      name: 'malicious-test',
      seed: 5,
      data: { dataset: 'mnist', partition: 'iid', limit: 400 },
      model: { name: 'lenet-zhu' },
      federation: {
        clients: 4,
        clientsPerRound: 4,
        rounds: 1,
        algorithm: 'fedsgd',
        batchSize: 4,
        learningRate: 0.1,
        clientsPerProcess: 2,
        evalLimit: 50,
        roundTimeoutMs: 60000,
      },
      threatModel: 'G',
      server: { behaviour: 'imprint', bins: 128, publicExamples: 60 },
      attack: { name: 'imprint', rounds: [1], maxTargets: 0, workers: 1 },
      ...over,
    },
    'malicious test',
  );
}

const SECAGG = { secureAggregation: { views: ['aggregate'], stageTimeoutMs: 30000 } };

async function run(over: Record<string, unknown>): Promise<{ results: RunResults; logs: string[] }> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-malicious-'));
  const logs: string[] = [];
  const results = await runScenario(
    { scenario: scenario(over), file: 'malicious-test.json', raw: {} },
    { outDir: out, progress: false, log: (l) => logs.push(l) },
  );
  return { results, logs };
}

function recovered(attacks: readonly AttackRecord[]): number {
  return attacks.reduce((s, a) => s + (a.recovered?.count ?? 0), 0);
}

describe('malicious server: planted models, their attacks and the client guards (real processes)', function () {
  this.timeout(240000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  it('imprint recovers examples from every client update of a plain round', async () => {
    const { results } = await run({});
    expect(results.attacks.map((a) => a.view)).to.deep.equal(['plain', 'plain', 'plain', 'plain']);
    for (const a of results.attacks) expect(a.error, a.error).to.equal(undefined);
    // 16 examples behind 128 bins: most sit alone in their bin and come back exactly.
    expect(recovered(results.attacks)).to.be.greaterThan(8);
    expect(results.attacks[0].recovered?.psnrDb).to.equal(30);
  });

  it('imprint recovers examples from the unmasked aggregate of a secure-aggregation round', async () => {
    const { results } = await run({ defenses: SECAGG });
    expect(results.rounds[0].secureAggregation?.survivors).to.have.length(4);
    expect(results.attacks).to.have.length(1);
    const [a] = results.attacks;
    expect([a.view, a.target, a.recovered?.of]).to.deep.equal(['aggregate', 'aggregate', 16]);
    expect(a.recovered?.count).to.be.greaterThan(8);
    const summary = summaryMarkdown(results);
    expect(summary).to.match(/Server behaviour: imprint — the server put a 128-bin imprint block/);
    expect(summary).to.match(/Secure aggregation: on/);
    expect(summary).to.match(/round 1, aggregate \(aggregate\): \d+ of 16 examples recovered at PSNR ≥ 30 dB/);
  });

  it('the same federation with an honest server: the analytic readout has no dense first layer to read, refused before training', () => {
    // The honest server's only single-example readout needs a dense first layer; lenet-zhu has none, so
    // the scenario is refused at load time and nothing is recovered.
    expect(() =>
      scenario({ server: { behaviour: 'honest' }, attack: { name: 'analytic', rounds: [1], workers: 1 }, defenses: SECAGG }),
    ).to.throw(/dense first layer/);
  });

  it('trap-weights recovers examples from plain updates; the architecture is unchanged', async () => {
    const { results } = await run({
      model: { name: 'mlp', hidden: [300] },
      server: { behaviour: 'trap-weights', publicExamples: 60 },
      attack: { name: 'trap-weights', rounds: [1], workers: 1 },
    });
    expect(results.attacks).to.have.length(4);
    for (const a of results.attacks) expect(a.error, a.error).to.equal(undefined);
    expect(recovered(results.attacks)).to.be.greaterThan(0);
  });

  it('pin-model: every client refuses the imprint model, the round proceeds without them and nothing is recovered', async () => {
    const { results, logs } = await run({ client: { guards: ['pin-model'] } });
    const r = results.rounds[0];
    expect(r.refusals?.map((x) => [x.round, x.client, x.guard])).to.deep.equal([1, 2, 3, 4].map((i) => [1, `c${i - 1}`, 'pin-model']));
    expect(r.refusals?.[0].reason).to.match(/^the model definition sent has hash sha256:[0-9a-f]{64}, not the pinned sha256:/);
    expect(r.dropped).to.have.length(4);
    expect(results.attacks).to.deep.equal([]);
    expect(logs.join('\n')).to.match(/c0 reported guard-refused about round\.start: pin-model: /);
    expect(summaryMarkdown(results)).to.match(/Stopped by: pin-model — no planted-model update reached the server/);
  });

  it('pin-model under secure aggregation: the refusing clients leave the protocol at once, the round aborts, nothing leaks', async () => {
    const { results } = await run({ client: { guards: ['pin-model'] }, defenses: SECAGG });
    const r = results.rounds[0];
    expect(r.refusals).to.have.length(4);
    expect(r.secureAggregation?.aborted).to.match(
      /c0 \(it could not take part: guard-refused: pin-model: the model definition sent has hash/,
    );
    expect(results.attacks).to.deep.equal([]);
  });

  it('inspect-parameters: every client refuses the trapped first layer', async () => {
    const { results } = await run({
      model: { name: 'mlp', hidden: [300] },
      server: { behaviour: 'trap-weights', publicExamples: 60 },
      attack: { name: 'trap-weights', rounds: [1], workers: 1 },
      client: { guards: ['inspect-parameters'] },
    });
    const refusals = results.rounds[0].refusals ?? [];
    expect(refusals.map((x) => x.guard)).to.deep.equal(Array(4).fill('inspect-parameters'));
    expect(refusals[0].reason).to.match(/sign-balanced|positive as negative/);
    expect(results.attacks).to.deep.equal([]);
  });

  it('leakage-gate: each client attacks its own update and refuses to send the imprint-leaky one', async () => {
    const { results } = await run({ client: { guards: ['leakage-gate'] } });
    const refusals = results.rounds[0].refusals ?? [];
    expect(refusals.map((x) => x.guard)).to.deep.equal(Array(4).fill('leakage-gate'));
    expect(refusals[0].reason).to.match(/^RDLV \d+\.\d+ > 1 for local example \d+/);
    expect(results.attacks).to.deep.equal([]);
  });

  it('leakage-gate with an honest server and a conv net: nothing to read, no refusal', async () => {
    const { results } = await run({
      server: { behaviour: 'honest' },
      attack: { name: 'none' },
      client: { guards: ['leakage-gate', 'pin-model', 'inspect-parameters'] },
    });
    expect(results.rounds[0].refusals).to.equal(undefined);
    expect(results.rounds[0].dropped).to.deep.equal([]);
  });

  it('guards on with an honest server: a short fedavg run has no refusal', async () => {
    const { results } = await run({
      model: { name: 'mlp', hidden: [64] },
      server: { behaviour: 'honest' },
      federation: {
        clients: 4,
        clientsPerRound: 4,
        rounds: 3,
        algorithm: 'fedavg',
        batchSize: 8,
        localSteps: 2,
        learningRate: 0.1,
        clientsPerProcess: 2,
        evalLimit: 50,
      },
      attack: { name: 'none' },
      client: { guards: ['pin-model', 'inspect-parameters'] },
    });
    expect(results.rounds).to.have.length(3);
    for (const r of results.rounds) {
      expect(r.refusals).to.equal(undefined);
      expect(r.dropped).to.deep.equal([]);
    }
  });
});
