import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyOverride, loadScenario, parseOverride, ScenarioError, validateScenario } from '../server/scenario/load';

function tempScenario(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-scn-'));
  const file = path.join(dir, 's.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('scenario schema', () => {
  it('fills defaults for a minimal scenario', () => {
    const s = validateScenario({ name: 'x' }, 'test');
    expect(s.model.name).to.equal('lenet-zhu');
    expect(s.federation.algorithm).to.equal('fedsgd');
    expect(s.data.dataset).to.equal('mnist');
  });

  it('names the file and JSON path of an unknown field', () => {
    const file = tempScenario({ name: 'x', federation: { rounds: 2, roundz: 3 } });
    expect(() => loadScenario(file)).to.throw(
      ScenarioError,
      new RegExp(`${file.replace(/[/\\.]/g, '.')}[\\s\\S]*federation: unknown field "roundz"`),
    );
  });

  it('names the expected type for a wrong type', () => {
    expect(() => validateScenario({ name: 'x', federation: { rounds: 'five' } }, 'f.json')).to.throw(/federation\.rounds: expected number/);
  });

  it('lists the allowed values for a bad enum', () => {
    expect(() => validateScenario({ name: 'x', federation: { algorithm: 'fedprox' } }, 'f.json')).to.throw(
      /federation\.algorithm: expected one of "fedsgd", "fedavg"/,
    );
  });

  it('fills attack.init field by field and names a bad one', () => {
    expect(validateScenario({ name: 'x' }, 'f.json').attack.init).to.deep.equal({ mean: 0, std: 1 });
    expect(validateScenario({ name: 'x', attack: { init: { mean: 0.1307 } } }, 'f.json').attack.init).to.deep.equal({
      mean: 0.1307,
      std: 1,
    });
    expect(() => validateScenario({ name: 'x', attack: { init: { mean: 0, std: -1 } } }, 'f.json')).to.throw(/attack\.init\.std/);
  });

  it('rejects clientsPerRound above clients', () => {
    expect(() => validateScenario({ name: 'x', federation: { clients: 2, clientsPerRound: 3 } }, 'f.json')).to.throw(
      /clientsPerRound \(3\) exceeds/,
    );
  });

  it('reports a missing scenario with the built-in names', () => {
    expect(() => loadScenario('no-such-scenario-anywhere')).to.throw(
      ScenarioError,
      /no scenario "no-such-scenario-anywhere"[\s\S]*quickstart/,
    );
  });

  it('reports malformed JSON with the file name', () => {
    const file = tempScenario('{ "name": "x", ');
    expect(() => loadScenario(file)).to.throw(ScenarioError, /not valid JSON/);
  });

  it('applies --set overrides as JSON, and strings when not JSON', () => {
    expect(parseOverride('federation.rounds=5')).to.deep.equal({ path: 'federation.rounds', value: 5 });
    expect(parseOverride('attack.name=dlg')).to.deep.equal({ path: 'attack.name', value: 'dlg' });
    expect(() => parseOverride('nonsense')).to.throw(/expected path=value/);
    const obj: Record<string, unknown> = { federation: { rounds: 1 } };
    applyOverride(obj, 'defenses.noise.variance', 0.01);
    expect(obj).to.deep.equal({ federation: { rounds: 1 }, defenses: { noise: { variance: 0.01 } } });
    const loaded = loadScenario('quickstart', ['federation.rounds=7'], 42);
    expect(loaded.scenario.federation.rounds).to.equal(7);
    expect(loaded.scenario.seed).to.equal(42);
  });
});
