/**
 * Inputs-per-second limit per key: a token bucket holding at most one second of inputs, refilled
 * continuously. (Requests per second are @fastify/rate-limit's job; a request's cost here is its
 * batch size, which that plugin cannot weigh.)
 */
export type BudgetAnswer = { ok: true } | { ok: false; retryAfterSeconds: number };

export class InputBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(keyId: string, inputs: number): BudgetAnswer {
    if (this.perSecond <= 0) return { ok: true };
    const t = this.now();
    const b = this.buckets.get(keyId) ?? { tokens: this.perSecond, at: t };
    b.tokens = Math.min(this.perSecond, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.buckets.set(keyId, b);
    if (b.tokens >= inputs) {
      b.tokens -= inputs;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((inputs - b.tokens) / this.perSecond)) };
  }
}
