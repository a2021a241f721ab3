/**
 * A malicious server needs the capability to modify the model (issue 18 item 1): a scenario whose
 * server.behaviour plants a model, or whose attack reads a planted model, is refused at load (before
 * any training) unless its threatModel grants "modify-model"; with preset G it validates.
 */
import { expect } from 'chai';
import { loadScenario, validateScenario } from '../server/scenario/load';
import { getAttackDefinition, requiredCapabilities } from '../server/observer/attacks';

function raw(over: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'threat-model-malicious',
    data: { dataset: 'mnist', partition: 'iid', limit: 400 },
    model: { name: 'lenet-zhu' },
    federation: { clients: 4, clientsPerRound: 4, rounds: 1, algorithm: 'fedsgd', batchSize: 4, learningRate: 0.1 },
    server: { behaviour: 'imprint', bins: 128, publicExamples: 60 },
    attack: { name: 'imprint', rounds: [1], maxTargets: 0 },
    ...over,
  };
}

function refusal(over: Record<string, unknown>): string {
  try {
    validateScenario(raw(over), 'test');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('malicious server: the threat model must grant modify-model', () => {
  it('the planted-model attacks declare modify-model (imprint also the public data its bins are fitted on)', () => {
    const imprint = getAttackDefinition('imprint');
    const trap = getAttackDefinition('trap-weights');
    expect(requiredCapabilities(imprint, {})).to.include.members(['updates', 'architecture', 'modify-model', 'surrogate-data']);
    expect(requiredCapabilities(trap, {})).to.include.members(['updates', 'architecture', 'modify-model']);
  });

  it('imprint under the default threat model C is refused before training, naming modify-model and how to grant it', () => {
    const message = refusal({});
    expect(message).to.match(/server\.behaviour "imprint" needs [^\n]*modify-model \(the ability to send clients a modified model\)/);
    expect(message).to.match(/attack "imprint" needs [^\n]*modify-model/);
    expect(message).to.match(/threat model C/);
    expect(message).to.match(/set "threatModel" to "G" or "H"/);
  });

  it('a planted model is refused even with an attack that does not need it', () => {
    const message = refusal({ server: { behaviour: 'trap-weights', calibrate: false }, attack: { name: 'none' } });
    expect(message).to.match(/server\.behaviour "trap-weights" needs modify-model/);
    expect(message).to.match(/"F" or "G" or "H"/);
  });

  it('preset F lacks the public data imprint fits its bins on: refused naming surrogate-data', () => {
    const message = refusal({ threatModel: 'F' });
    expect(message).to.match(/needs surrogate-data/);
    expect(message).not.to.match(/modify-model \(the ability/);
  });

  it('with threatModel "G" (or an explicit list granting it) imprint and trap-weights validate', () => {
    expect(validateScenario(raw({ threatModel: 'G' }), 'test').server.behaviour).to.equal('imprint');
    const list = ['updates', 'architecture', 'hyperparameters', 'modify-model', 'surrogate-data'];
    expect(validateScenario(raw({ threatModel: list }), 'test').threatModel).to.deep.equal(list);
    const trap = raw({
      threatModel: 'F',
      model: { name: 'mlp', hidden: [300] },
      server: { behaviour: 'trap-weights', calibrate: false },
      attack: { name: 'trap-weights', rounds: [1] },
    });
    expect(validateScenario(trap, 'test').server.behaviour).to.equal('trap-weights');
  });

  it('an honest server under C still validates', () => {
    const honest = raw({
      model: { name: 'mlp', hidden: [64] },
      server: { behaviour: 'honest' },
      attack: { name: 'analytic', rounds: [1] },
    });
    expect(validateScenario(honest, 'test').threatModel).to.equal('C');
  });

  it('the built-in malicious scenarios grant it, and overriding the threat model back to C is refused', () => {
    for (const name of ['malicious-imprint-secagg', 'malicious-imprint-bins-sweep']) {
      expect(loadScenario(name).scenario.threatModel).to.equal('G');
      expect(() => loadScenario(name, ['threatModel="C"'])).to.throw(/server\.behaviour "imprint" needs [^\n]*modify-model/);
    }
  });
});
