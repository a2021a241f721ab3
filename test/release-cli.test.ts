import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { buildModel } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { Rng } from '../shared/random';
import { saveReleasedModel } from '../server/release/model-file';

const FEDLEAK = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`serve-model exited (${code}) before printing its URL: ${err}`)));
  });
}

describe('release: serve-model and invert as real processes', function () {
  this.timeout(60000);
  let dir: string;
  let server: ChildProcess | null = null;

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-release-cli-'))));
  afterEach(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a saved model with a generated 0600 key file, and `invert` inverts a class through it', async () => {
    const config = modelSchema.parse({ name: 'mlp', hidden: [] });
    const model = buildModel(config, [28, 28, 1], 10);
    saveReleasedModel(
      dir,
      config,
      [28, 28, 1],
      10,
      model.initParams(new Rng(4)).map((v) => v * 10),
    );
    server = spawn(process.execPath, [FEDLEAK, 'serve-model', '--run', dir, '--port', '0', '--monitor', 'log'], {
      env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' },
    });
    const url = await firstLine(server);
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const keysFile = path.join(dir, 'release', 'api-keys.json');
    expect(fs.statSync(keysFile).mode & 0o777).to.equal(0o600);
    const key = (JSON.parse(fs.readFileSync(keysFile, 'utf8')) as { keys: { key: string }[] }).keys[0].key;

    expect((await fetch(`${url}/v1/model`)).status).to.equal(401);
    const out = path.join(dir, 'invert');
    const invert = spawn(
      process.execPath,
      [FEDLEAK, 'invert', '--api', url, '--classes', '2', '--iterations', '10', '--threshold', '0', '--out', out],
      {
        env: { ...process.env, FEDLEAK_API_KEY: key },
      },
    );
    let stderr = '';
    invert.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(invert, 'exit')) as [number];
    expect(code, stderr).to.equal(0);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'invert.json'), 'utf8')) as {
      queries: number;
      classes: { label: number; iterations: number }[];
    };
    expect(summary.classes.map((c) => c.label)).to.deep.equal([2]);
    expect(summary.queries).to.equal(21 * summary.classes[0].iterations);
    expect(fs.existsSync(path.join(out, 'inversions.png'))).to.equal(true);
  });

  it('`invert` without a key stops with a one-line explanation', async () => {
    const env = { ...process.env };
    delete env.FEDLEAK_API_KEY;
    const invert = spawn(process.execPath, [FEDLEAK, 'invert', '--api', 'http://127.0.0.1:9'], { env });
    let stderr = '';
    invert.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(invert, 'exit')) as [number];
    expect(code).to.equal(1);
    expect(stderr).to.match(/no API key: give --key KEY or set FEDLEAK_API_KEY/);
  });
});
