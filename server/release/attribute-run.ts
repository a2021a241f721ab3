/**
 * One `release.attacks[]` entry `attribute-inference` against a model trained on a CSV table, and its
 * results record. For each attacked record the attacker knows every input but the sensitive column,
 * the marginal prior of that column over the training records, and the evidence the scenario grants
 * (the true label, the API's answer for the real record, or both). It asks the model about the
 * record with each candidate value filled in and takes the MAP value; the baseline takes the most
 * frequent value. Training records (members) and held-out records (non-members) are scored apart.
 */
import { exampleSize, type Dataset } from '../../shared/data';
import type { DataConfig } from '../../shared/data/schema';
import { Rng } from '../../shared/random';
import { baselineAttributeOf, mapFromLogLikelihoods } from './attribute-inference';
import { fillValue, marginalPrior, sensitiveColumn, valueOf, type SensitiveColumn } from './attribute-column';
import { confusionMatrix, labelLogLikelihood, scoresLogLikelihood, type ConfusionMatrix } from './attribute-evidence';
import { ApiOracle, LocalOracle, localProbabilities, type AnswerOracle } from './attribute-oracle';
import { apiTraffic, PredictClient } from './client';
import type { MonitorFlag } from './monitor';
import type { ReleasedTarget } from './run-attack';
import { maskingLabel, type AttributeAttackRecord, type AttributeInferenceConfig, type AttributeScore, type Masking } from './schema';

export type AttributeAccess =
  | { kind: 'white-box' }
  /** key: the attacker's; victimKey: the targets' own key, which fetches their real records' answers (not counted as attack queries). */
  | { kind: 'black-box'; url: string; key: string; victimKey: string; flag?: () => MonitorFlag | null };

export interface AttributeRunOptions {
  config: AttributeInferenceConfig;
  target: ReleasedTarget;
  access: AttributeAccess;
  data: DataConfig;
  train: Dataset;
  heldOut: Dataset;
  seed: number;
}

interface AttackContext {
  config: AttributeInferenceConfig;
  column: SensitiveColumn;
  prior: number[];
  oracle: AnswerOracle;
  observer: AnswerOracle;
  masking: Masking;
  confusion: ConfusionMatrix | null;
  numClasses: number;
}

interface SplitOutcome {
  truth: number[];
  guesses: number[];
}

/** The records of `d` with the sensitive value v written in, every v for each record: records × values examples. */
function candidates(column: SensitiveColumn, d: Dataset, indices: readonly number[]): Float32Array {
  const size = exampleSize(d);
  const count = column.values.length;
  const out = new Float32Array(indices.length * count * size);
  indices.forEach((r, i) => {
    const example = d.images.slice(r * size, (r + 1) * size);
    for (let v = 0; v < count; v++) {
      fillValue(column, example, v);
      out.set(example, (i * count + v) * size);
    }
  });
  return out;
}

function gather(d: Dataset, indices: readonly number[]): Float32Array {
  const size = exampleSize(d);
  const out = new Float32Array(indices.length * size);
  indices.forEach((r, i) => out.set(d.images.subarray(r * size, (r + 1) * size), i * size));
  return out;
}

async function attackSplit(ctx: AttackContext, d: Dataset, indices: readonly number[]): Promise<SplitOutcome> {
  const { column, config } = ctx;
  const count = column.values.length;
  const answers = await ctx.oracle.answer(candidates(column, d, indices), indices.length * count);
  const useLabel = config.evidence !== 'scores';
  const observed = config.evidence === 'label' ? null : await ctx.observer.answer(gather(d, indices), indices.length);
  const guesses = indices.map((r, i) => {
    const logLikelihoods = column.values.map((_, v) => {
      const answer = answers[i * count + v];
      const fromLabel = useLabel ? labelLogLikelihood(answer, d.labels[r], ctx.masking, ctx.confusion) : 0;
      const fromScores = observed ? scoresLogLikelihood(observed[i], answer, ctx.numClasses, config.scoreNoise) : 0;
      return fromLabel + fromScores;
    });
    return mapFromLogLikelihoods(ctx.prior, logLikelihoods).value;
  });
  return { truth: indices.map((r) => valueOf(column, d, r)), guesses };
}

function score(outcome: SplitOutcome, baseline: number): AttributeScore {
  const records = outcome.truth.length;
  const right = outcome.truth.filter((t, i) => t === outcome.guesses[i]).length;
  const baselineRight = outcome.truth.filter((t) => t === baseline).length;
  return { records, attributeAccuracy: records ? right / records : 0, baselineAccuracy: records ? baselineRight / records : 0 };
}

/** A seeded sample of at most maxRecords indices (all when 0). */
function sampleRecords(n: number, maxRecords: number, rng: Rng): number[] {
  if (maxRecords === 0 || n <= maxRecords) return Array.from({ length: n }, (_, i) => i);
  return rng.sample(n, maxRecords).sort((a, b) => a - b);
}

/** π(y | predicted) of the released model on its training records: label-only answers need it. */
function trainingConfusion(target: ReleasedTarget, train: Dataset): ConfusionMatrix {
  const classes = target.model.numClasses;
  const probs = localProbabilities(target, train.images, train.labels.length);
  const predicted = Array.from({ length: train.labels.length }, (_, i) => {
    const row = probs.subarray(i * classes, (i + 1) * classes);
    return row.indexOf(Math.max(...row));
  });
  return confusionMatrix(predicted, train.labels, classes);
}

function perValue(column: SensitiveColumn, prior: number[], outcome: SplitOutcome): AttributeAttackRecord['perValue'] {
  return column.values.map((value, v) => ({
    value,
    prior: prior[v],
    records: outcome.truth.filter((t) => t === v).length,
    correct: outcome.truth.filter((t, i) => t === v && outcome.guesses[i] === v).length,
    guessed: outcome.guesses.filter((g) => g === v).length,
  }));
}

function oracles(o: AttributeRunOptions): { oracle: AnswerOracle; observer: AnswerOracle; client: PredictClient | null } {
  if (o.access.kind === 'white-box') {
    const local = new LocalOracle(o.target);
    return { oracle: local, observer: local, client: null };
  }
  const client = new PredictClient(o.access.url, o.access.key);
  return { oracle: new ApiOracle(client), observer: new ApiOracle(new PredictClient(o.access.url, o.access.victimKey)), client };
}

export async function runAttributeInference(o: AttributeRunOptions): Promise<AttributeAttackRecord> {
  const started = performance.now();
  const column = sensitiveColumn(o.config.sensitive, o.data, [o.train, o.heldOut]);
  const prior = marginalPrior(column, o.train);
  const { oracle, observer, client } = oracles(o);
  const masking = await oracle.masking();
  const needsConfusion = masking.mode === 'label-only' && o.config.evidence !== 'scores';
  const ctx: AttackContext = {
    config: o.config,
    column,
    prior,
    oracle,
    observer,
    masking,
    confusion: needsConfusion ? trainingConfusion(o.target, o.train) : null,
    numClasses: o.target.model.numClasses,
  };
  const rng = new Rng(o.seed).fork('attribute-inference');
  const members = await attackSplit(ctx, o.train, sampleRecords(o.train.labels.length, o.config.maxRecords, rng.fork('members')));
  const others = await attackSplit(ctx, o.heldOut, sampleRecords(o.heldOut.labels.length, o.config.maxRecords, rng.fork('non-members')));
  const pooled = { truth: [...members.truth, ...others.truth], guesses: [...members.guesses, ...others.guesses] };
  const baseline = baselineAttributeOf(prior);
  const flag = o.access.kind === 'black-box' && o.access.flag ? o.access.flag() : null;
  return {
    attack: 'attribute-inference',
    access: o.access.kind,
    masking: maskingLabel(masking),
    sensitive: column.name,
    evidence: o.config.evidence,
    ...score(pooled, baseline),
    members: score(members, baseline),
    nonMembers: score(others, baseline),
    perValue: perValue(column, prior, pooled),
    ...apiTraffic(client, flag),
    seconds: (performance.now() - started) / 1000,
  };
}
