/**
 * The PyTorch peers of `fedleak bench --torch` live in the repository and ship with the package, and
 * each runs the same network as fedleak's side: the DLG peer prints the fields the bench reads, the
 * imported-model IG peer counts the parameters fedleak imports from the model.json the bench saves,
 * and the ResNet peer counts the trained parameters fedleak's `resnet` builds at each depth.
 * The torch parts run Debian's /usr/bin/python3 (python3-torch) and are skipped without torch.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../shared/tensor/backend';
import { definitionFor, modelFromDefinition } from '../shared/models';
import { modelSchema } from '../server/scenario/schema';
import { peerScriptPath } from '../bench/peers';
import { benchIgNetworks, trainedParamCount } from '../bench/ig-resnet';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPTS = ['dlg_torch.py', 'ig_torch.py', 'ig_resnet_torch.py'] as const;
const PYTHON = process.env.FEDLEAK_PYTHON ?? '/usr/bin/python3';

function hasTorch(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60000 });
    return true;
  } catch {
    return false;
  }
}

function runJson(script: string, args: string[]): Record<string, unknown> {
  const out = execFileSync(PYTHON, [peerScriptPath(script as (typeof SCRIPTS)[number]), '--json', ...args], {
    encoding: 'utf8',
    timeout: 120000,
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

describe('bench PyTorch peers', function () {
  this.timeout(240000);
  const torch = hasTorch();

  it('are found from dist/bench and are in the npm package', async () => {
    for (const s of SCRIPTS) expect(fs.existsSync(peerScriptPath(s)), peerScriptPath(s)).to.equal(true);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const listed = await new Promise<string>((resolve, reject) =>
      execFile(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const files = (JSON.parse(listed) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const s of SCRIPTS) expect(files).to.include(`bench/${s}`);
  });

  it('the DLG peer prints the fields the bench reads', function () {
    if (!torch) this.skip();
    const r = runJson('dlg_torch.py', ['--threads', '1', '--steps', '2', '--evals', '2']);
    expect(r.msPerEval).to.be.a('number').above(0);
    expect(r.shape).to.deep.equal([3, 32, 32]);
    expect(r.lbfgsSteps).to.equal(2);
    expect(r.evals).to.be.a('number').above(1);
    expect(r.labelRecovered).to.be.a('boolean');
    expect(r.mse).to.be.a('number');
  });

  it('the imported-model IG peer runs a network with the parameters fedleak imported', async function () {
    if (!torch) this.skip();
    await initBackend({ quiet: true });
    const [r] = await benchIgNetworks({
      quick: true,
      torch: true,
      log: () => undefined,
      cases: (modelJson) => [
        { label: 'imported', model: { name: 'tfjs-layers', path: modelJson }, batch: 2, peer: { net: 'residual-cnn' } },
      ],
    });
    expect(r.error, r.error).to.equal(undefined);
    expect(r.torchError, r.torchError).to.equal(undefined);
    expect(r.params).to.equal(3 * 3 * 3 * 16 + 16 + 3 * 3 * 16 * 16 + 16 + 16 * 16 * 16 * 10 + 10);
    expect(r.torchParams).to.equal(r.params);
    expect(r.torchRatio).to.be.a('number').above(0);
  });

  it("the ResNet peer counts the trained parameters of fedleak's resnet at every depth", function () {
    if (!torch) this.skip();
    for (const [depth, width] of [
      [8, 1],
      [14, 1],
      [20, 1],
      [18, 1],
      [8, 2],
    ]) {
      const config = modelSchema.parse({ name: 'resnet', depth, width });
      const ours = trainedParamCount(modelFromDefinition(definitionFor(config, [32, 32, 3], 10)));
      const peer = runJson('ig_resnet_torch.py', ['--params-only', '--depth', String(depth), '--width', String(width)]);
      expect(peer.params, `depth ${depth} width ${width}`).to.equal(ours);
    }
  });
});
