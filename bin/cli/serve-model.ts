/**
 * `fedleak serve-model --run DIR`: serves a finished run's released model (`<run>/release/`) over
 * the prediction protocol of docs/release.md until interrupted.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../shared/tensor/backend';
import { startPredictionApi } from '../../server/release/api';
import { loadOrCreateKeys } from '../../server/release/keys';
import { loadReleasedModel, RELEASE_DIR } from '../../server/release/model-file';
import { apiSchema, parseMasking, type ApiConfig } from '../../server/release/schema';
import { UserError } from './errors';
import { parsePort } from './options';

interface ServeOptions {
  run: string;
  port: string;
  host: string;
  masking: string;
  requestsPerSecond: string;
  inputsPerSecond: string;
  maxBatch: string;
  monitor: string;
  keys?: string;
  newKeys: string;
}

function count(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min) throw new UserError(`${flag} ${text}: expected an integer ≥ ${min}`);
  return n;
}

export function apiConfigFromOptions(opts: ServeOptions): ApiConfig {
  let masking;
  try {
    masking = parseMasking(opts.masking);
  } catch (err) {
    throw new UserError(`--masking: ${(err as Error).message}`);
  }
  if (!['off', 'log', 'block'].includes(opts.monitor)) throw new UserError(`--monitor ${opts.monitor}: expected off, log or block`);
  return apiSchema.parse({
    host: opts.host,
    port: parsePort(opts.port, '--port'),
    masking,
    requestsPerSecond: count(opts.requestsPerSecond, '--requests-per-second', 0),
    inputsPerSecond: count(opts.inputsPerSecond, '--inputs-per-second', 0),
    maxBatch: count(opts.maxBatch, '--max-batch', 1),
    keys: count(opts.newKeys, '--new-keys', 1),
    monitor: { action: opts.monitor },
  });
}

export function registerServeModelCommand(program: Command): void {
  program
    .command('serve-model')
    .description(
      "serve a finished run's released model over HTTP (POST /v1/predict, API keys, masking, rate limits, query monitor; docs/release.md)",
    )
    .requiredOption('--run <dir>', 'run folder holding release/model.json')
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', '8788')
    .option('--host <host>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--masking <mode>', 'full | top-K | round-D | label-only', 'full')
    .option('--requests-per-second <n>', 'per API key; 0 = unlimited', '50')
    .option('--inputs-per-second <n>', 'per API key; 0 = unlimited', '2000')
    .option('--max-batch <n>', 'largest batch per request', '256')
    .option('--monitor <action>', 'query monitor: off | log | block', 'log')
    .option('--keys <file>', 'API key file (created 0600 if missing; default <run>/release/api-keys.json)')
    .option('--new-keys <n>', 'keys to generate when the key file does not exist', '1')
    .action(async (opts: ServeOptions) => {
      const runDir = path.resolve(opts.run);
      const config = apiConfigFromOptions(opts);
      await initBackend();
      const released = loadReleasedModel(runDir);
      const keysFile = path.resolve(opts.keys ?? path.join(runDir, RELEASE_DIR, 'api-keys.json'));
      const keys = loadOrCreateKeys(keysFile, config.keys);
      const log = path.join(runDir, RELEASE_DIR, 'monitor.log');
      let api;
      try {
        api = await startPredictionApi({
          model: released.model,
          params: released.params,
          config,
          keys: keys.keys.map((k) => k.key),
          onFlag: (flag) => {
            fs.appendFileSync(log, `${JSON.stringify(flag)}\n`);
            process.stderr.write(
              `fedleak serve-model: key ${flag.keyId} flagged: ${flag.reason} after ${flag.afterQueries} queries (${flag.detail})\n`,
            );
          },
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
          throw new UserError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}; choose another --port or --host`);
        throw err;
      }
      process.stdout.write(`${api.url}\n`);
      process.stderr.write(
        `fedleak serve-model: ${released.model.name} on ${api.url}/v1/predict (masking ${opts.masking}); API keys in ${keysFile}; monitor flags to ${log}\n`,
      );
      const stop = () => void api.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
