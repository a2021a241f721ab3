/** The verdict sentence that opens results.json speaks of every threat that ran, the released model included. */
import { expect } from 'chai';
import { validateScenario } from '../server/scenario/load';
import { assembleResults } from '../server/report/results-writer';
import type { ReleaseResults } from '../server/release/schema';

const scenario = validateScenario({ name: 'verdict-test', federation: { clients: 2, clientsPerRound: 2 } }, 'test');

function release(classAccuracy: number): ReleaseResults {
  const attack = {
    attack: 'mi-face' as const,
    access: 'black-box' as const,
    masking: 'full',
    classAccuracy,
    perClass: [],
    queries: 10,
    requests: 1,
    rateLimited: 0,
    flagged: false,
    flaggedAfterQueries: null,
    seconds: 1,
  };
  return {
    model: { name: 'mlp', testAccuracy: 0.9, params: 10 },
    evaluator: { testAccuracy: 0.9, trainedOn: 10 },
    attacks: [attack, { ...attack, access: 'white-box', classAccuracy: 0.2 }],
  };
}

describe('run verdict', () => {
  const base = {
    scenario,
    scenarioFile: 'test.json',
    backend: { name: 'cpu', fastKernels: true },
    startedAt: '2026-01-01T00:00:00Z',
    rounds: [],
    attacks: [],
  };

  it('names the released model and its best inversion when only the released model was attacked', () => {
    const results = assembleResults({ ...base, release: release(0.8) } as unknown as Parameters<typeof assembleResults>[0]);
    expect(results.verdict?.sentence).to.match(
      /^No update was attacked\. Through the released model, model inversion reconstructed 80 % of the attacked classes recognisably at best \(black-box, outputs full; 2 attacks\)\.$/,
    );
    expect(Object.keys(results).slice(0, 2)).to.deep.equal(['format', 'verdict']);
  });

  it('a verdict carried in from an earlier assembly is replaced by the one of the final parts', () => {
    const early = assembleResults(base as unknown as Parameters<typeof assembleResults>[0]);
    const final = assembleResults({ ...early, release: release(0.5) } as unknown as Parameters<typeof assembleResults>[0]);
    expect(early.verdict?.sentence).to.not.match(/released model/);
    expect(final.verdict?.sentence).to.match(/released model, model inversion reconstructed 50 %/);
  });
});
