/**
 * The folder rules of docs/architecture.md, enforced by dependency-cruiser with the repository's own
 * configuration: the real tree passes, and a scratch tree with each forbidden arrow fails, naming the rule.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string, folders: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DEPCRUISE, ...folders, '--config', CONFIG, '--output-type', 'err'], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: stdout + stderr });
    });
  });
}

/** A scratch tree: `from` imports `to`; both are tiny TypeScript files. */
function scratchTree(from: string, to: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-rules-'));
  for (const file of [from, to]) fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(dir, to), 'export const x = 1;\n');
  const spec = path.relative(path.dirname(path.join(dir, from)), path.join(dir, to)).replace(/\.ts$/, '');
  fs.writeFileSync(path.join(dir, from), `import { x } from '${spec.startsWith('.') ? spec : `./${spec}`}';\nexport const y = x;\n`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true } }));
  return dir;
}

describe('import rules (dependency-cruiser)', () => {
  it('the repository itself has no forbidden import', async () => {
    const out = await cruise(ROOT, ['shared', 'client', 'server', 'bench', 'tools', 'bin', 'test']);
    expect(out.code, out.output).to.equal(0);
  });

  const forbidden: Array<[from: string, to: string, rule: string]> = [
    ['shared/a.ts', 'server/b.ts', 'shared-is-shared'],
    ['shared/a.ts', 'client/b.ts', 'shared-is-shared'],
    ['client/a.ts', 'server/b.ts', 'client-not-server'],
    ['server/a.ts', 'client/b.ts', 'server-not-client'],
    ['server/a.ts', 'bench/b.ts', 'product-not-tools'],
  ];
  for (const [from, to, rule] of forbidden) {
    it(`refuses ${path.dirname(from)} → ${path.dirname(to)} (${rule})`, async () => {
      const dir = scratchTree(from, to);
      try {
        const out = await cruise(dir, [path.dirname(from), path.dirname(to)]);
        expect(out.code, out.output).to.not.equal(0);
        expect(out.output).to.contain(rule);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('allows the arrows the data flow needs (client → shared, bin → server)', async () => {
    for (const [from, to] of [
      ['client/a.ts', 'shared/b.ts'],
      ['bin/a.ts', 'server/b.ts'],
    ]) {
      const dir = scratchTree(from, to);
      try {
        const out = await cruise(dir, [path.dirname(from), path.dirname(to)]);
        expect(out.code, out.output).to.equal(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
