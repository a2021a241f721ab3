/**
 * A federation with one Byzantine client, for the robustness tests and `fedleak bench --only
 * robustness`: the honest clients are real `fedleak client` processes; the Byzantine one is a
 * websocket peer here that authenticates with its real token and answers every `round.start` with
 * a crafted update, speaking the wire protocol.
 */
import WebSocket from 'ws';
import type { Scenario } from '../server/scenario/schema';
import type { RoundRecord } from '../server/report/results';
import { runRounds, startCoordinator, tokenList } from '../server/coordinator';
import { spawnClientProcesses } from '../server/run/spawn';
import { decodeFrame, encodeMessage } from '../shared/wire';
import { updateKindFor } from '../shared/training';

/** The three attacks of issue 14's finding 1. */
export const BYZANTINE_ATTACKS = {
  /** A zero update claiming 1e15 examples: freezes an example-weighted mean. */
  'zero-1e15': { fill: 0, numExamples: 1e15 },
  /** Every value 1e30: finite, but pushes the model to where honest clients get NaN. */
  'all-1e30': { fill: 1e30, numExamples: 1 },
  /** Every value 3.4e38 (near float32's maximum): sums overflow to Infinity. */
  'max-float': { fill: 3.4e38, numExamples: 1 },
} as const;

export type ByzantineAttack = keyof typeof BYZANTINE_ATTACKS;

/** Joins as the owner of `token`, then answers each round.start with the attack's update. */
export function byzantinePeer(url: string, token: string, attack: ByzantineAttack): Promise<WebSocket> {
  const { fill, numExamples } = BYZANTINE_ATTACKS[attack];
  const ws = new WebSocket(url);
  ws.on('message', (data: Buffer) => {
    const msg = decodeFrame(data, 'client');
    if (msg.type === 'welcome') ws.send(encodeMessage({ type: 'ready' }));
    if (msg.type !== 'round.start') return;
    const update = new Float32Array(msg.params.length).fill(fill);
    ws.send(encodeMessage({ type: 'update', round: msg.round, kind: updateKindFor(msg.algorithm), numExamples, update }));
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(encodeMessage({ type: 'hello', token, agent: `byzantine/${attack}` }));
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

export interface ByzantineRun {
  rounds: RoundRecord[];
  finalParams: Float32Array;
  status: 'finished' | 'aborted';
  logs: string[];
}

/**
 * Runs `scenario` with client c0 Byzantine (`attack`), or all honest (null); the other clients are
 * real client processes, `clientsPerProcess` per process.
 */
export async function runWithByzantine(
  scenario: Scenario,
  attack: ByzantineAttack | null,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ByzantineRun> {
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const c = await startCoordinator(scenario, { port: 0, host: '127.0.0.1', log });
  const url = `ws://127.0.0.1:${c.port}`;
  const tokens = tokenList(c.tokens);
  const honest = attack ? tokens.slice(1) : tokens;
  const processes = spawnClientProcesses(url, honest, scenario.federation.clientsPerProcess, env);
  const peer = attack ? await byzantinePeer(url, tokens[0], attack) : null;
  try {
    await Promise.race([c.hub.waitForReady(tokens.length, 120000), processes.failed]);
    const result = await runRounds({
      scenario,
      hub: c.hub,
      model: c.model,
      paramCount: c.paramCount,
      test: c.test,
      initialParams: c.initialParams,
      observe: () => undefined,
      exampleCap: c.exampleCap,
      log,
    });
    return { ...result, logs };
  } finally {
    peer?.terminate();
    await c.hub.close('run over', 2000);
    await processes.stop(5000);
  }
}
