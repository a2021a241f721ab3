import { expect } from 'chai';
import { z } from 'zod';
import {
  CAPABILITIES,
  DEFAULT_THREAT_MODEL,
  THREAT_MODEL_PRESETS,
  checkAttackAllowed,
  resolveThreatModel,
  threatModelSchema,
} from '../server/observer/threat-model';

describe('threat models as data', () => {
  it('nests the SoK presets as the paper describes them (B ⊂ C ⊂ D ⊂ E, C ⊂ F ⊂ G ⊂ H)', () => {
    const has = (l: keyof typeof THREAT_MODEL_PRESETS) => new Set(THREAT_MODEL_PRESETS[l].capabilities);
    const subset = (a: keyof typeof THREAT_MODEL_PRESETS, b: keyof typeof THREAT_MODEL_PRESETS) => [...has(a)].every((c) => has(b).has(c));
    for (const [a, b] of [
      ['A', 'B'],
      ['B', 'C'],
      ['C', 'D'],
      ['D', 'E'],
      ['C', 'F'],
      ['F', 'G'],
      ['G', 'H'],
    ] as const)
      expect(subset(a, b), `${a} ⊂ ${b}`).to.equal(true);
    expect(THREAT_MODEL_PRESETS.A.capabilities).to.deep.equal(['updates']);
    expect(has('D').has('surrogate-data')).to.equal(true);
    expect(has('F').has('surrogate-data')).to.equal(false);
    expect(has('E').has('modify-model')).to.equal(false);
    expect(has('H').has('add-clients')).to.equal(true);
    for (const l of Object.keys(THREAT_MODEL_PRESETS) as (keyof typeof THREAT_MODEL_PRESETS)[]) {
      for (const c of THREAT_MODEL_PRESETS[l].capabilities) expect(CAPABILITIES).to.have.property(c);
    }
  });

  it('parses a letter, an explicit list, and defaults to an honest-but-curious server', () => {
    const scenario = z.strictObject({ threatModel: threatModelSchema });
    expect(scenario.parse({}).threatModel).to.equal(DEFAULT_THREAT_MODEL);
    expect(resolveThreatModel(scenario.parse({}).threatModel).summary).to.match(/honest-but-curious/);
    expect(scenario.parse({ threatModel: 'F' }).threatModel).to.equal('F');
    expect(scenario.parse({ threatModel: ['updates', 'architecture'] }).threatModel).to.deep.equal(['updates', 'architecture']);
  });

  it('rejects an unknown letter or capability with the field named', () => {
    const scenario = z.strictObject({ threatModel: threatModelSchema });
    for (const bad of ['Z', ['updates', 'telepathy'], []]) {
      const r = scenario.safeParse({ threatModel: bad });
      expect(r.success, JSON.stringify(bad)).to.equal(false);
      if (!r.success) expect(r.error.issues[0].path[0]).to.equal('threatModel');
    }
  });

  it('allows an attack whose needs are granted', () => {
    const r = checkAttackAllowed(['updates', 'architecture'], 'B', 'dlg');
    expect(r).to.deep.equal({ allowed: true, missing: [], message: '' });
  });

  it('names each missing capability and a threat model that would grant it', () => {
    const r = checkAttackAllowed(['updates', 'architecture', 'modify-model'], 'C', 'robbing-the-fed');
    expect(r.allowed).to.equal(false);
    expect(r.missing).to.deep.equal(['modify-model']);
    expect(r.message).to.contain('robbing-the-fed needs modify-model');
    expect(r.message).to.contain('threat model C');
    expect(r.message).to.contain('"F" or "G" or "H"');
  });

  it('checks explicit lists too, and lists every missing capability', () => {
    const r = checkAttackAllowed(['updates', 'architecture', 'labels', 'surrogate-data'], ['updates'], 'x');
    expect(r.missing).to.deep.equal(['architecture', 'labels', 'surrogate-data']);
    expect(r.message).to.contain('the explicit capability list');
    // No preset grants labels: the hint is the explicit list only.
    expect(r.message).not.to.match(/set "threatModel" to/);
    expect(r.message).to.contain('"labels"');
  });
});

describe('cocktail party declares its needs', () => {
  it('plain FastICA runs under B; the mean-image prior needs surrogate data (D)', async () => {
    const { cocktailPartyRequirements } = await import('../server/observer/attacks/cocktail-party');
    expect(checkAttackAllowed(cocktailPartyRequirements({ method: 'fastica' }), 'A').missing).to.deep.equal(['architecture']);
    expect(checkAttackAllowed(cocktailPartyRequirements({ binaryPrior: true }), 'B').allowed).to.equal(true);
    const withMean = checkAttackAllowed(cocktailPartyRequirements({ dataMean: new Float32Array(784) }), 'C', 'cocktail-party');
    expect(withMean.missing).to.deep.equal(['surrogate-data']);
    expect(checkAttackAllowed(cocktailPartyRequirements({ dataMean: new Float32Array(784) }), 'D').allowed).to.equal(true);
  });
});
