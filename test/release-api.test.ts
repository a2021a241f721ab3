import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, type Model } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { Rng } from '../shared/random';
import { startPredictionApi, type PredictionApi } from '../server/release/api';
import { apiSchema, type ApiConfig, type Masking } from '../server/release/schema';
import { generateKey, loadOrCreateKeys } from '../server/release/keys';
import { loadReleasedModel, saveReleasedModel } from '../server/release/model-file';

const SHAPE: [number, number, number] = [4, 4, 1];
const CLASSES = 5;

function tinyModel(): { model: Model; params: Float32Array } {
  const model = buildModel(modelSchema.parse({ name: 'mlp', hidden: [] }), SHAPE, CLASSES);
  const params = model.initParams(new Rng(1));
  // Large weights so that scores are spread out and rounding/top-k visibly change them.
  return { model, params: params.map((v) => v * 20) };
}

function input(seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: 16 }, () => rng.next());
}

interface Answer {
  status: number;
  body: { outputs?: { label: number; scores: (number | null)[] | null }[]; error?: { code: string; message: string; field?: string } };
  headers: Headers;
}

async function post(api: PredictionApi, key: string | null, body: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${api.url}/v1/predict`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers };
}

async function start(key: string, overrides: Partial<ApiConfig> = {}): Promise<PredictionApi> {
  const { model, params } = tinyModel();
  const config = { ...apiSchema.parse({ requestsPerSecond: 0, inputsPerSecond: 0, maxBatch: 8 }), ...overrides };
  return startPredictionApi({ model, params, config, keys: [key] });
}

describe('release: prediction API over loopback HTTP', function () {
  this.timeout(20000);
  const key = generateKey();
  let api: PredictionApi;
  const good = JSON.stringify({ inputs: [input(1), input(2)] });

  before(async () => {
    await initBackend({ quiet: true });
    api = await start(key);
  });
  after(() => api.close());

  it('binds loopback by default', () => {
    expect(api.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers 401 without a key, with a wrong key, and with a malformed Authorization header', async () => {
    for (const k of [null, generateKey(), '']) {
      const a = await post(api, k, good);
      expect(a.status).to.equal(401);
      expect(a.body.error?.code).to.equal('unauthorized');
      expect(a.body.error?.field).to.equal('Authorization');
    }
  });

  it('answers a valid batch with one output per input, scores summing to 1', async () => {
    const a = await post(api, key, good);
    expect(a.status).to.equal(200);
    expect(a.body.outputs).to.have.length(2);
    const scores = a.body.outputs?.[0].scores as number[];
    expect(scores).to.have.length(CLASSES);
    expect(scores.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-5);
    expect(a.body.outputs?.[0].label).to.equal(scores.indexOf(Math.max(...scores)));
  });

  it('accepts nested inputs in the model shape as well as flat ones, with the same answer', async () => {
    const flat = input(3);
    const nested = [0, 1, 2, 3].map((y) => [0, 1, 2, 3].map((x) => [flat[y * 4 + x]]));
    const a = await post(api, key, JSON.stringify({ inputs: [flat] }));
    const b = await post(api, key, JSON.stringify({ inputs: [nested] }));
    expect(b.body.outputs).to.deep.equal(a.body.outputs);
  });

  const badCases: [string, string, string, RegExp][] = [
    ['malformed JSON', '{"inputs": [[0.1, 0.2', 'body', /not valid JSON/],
    ['a wrong input shape', JSON.stringify({ inputs: [input(1).slice(0, 15)] }), 'inputs[0]', /expected 16 numbers.*got an array of 15/],
    ['a wrong nested shape', JSON.stringify({ inputs: [[[[0]], [[0]], [[0]], [[0], [0]]]] }), 'inputs[0][0]', /expected an array of 4/],
    [
      'an oversized batch',
      JSON.stringify({ inputs: Array.from({ length: 9 }, (_, i) => input(i)) }),
      'inputs',
      /batch of 9 inputs exceeds the limit of 8/,
    ],
    [
      'a non-finite number',
      `{"inputs": [[${input(1).slice(0, 5).join(',')},1e999,${input(1).slice(6).join(',')}]]}`,
      'inputs[0][5]',
      /finite number, got Infinity/,
    ],
    [
      'a string instead of a number',
      JSON.stringify({ inputs: [[...input(1).slice(0, 15), 'x']] }),
      'inputs[0][15]',
      /expected a number, got the string "x"/,
    ],
    ['a missing inputs field', JSON.stringify({ input: [input(1)] }), 'input', /unknown field/],
    ['an empty batch', JSON.stringify({ inputs: [] }), 'inputs', /empty batch/],
  ];
  for (const [what, body, field, message] of badCases) {
    it(`answers 400 naming the field for ${what}, and keeps serving`, async () => {
      const a = await post(api, key, body);
      expect(a.status).to.equal(400);
      expect(a.body.error?.field).to.equal(field);
      expect(a.body.error?.message).to.match(message);
      expect((await post(api, key, good)).status).to.equal(200);
    });
  }

  it('answers 413 for a body beyond the size bound, and keeps serving', async () => {
    const huge = JSON.stringify({ inputs: Array.from({ length: 2000 }, (_, i) => input(i)) });
    const a = await post(api, key, huge);
    expect(a.status).to.equal(413);
    expect(a.body.error?.message).to.match(/exceeds \d+ bytes/);
    expect((await post(api, key, good)).status).to.equal(200);
  });
});

describe('release: output masking', function () {
  this.timeout(20000);
  const key = generateKey();
  const body = JSON.stringify({ inputs: [input(7), input(8), input(9)] });
  let full: { label: number; scores: number[] }[];

  before(async () => {
    await initBackend({ quiet: true });
    const api = await start(key);
    full = (await post(api, key, body)).body.outputs as { label: number; scores: number[] }[];
    await api.close();
  });

  async function masked(masking: Masking): Promise<{ label: number; scores: (number | null)[] | null }[]> {
    const api = await start(key, { masking });
    try {
      return (await post(api, key, body)).body.outputs as { label: number; scores: (number | null)[] | null }[];
    } finally {
      await api.close();
    }
  }

  it('round-D rounds every score to D decimals', async () => {
    for (const decimals of [3, 2, 1]) {
      const out = await masked({ mode: 'round', decimals });
      out.forEach((o, i) => {
        expect(o.label).to.equal(full[i].label);
        o.scores?.forEach((s, c) => expect(s).to.equal(Math.round(full[i].scores[c] * 10 ** decimals) / 10 ** decimals));
      });
    }
    // Rounding must actually change something, or the test above proves nothing.
    expect(full.some((o) => o.scores.some((s) => Math.round(s * 10) / 10 !== s))).to.equal(true);
  });

  it('top-k shows only the k largest scores', async () => {
    for (const k of [1, 2]) {
      const out = await masked({ mode: 'top-k', k });
      out.forEach((o, i) => {
        const shown = (o.scores ?? []).map((s, c) => [s, c] as const).filter(([s]) => s !== null);
        expect(shown).to.have.length(k);
        const top = [...full[i].scores].sort((a, b) => b - a).slice(0, k);
        expect(shown.map(([s]) => s).sort((a, b) => (b as number) - (a as number))).to.deep.equal(top);
        expect(o.scores?.[full[i].label]).to.equal(full[i].scores[full[i].label]);
      });
    }
  });

  it('label-only answers the predicted label and no scores', async () => {
    const out = await masked({ mode: 'label-only' });
    out.forEach((o, i) => {
      expect(o.scores).to.equal(null);
      expect(o.label).to.equal(full[i].label);
    });
  });
});

describe('release: rate limits under a bounded loopback load test', function () {
  this.timeout(30000);
  before(() => initBackend({ quiet: true }));

  it('admits at most requestsPerSecond requests per key per window; the others get 429 with Retry-After', async () => {
    const key = generateKey();
    const other = generateKey();
    const { model, params } = tinyModel();
    const api = await startPredictionApi({
      model,
      params,
      keys: [key, other],
      config: apiSchema.parse({ requestsPerSecond: 5, inputsPerSecond: 0 }),
    });
    try {
      const body = JSON.stringify({ inputs: [input(1)] });
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 40 }, () => post(api, key, body)));
      const windows = Math.ceil((performance.now() - started) / 1000) + 1;
      const ok = answers.filter((a) => a.status === 200).length;
      const limited = answers.filter((a) => a.status === 429);
      expect(ok + limited.length).to.equal(40);
      expect(ok)
        .to.be.at.least(5)
        .and.at.most(5 * windows);
      expect(limited.length).to.be.greaterThan(0);
      limited.forEach((a) => {
        expect(Number(a.headers.get('retry-after'))).to.be.greaterThan(0);
        expect(a.body.error?.code).to.equal('rate-limited');
      });
      // Per key: another key is not starved by the first one's burst.
      expect((await post(api, other, body)).status).to.equal(200);
    } finally {
      await api.close();
    }
  });

  it('weighs each request by its batch size for inputsPerSecond', async () => {
    const key = generateKey();
    const { model, params } = tinyModel();
    const api = await startPredictionApi({
      model,
      params,
      keys: [key],
      config: apiSchema.parse({ requestsPerSecond: 0, inputsPerSecond: 20, maxBatch: 8 }),
    });
    try {
      const body = JSON.stringify({ inputs: Array.from({ length: 8 }, (_, i) => input(i)) });
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(api, key, body)));
      const seconds = (performance.now() - started) / 1000;
      const admittedInputs = 8 * answers.filter((a) => a.status === 200).length;
      // A bucket of one second's inputs, refilled at 20/s while the burst lasted.
      expect(admittedInputs)
        .to.be.at.least(16)
        .and.at.most(20 + 20 * seconds);
      expect(answers.some((a) => a.status === 429 && /inputs per second/.test(a.body.error?.message ?? ''))).to.equal(true);
    } finally {
      await api.close();
    }
  });
});

describe('release: key file and released-model file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-release-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the key file with mode 0600 and distinct random keys, and reads it back', () => {
    const file = path.join(dir, 'keys.json');
    const created = loadOrCreateKeys(file, 2);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(created.keys).to.have.length(2);
    expect(created.keys[0].key).to.not.equal(created.keys[1].key);
    expect(loadOrCreateKeys(file).keys.map((k) => k.key)).to.deep.equal(created.keys.map((k) => k.key));
  });

  it('refuses a key file others can read', () => {
    const file = path.join(dir, 'keys.json');
    loadOrCreateKeys(file);
    fs.chmodSync(file, 0o644);
    expect(() => loadOrCreateKeys(file)).to.throw(/readable by others.*chmod 600/);
  });

  it('round-trips a released model and refuses changed parameters', () => {
    const { params } = tinyModel();
    saveReleasedModel(dir, modelSchema.parse({ name: 'mlp', hidden: [] }), SHAPE, CLASSES, params, { testAccuracy: 0.5 });
    const loaded = loadReleasedModel(dir);
    expect(Array.from(loaded.params)).to.deep.equal(Array.from(params));
    expect(loaded.model.numClasses).to.equal(CLASSES);
    const file = path.join(dir, 'release', 'model.params.f32');
    const bytes = fs.readFileSync(file);
    bytes[0] ^= 1;
    fs.writeFileSync(file, bytes);
    expect(() => loadReleasedModel(dir)).to.throw(/SHA-256 differs/);
  });
});
