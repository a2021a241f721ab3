/**
 * Tokens at rest and in transit to a client (findings 8) and the client's evaluation-channel opt-in
 * (finding 6), with real `fedleak` processes and a scripted coordinator on loopback.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { validateScenario } from '../server/scenario/load';
import { buildModel, paramCount } from '../shared/models';
import { decodeFrame, encodeMessage, type WireMessage } from '../shared/wire';
import { publicScenario } from '../server/coordinator/setup';
import { generateTokens, writeTokensFile, TokensFileError } from '../server/coordinator/tokens';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');
const CHILD_ENV = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };

const SCENARIO = validateScenario(
  {
    name: 'guard-test',
    seed: 5,
    data: { dataset: 'synthetic', shape: [6, 6, 1], classes: 3, size: 60, testFraction: 0.2 },
    model: { name: 'mlp', hidden: [4] },
    federation: { clients: 1, clientsPerRound: 1, rounds: 1, algorithm: 'fedsgd', batchSize: 2, learningRate: 0.1 },
    attack: { name: 'none' },
  },
  'guard test',
);
const PARAMS = paramCount(buildModel(SCENARIO.model, [6, 6, 1], 3).specs);

interface Exchange {
  tokens: string[];
  /** Client messages after `update`, as "type" or "error:code:requestId". */
  answers: string[];
  stderr: string;
  exitCode: number | null;
}

/**
 * A scripted coordinator: welcome, one fedsgd round, then the two evaluation requests, then
 * shutdown; records the tokens the client presented and what it answered.
 */
async function coordinate(args: string[], env: NodeJS.ProcessEnv = CHILD_ENV): Promise<Exchange> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as { port: number }).port;
  const tokens: string[] = [];
  const answers: string[] = [];
  const send = (ws: WebSocket, m: WireMessage) => ws.send(encodeMessage(m));
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const msg = decodeFrame(data, 'server');
      if (msg.type === 'hello') {
        tokens.push(msg.token);
        send(ws, {
          type: 'welcome',
          clientId: 'c0',
          clientIndex: 0,
          scenario: publicScenario(SCENARIO),
          paramCount: PARAMS,
          maxFrameBytes: 1 << 20,
        });
        // A hostile server's text must not forge lines in the client's log.
        send(ws, { type: 'error', code: 'internal', message: 'x\nc0: forged line\u001b[2J' });
      } else if (msg.type === 'ready') {
        send(ws, {
          type: 'round.start',
          round: 1,
          algorithm: 'fedsgd',
          learningRate: 0.1,
          batchSize: 2,
          localSteps: 1,
          localEpochs: 0,
          timeoutMs: 10000,
          params: new Float32Array(PARAMS),
        });
      } else if (msg.type === 'update') {
        send(ws, { type: 'eval.truth-request', requestId: 7, round: 1 });
      } else {
        answers.push(msg.type === 'error' ? `error:${msg.code}:${msg.requestId ?? '-'}` : msg.type);
        if (answers.length === 1)
          ws.send(encodeMessage({ type: 'eval.secagg-input-request', requestId: 8, round: 1 } as unknown as WireMessage));
        else send(ws, { type: 'shutdown', reason: 'test over' });
      }
    });
  });
  const child = spawn(process.execPath, [BIN, 'client', '--server', `ws://127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  return { tokens, answers, stderr, exitCode };
}

describe('tokens and the evaluation channel (real processes)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-tokens-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the tokens file 0600 even under umask 000, rewrites an owner-only file as 0600, refuses a world-readable one untouched', () => {
    const file = path.join(dir, 'tokens.txt');
    const old = process.umask(0);
    try {
      writeTokensFile(file, generateTokens(2));
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    fs.chmodSync(file, 0o700); // owner-only but not 0600: rewritten as 0600
    writeTokensFile(file, generateTokens(3));
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).to.have.length(3);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    fs.chmodSync(file, 0o644);
    const before = fs.readFileSync(file, 'utf8');
    expect(() => writeTokensFile(file, generateTokens(1))).to.throw(TokensFileError, /mode 0644: other users can read it/);
    expect(fs.readFileSync(file, 'utf8')).to.equal(before);
  });

  it('fedleak server --tokens refuses a world-readable file at once, before loading anything', async () => {
    const file = path.join(dir, 'tokens.txt');
    fs.writeFileSync(file, 'old\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const child = spawn(process.execPath, [BIN, 'server', '--scenario', 'quickstart', '--port', '0', '--tokens', file, '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: CHILD_ENV,
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).to.not.equal(0);
    expect(stderr)
      .to.match(/tokens file .*tokens\.txt has mode 0644/)
      .and.not.match(/internal error|listening/);
    expect(fs.readFileSync(file, 'utf8')).to.equal('old\n');
  });

  it('a remote fedleak client takes its token from --token-file, refuses both evaluation requests and says so in its log', async () => {
    const file = path.join(dir, 'mine.txt');
    fs.writeFileSync(file, '# from the server\nc0 tok-from-file\n', { mode: 0o600 });
    const out = await coordinate(['--token-file', file]);
    expect(out.exitCode, out.stderr).to.equal(0);
    expect(out.tokens).to.deep.equal(['tok-from-file']);
    expect(out.answers).to.deep.equal(['error:unavailable:7', 'error:unavailable:8']);
    expect(out.stderr).to.match(/c0: refused eval\.truth-request for round 1: the evaluation channel is off/);
    expect(out.stderr).to.match(/c0: refused eval\.secagg-input-request/);
    expect(out.stderr)
      .to.include('x\\u000ac0: forged line\\u001b[2J')
      .and.not.match(/^c0: forged line/m);
  });

  it('with --allow-evaluation (and the token from FEDLEAK_TOKEN) the client answers the ground-truth request', async () => {
    const out = await coordinate(['--allow-evaluation'], { ...CHILD_ENV, FEDLEAK_TOKEN: 'tok-from-env' });
    expect(out.exitCode, out.stderr).to.equal(0);
    expect(out.tokens).to.deep.equal(['tok-from-env']);
    // Without secure aggregation in the scenario a plain-input request is simply not understood.
    expect(out.answers).to.deep.equal(['eval.truth', 'error:unknown-type:-']);
  });

  it('refuses a --token-file others can read, and keeps comma-separated --token working', async () => {
    const file = path.join(dir, 'open.txt');
    fs.writeFileSync(file, 'tok\n');
    fs.chmodSync(file, 0o644);
    const refused = await coordinate(['--token-file', file]);
    expect(refused.exitCode).to.not.equal(0);
    expect(refused.stderr).to.match(/--token-file .*open\.txt has mode 0644/);
    expect(refused.tokens).to.deep.equal([]);
    const plain = await coordinate(['--token', 'tok-a', '--count', '1']);
    expect(plain.tokens).to.deep.equal(['tok-a']);
  });
});
