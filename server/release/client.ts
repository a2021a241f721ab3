/**
 * A client of the prediction protocol (docs/release.md), as an outside attacker would write it:
 * HTTP only, waits out 429 answers (Retry-After), counts every input it sends. Works against any
 * endpoint that speaks the protocol, not only fedleak's.
 */
import type { MonitorFlag } from './monitor';

export interface ModelInfo {
  inputShape: [number, number, number];
  numClasses: number;
  masking: string;
  maxBatch: number;
}

export interface PredictOutput {
  label: number;
  scores: (number | null)[] | null;
}

/** The API refused for good (blocked key, bad key, bad request; status 0: unreachable): retrying will not help. */
export class ApiRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(status === 0 ? `prediction API: ${message}` : `prediction API answered ${status} ${code}: ${message}`);
    this.name = 'UserError';
  }
}

export interface ClientStats {
  /** Inputs in answered requests. */
  queries: number;
  requests: number;
  rateLimited: number;
}

export class PredictClient {
  readonly stats: ClientStats = { queries: 0, requests: 0, rateLimited: 0 };
  private info: ModelInfo | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
    /** Waits between 429 retries; injectable so a caller can cap or log it. */
    private readonly wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private async call(method: 'GET' | 'POST', route: string, body?: string): Promise<unknown> {
    for (;;) {
      const url = new URL(route, this.baseUrl);
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: { authorization: `Bearer ${this.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body,
        });
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
        throw new ApiRefused(0, 'unreachable', `cannot reach ${url.origin} (${cause})`);
      }
      this.stats.requests++;
      const text = await res.text();
      if (res.status === 429) {
        this.stats.rateLimited++;
        const after = Number(res.headers.get('retry-after'));
        await this.wait(1000 * (Number.isFinite(after) && after > 0 ? after : 1));
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiRefused(res.status, 'not-json', `the answer is not JSON: ${text.slice(0, 120)}`);
      }
      if (!res.ok) {
        const e = (parsed as { error?: { code?: string; message?: string } }).error;
        throw new ApiRefused(res.status, e?.code ?? 'error', e?.message ?? text.slice(0, 200));
      }
      return parsed;
    }
  }

  async modelInfo(): Promise<ModelInfo> {
    if (!this.info) this.info = (await this.call('GET', '/v1/model')) as ModelInfo;
    return this.info;
  }

  /** Predicts a batch given flat NHWC values; splits it to respect the server's maxBatch. */
  async predict(values: Float32Array, count: number): Promise<PredictOutput[]> {
    const info = await this.modelInfo();
    const size = values.length / count;
    const out: PredictOutput[] = [];
    for (let start = 0; start < count; start += info.maxBatch) {
      const end = Math.min(count, start + info.maxBatch);
      const inputs: number[][] = [];
      for (let i = start; i < end; i++) inputs.push(Array.from(values.subarray(i * size, (i + 1) * size)));
      const answer = (await this.call('POST', '/v1/predict', JSON.stringify({ inputs }))) as { outputs?: PredictOutput[] };
      if (!Array.isArray(answer.outputs) || answer.outputs.length !== end - start) {
        throw new ApiRefused(200, 'bad-answer', `expected ${end - start} outputs, got ${JSON.stringify(answer).slice(0, 120)}`);
      }
      this.stats.queries += end - start;
      out.push(...answer.outputs);
    }
    return out;
  }
}

/**
 * The attacker's reading of p̃(label) from a masked output: the score when shown; 0 when hidden
 * (top-k: below every shown score); for label-only, 1 when the label is predicted, else 0.
 */
export function observedConfidence(output: PredictOutput, label: number): number {
  if (output.scores === null) return output.label === label ? 1 : 0;
  const s = output.scores[label];
  return typeof s === 'number' ? s : 0;
}

/** The API-traffic fields of a released-model attack's record: what it cost in queries, and whether and when the monitor flagged it. */
export function apiTraffic(client: PredictClient | null, flag: MonitorFlag | null) {
  return {
    queries: client?.stats.queries ?? 0,
    requests: client?.stats.requests ?? 0,
    rateLimited: client?.stats.rateLimited ?? 0,
    flagged: flag !== null,
    flaggedAfterQueries: flag?.afterQueries ?? null,
    ...(flag ? { flagReason: flag.reason } : {}),
  };
}
