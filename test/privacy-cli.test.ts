import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { computeEpsilon } from '../server/dp/rdp-accountant';

// dist/test → repository root
const FEDLEAK = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in its own process. */
function fedleak(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FEDLEAK, ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('fedleak privacy (real process)', () => {
  it('prints epsilon as JSON for the golden vector', async () => {
    const out = await fedleak([
      'privacy',
      '--noise-multiplier',
      '3',
      '--sample-rate',
      '0.2',
      '--steps',
      '50',
      '--delta',
      String(1 / 48000),
      '--json',
    ]);
    expect(out.code, out.stderr).to.equal(0);
    const answer = JSON.parse(out.stdout) as { epsilon: number; noiseMultiplier: number; sampleRate: number; steps: number; delta: number };
    expect(answer.epsilon).to.be.closeTo(2.16, 0.02);
    expect(answer).to.include({ noiseMultiplier: 3, sampleRate: 0.2, steps: 50, delta: 1 / 48000 });
  });

  it('prints a readable line without --json', async () => {
    const out = await fedleak(['privacy', '--noise-multiplier', '3', '--sample-rate', '0.2', '--steps', '50', '--delta', '1e-5']);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.match(/^epsilon = \d+\.\d{4} \(z = 3, q = 0\.2, 50 steps, delta = 0\.00001/);
  });

  it('solves for the noise multiplier with --epsilon', async () => {
    const out = await fedleak(['privacy', '--epsilon', '1.5', '--sample-rate', '0.1', '--steps', '100', '--delta', '1e-5', '--json']);
    expect(out.code, out.stderr).to.equal(0);
    const answer = JSON.parse(out.stdout) as { epsilon: number; noiseMultiplier: number };
    expect(answer.epsilon).to.be.at.most(1.5);
    expect(computeEpsilon(answer.noiseMultiplier * 0.999, 0.1, 100, 1e-5).epsilon).to.be.above(1.5);
  });

  it('rejects bad flags with one paragraph naming the flag and value, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--noise-multiplier', '3', '--sample-rate', '1.5', '--steps', '5', '--delta', '1e-5'],
        /--sample-rate 1\.5: expected a sampling rate q in \(0, 1\]/,
      ],
      [
        ['--noise-multiplier', '-1', '--sample-rate', '0.5', '--steps', '5', '--delta', '1e-5'],
        /--noise-multiplier -1: expected a noise multiplier z > 0/,
      ],
      [
        ['--noise-multiplier', '2', '--sample-rate', '0.5', '--steps', '2.5', '--delta', '1e-5'],
        /--steps 2\.5: expected a positive integer/,
      ],
      [['--noise-multiplier', '2', '--sample-rate', '0.5', '--steps', '5', '--delta', '1'], /--delta 1: expected a delta in \(0, 1\)/],
      [['--noise-multiplier', '2', '--sample-rate', '0.5', '--steps', '5'], /--delta is required/],
      [['--noise-multiplier', '2', '--epsilon', '1', '--sample-rate', '0.5', '--steps', '5', '--delta', '1e-5'], /not both/],
      [['--sample-rate', '0.5', '--steps', '5', '--delta', '1e-5'], /give --noise-multiplier Z .* or --epsilon E/],
      [['--epsilon', '0.0001', '--sample-rate', '0.5', '--steps', '5', '--delta', '1e-5'], /target epsilon 0\.0001 is unreachable/],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => fedleak(['privacy', ...args])));
    outcomes.forEach((out, k) => {
      expect(out.code, cases[k][0].join(' ')).to.equal(1);
      expect(out.stdout).to.equal('');
      expect(out.stderr).to.match(/^fedleak: /);
      expect(out.stderr).to.match(cases[k][1]);
      expect(out.stderr).not.to.match(/internal error|\n\s+at /);
    });
  });
});
