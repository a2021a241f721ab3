/**
 * The prediction API of a released model (protocol: docs/release.md).
 *
 * Order of the checks, cheapest first, so unauthenticated traffic costs almost nothing: the key
 * (onRequest, before the body is read) → a key the monitor blocked → requests per second
 * (@fastify/rate-limit, preParsing) → the body (bounded size, then JSON) → its shape → inputs per
 * second → the model. Every refusal is JSON {"error": {"code", "message", "field"?}}.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { tf, type Tensor, type Tensor4D } from '../../shared/tensor/tf';
import { INFERENCE_FORWARD, unflattenParams, type Model } from '../../shared/models';
import { KeyRing } from './keys';
import { maskScores } from './masking';
import { QueryMonitor, type MonitorFlag } from './monitor';
import { InputBudget } from './input-budget';
import { InputError, parsePredictBody } from './validate';
import { maskingLabel, type ApiConfig } from './schema';

export const PROTOCOL_VERSION = 'fedleak-predict/1';

export interface PredictionApiOptions {
  model: Model;
  params: Float32Array;
  config: ApiConfig;
  /** The valid API keys (the secrets; the server keeps only their digests). */
  keys: readonly string[];
  /** Called for every monitor flag (logs). */
  onFlag?: (flag: MonitorFlag) => void;
}

export interface PredictionApi {
  url: string;
  port: number;
  monitor: QueryMonitor;
  close(): Promise<void>;
}

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function fail(reply: FastifyReply, status: number, code: string, message: string, field?: string): FastifyReply {
  const body: ErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return reply.code(status).send(body);
}

/** A number of bytes that fits maxBatch inputs written out in full JSON precision, and no more. */
function bodyLimitFor(inputSize: number, maxBatch: number): number {
  return 4096 + maxBatch * inputSize * 26;
}

/** Fastify's own refusals (parser, body size, rate-limit plugin) in the API's error format. */
function installErrorHandlers(app: FastifyInstance, bodyLimit: number, maxBatch: number): void {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 429) return fail(reply, 429, 'rate-limited', err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return fail(reply, 413, 'body-too-large', `request body exceeds ${bodyLimit} bytes (at most ${maxBatch} inputs per request)`, 'body');
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.name === 'SyntaxError')
      return fail(reply, 400, 'malformed-json', `request body is not valid JSON: ${err.message}`, 'body');
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      return fail(reply, 400, 'malformed-json', 'request body is empty; send {"inputs": [...]}', 'body');
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return fail(reply, 415, 'unsupported-media-type', 'send the body as Content-Type: application/json', 'Content-Type');
    if (status >= 400 && status < 500) return fail(reply, status, 'bad-request', err.message);
    return fail(reply, 500, 'internal', 'internal error while answering the request');
  });

  app.setNotFoundHandler((req, reply) =>
    fail(reply, 404, 'not-found', `no route ${req.method} ${req.url}; see POST /v1/predict and GET /v1/model`),
  );
}

/** The key check (onRequest, before the body is read): a missing, unknown or blocked key is refused. */
function installKeyCheck(app: FastifyInstance, ring: KeyRing, monitor: QueryMonitor, keyOf: WeakMap<FastifyRequest, string>): void {
  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization;
    const token = typeof header === 'string' && /^Bearer [^\s]+$/.test(header) ? header.slice(7) : null;
    if (!token)
      return fail(
        reply.header('www-authenticate', 'Bearer'),
        401,
        'unauthorized',
        'missing API key: send the header "Authorization: Bearer <key>"',
        'Authorization',
      );
    const id = ring.identify(token);
    if (!id)
      return fail(
        reply.header('www-authenticate', 'Bearer error="invalid_token"'),
        401,
        'unauthorized',
        'unknown API key',
        'Authorization',
      );
    if (monitor.isBlocked(id)) {
      const f = monitor.flagOf(id) as MonitorFlag;
      return fail(reply, 403, 'blocked', `this API key is blocked by the query monitor (${f.reason} after ${f.afterQueries} queries)`);
    }
    keyOf.set(req, id);
  });
}

/** Requests per second per key (@fastify/rate-limit, preParsing). */
async function registerRateLimit(app: FastifyInstance, config: ApiConfig, keyOf: WeakMap<FastifyRequest, string>): Promise<void> {
  // Awaited: the plugin must be loaded before the routes are declared, or they go unlimited.
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: config.requestsPerSecond > 0 ? config.requestsPerSecond : Number.MAX_SAFE_INTEGER,
    timeWindow: 1000,
    keyGenerator: (req) => keyOf.get(req) ?? req.ip,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      code: 'rate-limited',
      message: `more than ${ctx.max} requests per second for this key; retry after ${ctx.after}`,
    }),
  });
}

/** What the routes need: the model, its parameters, the limits and the per-key state. */
interface RouteContext {
  model: Model;
  config: ApiConfig;
  params: Tensor[];
  maxBatch: number;
  monitor: QueryMonitor;
  budget: InputBudget;
  keyOf: WeakMap<FastifyRequest, string>;
}

/** GET /v1/model: the protocol, the model's shape and the limits. */
function installModelRoute(app: FastifyInstance, ctx: RouteContext): void {
  const { model, config, maxBatch } = ctx;
  app.get('/v1/model', async () => ({
    protocol: PROTOCOL_VERSION,
    model: model.name,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    masking: maskingLabel(config.masking),
    maxBatch,
    requestsPerSecond: config.requestsPerSecond,
    inputsPerSecond: config.inputsPerSecond,
  }));
}

/** The masked scores of a batch; the monitor observes the inputs and the unmasked scores. */
function predict(ctx: RouteContext, id: string, parsed: { batch: number; values: Float32Array }) {
  const { model, config, params, monitor } = ctx;
  const probs = tf.tidy(() => {
    const images = tf.tensor4d(parsed.values, [parsed.batch, ...model.inputShape]) as Tensor4D;
    return tf.softmax(model.apply(params, images, INFERENCE_FORWARD));
  });
  const scores = probs.dataSync() as Float32Array;
  probs.dispose();
  monitor.observe(id, parsed.values, scores, model.numClasses);
  const k = model.numClasses;
  const outputs = Array.from({ length: parsed.batch }, (_, i) => maskScores(scores.subarray(i * k, (i + 1) * k), config.masking));
  return { masking: maskingLabel(config.masking), outputs };
}

/** POST /v1/predict: the body's shape, then inputs per second, then the model. */
function installPredictRoute(app: FastifyInstance, ctx: RouteContext): void {
  const { model, config, maxBatch, budget, keyOf } = ctx;
  app.post('/v1/predict', async (req, reply) => {
    const id = keyOf.get(req) as string;
    let parsed: { batch: number; values: Float32Array };
    try {
      parsed = parsePredictBody(req.body, model.inputShape, maxBatch);
    } catch (err) {
      if (err instanceof InputError) return fail(reply, 400, 'invalid-input', err.message, err.field);
      throw err;
    }
    const allowed = budget.take(id, parsed.batch);
    if (!allowed.ok) {
      reply.header('retry-after', String(allowed.retryAfterSeconds));
      return fail(
        reply,
        429,
        'rate-limited',
        `more than ${config.inputsPerSecond} inputs per second for this key; retry after ${allowed.retryAfterSeconds} s`,
      );
    }
    return predict(ctx, id, parsed);
  });
}

export async function buildPredictionApp(opts: PredictionApiOptions): Promise<{ app: FastifyInstance; monitor: QueryMonitor }> {
  const { model, config } = opts;
  const inputSize = model.inputShape[0] * model.inputShape[1] * model.inputShape[2];
  const maxBatch = config.inputsPerSecond > 0 ? Math.min(config.maxBatch, config.inputsPerSecond) : config.maxBatch;
  const app = Fastify({ logger: false, bodyLimit: bodyLimitFor(inputSize, maxBatch), requestTimeout: 30000, connectionTimeout: 30000 });
  const ring = new KeyRing(opts.keys);
  const monitor = new QueryMonitor(config.monitor, inputSize, opts.onFlag);
  const budget = new InputBudget(config.inputsPerSecond);
  const params: Tensor[] = unflattenParams(opts.params, model.specs);
  const keyOf = new WeakMap<FastifyRequest, string>();
  const ctx: RouteContext = { model, config, params, maxBatch, monitor, budget, keyOf };

  installKeyCheck(app, ring, monitor, keyOf);
  await registerRateLimit(app, config, keyOf);
  installErrorHandlers(app, bodyLimitFor(inputSize, maxBatch), maxBatch);
  installModelRoute(app, ctx);
  installPredictRoute(app, ctx);

  app.addHook('onClose', async () => params.forEach((t) => t.dispose()));
  return { app, monitor };
}

/** Starts the API; binds config.host (loopback by default) and config.port (0: any free port). */
export async function startPredictionApi(opts: PredictionApiOptions): Promise<PredictionApi> {
  const { app, monitor } = await buildPredictionApp(opts);
  await app.listen({ host: opts.config.host, port: opts.config.port });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('prediction API: no TCP address after listen');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, port: address.port, monitor, close: () => app.close() };
}
