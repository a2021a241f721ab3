/**
 * Query monitoring per API key. Model inversion through an API needs many queries that differ by
 * tiny steps: finite differences probe x and x + δu, and gradient descent walks x by small steps
 * while one class's score climbs. Benign traffic (distinct real inputs) does neither. Two detectors:
 *
 * - probes: an input whose RMS distance to one of the key's last `window` inputs is positive but at
 *   most `nearDistance` (exact repeats are not probes: resending an input reveals nothing new).
 *   Distances are computed on a 32-dimensional random projection (Johnson–Lindenstrauss), so the
 *   cost per input does not grow with the image size times the window. When the probes' distances
 *   are nearly equal (fixed-step differences along random directions) the flag says
 *   "finite-difference pattern", otherwise "near-duplicate inputs".
 * - climbing: consecutive requests whose first input moved by at most `climbStep` (RMS) and that
 *   raised the same class's probability; `climbThreshold` such requests in a row flag the key.
 */
import { Rng } from '../../shared/random';
import type { MonitorConfig } from './schema';

const SKETCH_DIM = 32;

export type FlagReason = 'finite-difference pattern' | 'near-duplicate inputs' | 'confidence-climbing sequence';

export interface MonitorFlag {
  keyId: string;
  reason: FlagReason;
  /** Inputs the key had sent when it was flagged. */
  afterQueries: number;
  detail: string;
  at: string;
}

interface KeyState {
  queries: number;
  ring: Float32Array;
  ringCount: number;
  ringNext: number;
  /** 1 for each of the last `window` inputs that was a probe, its distance in probeDistance. */
  probeFlags: Uint8Array;
  probeDistance: Float32Array;
  probes: number;
  lastFirst: Float32Array | null;
  lastScores: Float32Array | null;
  climbClass: number;
  climbStreak: number;
  flag: MonitorFlag | null;
}

export class QueryMonitor {
  private readonly keys = new Map<string, KeyState>();
  private readonly projection: Float32Array;

  constructor(
    private readonly config: MonitorConfig,
    private readonly inputSize: number,
    private readonly onFlag: (flag: MonitorFlag) => void = () => {},
  ) {
    // Fixed seed: the projection is not a secret, it only has to be the same for every input.
    const rng = new Rng(0x5eed);
    this.projection = new Float32Array(inputSize * SKETCH_DIM);
    rng.fillNormal(this.projection, 0, 1 / Math.sqrt(SKETCH_DIM));
  }

  get enabled(): boolean {
    return this.config.action !== 'off';
  }

  /** True when the key is flagged and the monitor blocks flagged keys. */
  isBlocked(keyId: string): boolean {
    return this.config.action === 'block' && this.keys.get(keyId)?.flag != null;
  }

  flagOf(keyId: string): MonitorFlag | null {
    return this.keys.get(keyId)?.flag ?? null;
  }

  /** Observes one request: `inputs` flat [n·inputSize], `scores` the unmasked probabilities [n·classes]. */
  observe(keyId: string, inputs: Float32Array, scores: Float32Array, numClasses: number): MonitorFlag | null {
    if (!this.enabled) return null;
    const state = this.stateOf(keyId);
    const n = inputs.length / this.inputSize;
    for (let i = 0; i < n; i++) {
      state.queries++;
      this.observeInput(state, inputs.subarray(i * this.inputSize, (i + 1) * this.inputSize));
      if (!state.flag && state.probes >= this.config.probeThreshold)
        this.raise(
          keyId,
          state,
          this.probeReason(state),
          `${state.probes} of the last ${this.config.window} inputs lie within RMS ${this.config.nearDistance} of an earlier one`,
        );
    }
    this.observeClimb(state, inputs.subarray(0, this.inputSize), scores.subarray(0, numClasses));
    if (!state.flag && state.climbStreak >= this.config.climbThreshold) {
      this.raise(
        keyId,
        state,
        'confidence-climbing sequence',
        `${state.climbStreak} requests in a row moved by small steps and raised class ${state.climbClass}'s score`,
      );
    }
    return state.flag;
  }

  private stateOf(keyId: string): KeyState {
    let s = this.keys.get(keyId);
    if (!s) {
      const w = this.config.window;
      s = {
        queries: 0,
        ring: new Float32Array(w * SKETCH_DIM),
        ringCount: 0,
        ringNext: 0,
        probeFlags: new Uint8Array(w),
        probeDistance: new Float32Array(w),
        probes: 0,
        lastFirst: null,
        lastScores: null,
        climbClass: -1,
        climbStreak: 0,
        flag: null,
      };
      this.keys.set(keyId, s);
    }
    return s;
  }

  private sketch(input: Float32Array): Float32Array {
    const out = new Float32Array(SKETCH_DIM);
    const p = this.projection;
    for (let i = 0; i < input.length; i++) {
      const v = input[i];
      if (v === 0) continue;
      const row = i * SKETCH_DIM;
      for (let j = 0; j < SKETCH_DIM; j++) out[j] += v * p[row + j];
    }
    return out;
  }

  private observeInput(state: KeyState, input: Float32Array): void {
    const s = this.sketch(input);
    let nearest = Infinity;
    for (let r = 0; r < state.ringCount; r++) {
      let d = 0;
      for (let j = 0; j < SKETCH_DIM; j++) {
        const t = s[j] - state.ring[r * SKETCH_DIM + j];
        d += t * t;
      }
      if (d < nearest) nearest = d;
    }
    const rms = Math.sqrt(nearest / this.inputSize);
    const slot = state.ringNext;
    state.probes -= state.probeFlags[slot];
    const probe = rms > 1e-7 && rms <= this.config.nearDistance ? 1 : 0;
    state.probeFlags[slot] = probe;
    state.probeDistance[slot] = probe ? rms : 0;
    state.probes += probe;
    state.ring.set(s, slot * SKETCH_DIM);
    state.ringNext = (slot + 1) % this.config.window;
    state.ringCount = Math.min(state.ringCount + 1, this.config.window);
  }

  /** Fixed-step differences along random directions have nearly equal lengths. */
  private probeReason(state: KeyState): FlagReason {
    const d: number[] = [];
    state.probeFlags.forEach((f, i) => f && d.push(state.probeDistance[i]));
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    return sd / mean < 0.35 ? 'finite-difference pattern' : 'near-duplicate inputs';
  }

  private observeClimb(state: KeyState, first: Float32Array, scores: Float32Array): void {
    const prev = state.lastFirst;
    const prevScores = state.lastScores;
    state.lastFirst = Float32Array.from(first);
    state.lastScores = Float32Array.from(scores);
    if (!prev || !prevScores) return;
    let d = 0;
    for (let i = 0; i < first.length; i++) d += (first[i] - prev[i]) ** 2;
    const moved = Math.sqrt(d / first.length);
    if (moved === 0 || moved > this.config.climbStep) {
      state.climbStreak = 0;
      return;
    }
    // The class whose score rose most; a streak continues only while the same class keeps rising.
    let best = -1;
    let gain = 0;
    for (let c = 0; c < scores.length; c++) if (scores[c] - prevScores[c] > gain) [best, gain] = [c, scores[c] - prevScores[c]];
    if (best >= 0 && best === state.climbClass) state.climbStreak++;
    else [state.climbClass, state.climbStreak] = [best, best >= 0 ? 1 : 0];
  }

  private raise(keyId: string, state: KeyState, reason: FlagReason, detail: string): void {
    state.flag = { keyId, reason, afterQueries: state.queries, detail, at: new Date().toISOString() };
    this.onFlag(state.flag);
  }
}
