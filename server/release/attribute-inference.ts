/**
 * Attribute inference from a released model (Fredrikson et al., USENIX Security 2014, warfarin →
 * genotype). The attacker knows the model f, a target's output y and the target's other
 * attributes, the marginal prior p(v) of the sensitive attribute and the model's error
 * distribution. The MAP estimate is
 *
 *   v̂ = argmax_v  P_err(y − f(v, x_known)) · p(v)
 *
 * against the baseline that ignores the model: argmax_v p(v). Errors here are Gaussian with the
 * residual standard deviation on the training data. The classifiers of the CSV loader plug their own
 * likelihoods into mapFromLogLikelihoods (attribute-evidence.ts, attribute-run.ts).
 */

export interface AttributeModel {
  /** f: a full row (every column filled) → the model's numeric output. */
  predict(row: Float64Array): number;
  /** Standard deviation of y − f(x) on the training data. */
  errorStd: number;
}

export interface SensitiveAttribute {
  /** Number of values the attribute takes. */
  values: number;
  /** Marginal prior p(v), one entry per value (need not be normalised). */
  prior: readonly number[];
  /** Writes value v into a copy of the row (e.g. its one-hot columns). */
  fill(row: Float64Array, v: number): void;
}

export interface AttributeGuess {
  value: number;
  /** Posterior over the values, normalised. */
  posterior: number[];
}

function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The MAP estimate from the prior and each value's log-likelihood of what the attacker observed:
 * posterior(v) ∝ p(v) · exp(logLikelihood(v)). Log space, so poor fits do not underflow to 0 for every value.
 */
export function mapFromLogLikelihoods(prior: readonly number[], logLikelihoods: readonly number[]): AttributeGuess {
  if (prior.length !== logLikelihoods.length)
    throw new Error(`attribute inference: prior has ${prior.length} entries for ${logLikelihoods.length} values`);
  const logScores = prior.map((p, v) => Math.log(p) + logLikelihoods[v]);
  const top = Math.max(...logScores);
  // Every value impossible (all priors 0): fall back to the prior's own order.
  if (!Number.isFinite(top)) return { value: argMax(prior), posterior: prior.map(() => 1 / prior.length) };
  const weights = logScores.map((s) => Math.exp(s - top));
  const total = weights.reduce((a, b) => a + b, 0);
  const posterior = weights.map((w) => w / total);
  return { value: argMax(posterior), posterior };
}

/** Fredrikson 2014's estimator for a regression model: Gaussian error P_err(y − f(v, x_known)). */
export function mapAttribute(model: AttributeModel, attribute: SensitiveAttribute, known: Float64Array, y: number): AttributeGuess {
  if (attribute.prior.length !== attribute.values)
    throw new Error(`attribute inference: prior has ${attribute.prior.length} entries for ${attribute.values} values`);
  if (!(model.errorStd > 0)) throw new Error(`attribute inference: errorStd must be positive, got ${model.errorStd}`);
  const logLikelihoods = attribute.prior.map((_, v) => {
    const row = Float64Array.from(known);
    attribute.fill(row, v);
    const r = (y - model.predict(row)) / model.errorStd;
    return -0.5 * r * r;
  });
  return mapFromLogLikelihoods(attribute.prior, logLikelihoods);
}

/** The prior-only baseline: the most probable value, whatever the model says. */
export function baselineAttribute(attribute: SensitiveAttribute): number {
  return baselineAttributeOf(attribute.prior);
}

export function baselineAttributeOf(prior: readonly number[]): number {
  return argMax(prior);
}
