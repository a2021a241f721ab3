/** The CLI as a user meets it: real `node bin/fedleak.js` processes, checking exit codes and messages. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildProgram } from '../bin/cli/main';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'fedleak.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function fedleak(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FEDLEAK_DEBUG: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A user-facing failure: non-zero exit, one `fedleak:` message, no stack trace. */
function expectCleanFailure(out: Outcome): void {
  expect(out.code, out.stderr).to.not.equal(0);
  expect(out.stderr).to.match(/^fedleak: /);
  expect(out.stderr).to.not.match(/^ {4}at /m);
  expect(out.stderr).to.not.contain('internal error');
  expect(out.stderr.trim()).to.not.match(/\n\s*\n/); // one paragraph
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function scenarioFile(name: string, content: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('cli', () => {
  it('--help lists every command', async () => {
    const out = await fedleak('--help');
    expect(out.code).to.equal(0);
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).to.include.members(['run', 'scenarios']);
    for (const name of names) expect(out.stdout).to.match(new RegExp(`^\\s+${name}\\b`, 'm'));
  });

  it("--version prints package.json's version", async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const out = await fedleak('--version');
    expect(out.code).to.equal(0);
    expect(out.stdout.trim()).to.equal(pkg.version);
  });

  it('scenarios lists quickstart with its description', async () => {
    const description = (JSON.parse(fs.readFileSync(path.join(ROOT, 'scenarios', 'quickstart.json'), 'utf8')) as { description: string })
      .description;
    expect(description).to.not.equal('');
    const out = await fedleak('scenarios');
    expect(out.code).to.equal(0);
    const line = out.stdout.split('\n').find((l) => l.startsWith('quickstart '));
    expect(line, out.stdout).to.not.equal(undefined);
    expect(line).to.contain(description);
    const json = JSON.parse((await fedleak('scenarios', '--json')).stdout) as { name: string; description: string }[];
    expect(json).to.deep.include({ name: 'quickstart', description });
  });

  it('run of an unknown scenario fails with one paragraph and no stack trace', async () => {
    const out = await fedleak('run', 'nosuchscenario');
    expectCleanFailure(out);
    expect(out.stderr).to.contain('no scenario "nosuchscenario"');
    expect(out.stderr).to.contain('quickstart'); // lists what does exist
    expect(out.stderr.trim().split('\n')).to.have.length(1);
  });

  it('an unknown command fails', async () => {
    const out = await fedleak('nosuchcommand');
    expect(out.code).to.not.equal(0);
    expect(out.stderr).to.contain("unknown command 'nosuchcommand'");
  });

  describe('malformed scenario files name the file and the JSON path', () => {
    const cases: { label: string; content: string; expected: RegExp }[] = [
      { label: 'bad JSON', content: '{\n  "name": "x",\n  "seed": 1,\n}\n', expected: /is not valid JSON: .*line 4, column 1/ },
      { label: 'an unknown field', content: '{"name": "x", "federation": {"roundz": 3}}', expected: /federation: unknown field "roundz"/ },
      {
        label: 'a wrong type',
        content: '{"name": "x", "model": {"hidden": [200, "wide"]}}',
        expected: /model\.hidden\.1: expected number/,
      },
      {
        label: 'a bad enum',
        content: '{"name": "x", "attack": {"name": "gan"}}',
        expected: /attack\.name: expected one of "none", "dlg", "idlg"/,
      },
      { label: 'a JSON array', content: '[1, 2]', expected: /must hold a JSON object/ },
    ];
    cases.forEach(({ label, content, expected }, i) => {
      it(label, async () => {
        const file = scenarioFile(`bad-${i}.json`, content);
        const out = await fedleak('run', file);
        expectCleanFailure(out);
        expect(out.stderr).to.contain(file);
        expect(out.stderr).to.match(expected);
      });
    });
  });

  it('bench --only names an unknown part and lists the parts, ig among them', async () => {
    const out = await fedleak('bench', '--only', 'ig,gpu');
    expectCleanFailure(out);
    expect(out.stderr).to.contain('--only: unknown part gpu; choose from dlg, full, ig, rounds, secagg');
  });

  it('a bad --seed is rejected before anything runs', async () => {
    for (const seed of ['abc', '-1', '1.5', '4294967296']) {
      const out = await fedleak('run', 'quickstart', '--seed', seed);
      expectCleanFailure(out);
      expect(out.stderr).to.contain(`--seed ${seed}: expected an integer from 0 to 4294967295`);
    }
  });

  it('a bad --set names the override', async () => {
    const noEquals = await fedleak('run', 'quickstart', '--set', 'federation.rounds');
    expectCleanFailure(noEquals);
    expect(noEquals.stderr).to.contain('--set "federation.rounds": expected path=value');

    const wrongType = await fedleak('run', 'quickstart', '--set', 'federation.rounds=many');
    expectCleanFailure(wrongType);
    expect(wrongType.stderr).to.contain('--set federation.rounds=many');
    expect(wrongType.stderr).to.match(/federation\.rounds: expected number/);

    const unknown = await fedleak('run', 'quickstart', '--set', 'federation.roundz=2');
    expectCleanFailure(unknown);
    expect(unknown.stderr).to.match(/federation: unknown field "roundz"/);

    const notObject = await fedleak('run', 'quickstart', '--set', 'name.first=2');
    expectCleanFailure(notObject);
    expect(notObject.stderr).to.contain('cannot set name.first: name is not an object');
  });
});
