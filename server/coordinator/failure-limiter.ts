/**
 * Per-address rate limit of failed authentications (token bucket): each address may fail `burst`
 * times, then once per 1/`refillPerSecond` seconds. A flood of bad `hello`s then costs one map
 * entry per address instead of a log line and a token lookup each. With 128-bit tokens guessing is
 * hopeless anyway; this bounds the work and the log.
 */
export interface FailureLimiterOptions {
  burst: number;
  refillPerSecond: number;
  /** Addresses remembered at once; the oldest are forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimiterOptions = { burst: 10, refillPerSecond: 1 };

export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly opts: FailureLimiterOptions) {
    this.now = opts.now ?? Date.now;
  }

  private refilled(address: string): Bucket {
    const t = this.now();
    const b = this.buckets.get(address);
    if (!b) return { tokens: this.opts.burst, at: t };
    const tokens = Math.min(this.opts.burst, b.tokens + ((t - b.at) / 1000) * this.opts.refillPerSecond);
    return { tokens, at: t };
  }

  /** True when `address` has used up its failures: refuse it without looking at what it sent. */
  blocked(address: string): boolean {
    return this.refilled(address).tokens < 1;
  }

  /** Seconds until `address` may try again (0 when it may now). */
  retryAfterSeconds(address: string): number {
    const missing = 1 - this.refilled(address).tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.opts.refillPerSecond);
  }

  recordFailure(address: string): void {
    const b = this.refilled(address);
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(address); // re-insert: Map order is then least recently failed first
    this.buckets.set(address, b);
    const max = this.opts.maxAddresses ?? 10000;
    while (this.buckets.size > max) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
