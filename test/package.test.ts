/**
 * fedleak as a library, as a user gets it: `npm pack` of this checkout, the tarball installed into
 * a scratch project (from the npm cache: no network), then `require('fedleak')` by name from there.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 240000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('the npm package', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-package-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('packs, installs into a scratch project and is imported by name with types', async () => {
    // --ignore-scripts: the build already ran (npm test builds first); prepare would rebuild.
    const packed = await run(NPM, ['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT);
    expect(packed.code, packed.stderr).to.equal(0);
    const tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    expect(tarball, 'no .tgz written').to.be.a('string');

    const project = path.join(tmp, 'scratch');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
    // Offline from the cache; --ignore-scripts: the optional tfjs-node would try to download a binary (and fail offline).
    const installed = await run(
      NPM,
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(tmp, tarball as string)],
      project,
    );
    expect(installed.code, installed.stderr).to.equal(0);

    const pkgDir = path.join(project, 'node_modules', 'fedleak');
    const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { types: string };
    expect(fs.existsSync(path.join(pkgDir, manifest.types)), 'the types file named by package.json').to.equal(true);
    expect(fs.readFileSync(path.join(pkgDir, manifest.types), 'utf8')).to.match(/export declare function runScenario\(/);

    const script = [
      "const fedleak = require('fedleak');",
      "const loaded = fedleak.loadScenario('quickstart', { set: ['federation.rounds=2'] });",
      'console.log(JSON.stringify({',
      '  name: loaded.scenario.name, rounds: loaded.scenario.federation.rounds,',
      '  attacks: fedleak.attacks.names(), scenarios: fedleak.scenarios().length,',
      "  run: typeof fedleak.runScenario, dlg: fedleak.attacks.get('dlg').name,",
      '}));',
    ].join('\n');
    fs.writeFileSync(path.join(project, 'use.js'), script);
    const used = await run(process.execPath, ['use.js'], project);
    expect(used.code, used.stderr).to.equal(0);
    const out = JSON.parse(used.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
    expect(out).to.include({ name: 'quickstart', rounds: 2, run: 'function', dlg: 'dlg' });
    expect(out.attacks).to.include.members(['dlg', 'idlg', 'inverting-gradients', 'analytic']);
    expect(out.scenarios).to.be.greaterThan(5);

    // The CLI still works from the installed package.
    const cli = await run(process.execPath, [path.join(pkgDir, 'bin', 'fedleak.js'), 'scenarios'], project);
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.contain('quickstart');
  });
});
