/**
 * The client side of secure aggregation (Bonawitz et al. 2017) as a transport-agnostic state machine:
 * feed it each server message, send back what it returns. One instance per round (keys, seeds and
 * shares are fresh every round). It checks everything it is told — round numbers, membership,
 * thresholds, the authenticity of every relayed share — and throws a SecAggError rather than answer a
 * request an honest client must not answer; in particular it never reveals both the seed share and the
 * key share of the same peer.
 */
import type { Rng } from '../random';
import { agree, bytesEqual, commitSeed, generateKeyPair, KEY_BYTES, open, prgWords, randomSeed, seal, type KeyPair } from './crypto';
import { SecAggError } from './errors';
import { buildPairingGraph, type PairingGraph } from './graph';
import {
  parseServerMessage,
  type AdvertiseKeys,
  type AdvertiseRequest,
  type MaskedInput,
  type MaskedInputRequest,
  type Refuse,
  type SecAggClientMessage,
  type ShareKeys,
  type ShareKeysRequest,
  type Unmask,
  type UnmaskRequest,
} from './messages';
import { addInto, checkHeadroom, quantize, subtractInto, wordsToBytes } from './quantize';
import { shareSecret } from './shamir';

export const SHARE_BYTES = KEY_BYTES + 1;

/** Associated data of the encrypted shares u → v: a ciphertext is only valid for its sender, recipient and round. */
export function shareAad(round: number, from: string, to: string): string {
  return `fedleak-secagg/v1 shares round=${round} from=${from} to=${to}`;
}

type ClientStage = 'idle' | 'advertised' | 'shared' | 'masked' | 'unmasked' | 'aborted';

interface PeerKeys {
  encryptionKey: Uint8Array;
  maskKey: Uint8Array;
}

interface HeldShares {
  seed: Uint8Array;
  key: Uint8Array;
}

export interface SecAggClientOptions {
  clientId: string;
  /** Draws the stochastic rounding of the quantiser (seeded, so runs reproduce). */
  rng: Rng;
  /** The update to aggregate; may also be given later with setInput, before MaskedInputCollection. */
  input?: Float32Array;
  /** Examples behind the input, declared with the masked input. */
  numExamples?: number;
}

export class SecAggClient {
  readonly clientId: string;
  private readonly rng: Rng;
  private input: Float32Array | undefined;
  private numExamples: number;
  private stage: ClientStage = 'idle';
  private params: AdvertiseRequest | undefined;
  private graph: PairingGraph | undefined;
  private encryption: KeyPair | undefined;
  private masking: KeyPair | undefined;
  private readonly peers = new Map<string, PeerKeys>();
  /** Share-encryption keys agreed with each peer (used at ShareKeys and again at MaskedInputCollection). */
  private readonly channelKeys = new Map<string, Uint8Array>();
  private seed: Uint8Array | undefined;
  /** Shares this client holds, by owner (itself included). */
  private readonly held = new Map<string, HeldShares>();
  private survivorsAtMasking: Set<string> | undefined;
  /** What this client has revealed about each owner; guards "never both". */
  private readonly revealed = new Map<string, 'seed' | 'key'>();
  /** Entries of the input that exceeded the clipping range. */
  clipped = 0;

  constructor(options: SecAggClientOptions) {
    this.clientId = options.clientId;
    this.rng = options.rng;
    this.input = options.input;
    this.numExamples = options.numExamples ?? 1;
  }

  get currentStage(): ClientStage {
    return this.stage;
  }

  setInput(input: Float32Array, numExamples = this.numExamples): void {
    this.input = input;
    this.numExamples = numExamples;
  }

  /**
   * Handles one server message; returns the reply, or null when none is due (abort). Any refusal is
   * turned into a `secagg.refuse` reply and this client stops taking part in the round.
   */
  async respond(message: unknown): Promise<SecAggClientMessage | null> {
    try {
      return await this.handle(message);
    } catch (err) {
      if (!(err instanceof SecAggError)) throw err;
      const round = this.params?.round ?? roundOf(message);
      this.stage = 'aborted';
      const refusal: Refuse = { type: 'secagg.refuse', round, clientId: this.clientId, reason: err.message };
      return refusal;
    }
  }

  /** Like respond, but throws the SecAggError (for callers and tests that want the reason). */
  async handle(raw: unknown): Promise<SecAggClientMessage | null> {
    const message = parseServerMessage(raw);
    if (this.stage === 'aborted') throw new SecAggError(`${this.clientId}: the round was aborted; ignoring ${message.type}`);
    if (message.type !== 'secagg.advertise-request') this.checkRound(message.round, message.type);
    switch (message.type) {
      case 'secagg.advertise-request':
        return this.advertise(message);
      case 'secagg.share-keys-request':
        return this.shareKeys(message);
      case 'secagg.masked-input-request':
        return this.maskedInput(message);
      case 'secagg.unmask-request':
        return this.unmask(message);
      case 'secagg.abort':
        this.stage = 'aborted';
        return null;
    }
  }

  private checkRound(round: number, type: string): void {
    if (!this.params) throw new SecAggError(`${this.clientId}: ${type} before AdvertiseKeys; no round in progress`);
    if (round !== this.params.round) {
      throw new SecAggError(`${this.clientId}: ${type} is for round ${round}, but this client is in round ${this.params.round}`);
    }
  }

  private channelKey(peer: string): Uint8Array {
    let key = this.channelKeys.get(peer);
    if (!key) {
      key = agree(this.encryption!.secretKey, this.peers.get(peer)!.encryptionKey, 'share-encryption');
      this.channelKeys.set(peer, key);
    }
    return key;
  }

  private expectStage(expected: ClientStage, type: string): void {
    if (this.stage !== expected)
      throw new SecAggError(`${this.clientId}: unexpected ${type} in stage ${this.stage} of round ${this.params?.round}`);
  }

  private advertise(m: AdvertiseRequest): AdvertiseKeys {
    if (this.stage !== 'idle') {
      throw new SecAggError(
        `${this.clientId}: AdvertiseKeys for round ${m.round}, but this session already runs round ${this.params?.round}`,
      );
    }
    if (!m.participants.includes(this.clientId)) {
      throw new SecAggError(`${this.clientId}: not among the participants of round ${m.round}`);
    }
    if (m.threshold > m.participants.length) {
      throw new SecAggError(
        `${this.clientId}: threshold ${m.threshold} exceeds the ${m.participants.length} participants of round ${m.round}`,
      );
    }
    checkHeadroom(m, m.participants.length);
    this.params = m;
    this.graph = buildPairingGraph(m.participants, m.threshold, m.neighbours, m.graphSeed);
    this.encryption = generateKeyPair();
    this.masking = generateKeyPair();
    this.stage = 'advertised';
    return {
      type: 'secagg.advertise-keys',
      round: m.round,
      clientId: this.clientId,
      encryptionKey: this.encryption.publicKey,
      maskKey: this.masking.publicKey,
    };
  }

  private async shareKeys(m: ShareKeysRequest): Promise<ShareKeys> {
    this.expectStage('advertised', m.type);
    const params = this.params!;
    const graph = this.graph!;
    const me = this.clientId;
    const neighbours = graph.neighbours(me);
    const seen = new Set<string>();
    const keys: Uint8Array[] = [];
    for (const k of m.keys) {
      if (seen.has(k.clientId)) throw new SecAggError(`${me}: ShareKeys of round ${params.round} lists ${k.clientId} twice`);
      seen.add(k.clientId);
      if (!graph.participants.includes(k.clientId)) {
        throw new SecAggError(`${me}: ShareKeys of round ${params.round} lists ${k.clientId}, who is not a participant`);
      }
      if (k.encryptionKey.length !== KEY_BYTES || k.maskKey.length !== KEY_BYTES) {
        throw new SecAggError(`${me}: public keys of ${k.clientId} are not ${KEY_BYTES} bytes`);
      }
      for (const other of keys) {
        if (bytesEqual(other, k.encryptionKey) || bytesEqual(other, k.maskKey)) {
          throw new SecAggError(`${me}: ShareKeys of round ${params.round} repeats a public key (${k.clientId}); keys must be distinct`);
        }
      }
      keys.push(k.encryptionKey, k.maskKey);
      if (k.clientId === me) {
        if (!bytesEqual(k.encryptionKey, this.encryption!.publicKey) || !bytesEqual(k.maskKey, this.masking!.publicKey)) {
          throw new SecAggError(`${me}: the server relayed public keys for me that I did not advertise`);
        }
      } else if (neighbours.has(k.clientId)) {
        this.peers.set(k.clientId, { encryptionKey: k.encryptionKey, maskKey: k.maskKey });
      }
    }
    if (!seen.has(me)) throw new SecAggError(`${me}: ShareKeys of round ${params.round} does not list my own keys`);
    if (graph.complete && seen.size < params.threshold) {
      throw new SecAggError(`${me}: only ${seen.size} clients advertised keys in round ${params.round}; threshold is ${params.threshold}`);
    }
    const recipients = graph.participants.filter((id) => id === me || this.peers.has(id));
    const t = graph.shamirThreshold(me);
    if (recipients.length < t) {
      throw new SecAggError(
        `${me}: only ${recipients.length} of my neighbourhood advertised keys in round ${params.round}; ${t} needed to share secrets`,
      );
    }
    this.seed = randomSeed();
    const seedShares = await shareSecret(this.seed, recipients.length, t);
    const keyShares = await shareSecret(this.masking!.secretKey, recipients.length, t);
    const shares: ShareKeys['shares'] = [];
    recipients.forEach((v, i) => {
      if (v === me) {
        this.held.set(me, { seed: seedShares[i]!, key: keyShares[i]! });
        return;
      }
      const key = this.channelKey(v);
      const plaintext = new Uint8Array(2 * SHARE_BYTES);
      plaintext.set(seedShares[i]!, 0);
      plaintext.set(keyShares[i]!, SHARE_BYTES);
      shares.push({ to: v, ciphertext: seal(key, plaintext, shareAad(params.round, me, v)) });
    });
    this.stage = 'shared';
    return {
      type: 'secagg.share-keys',
      round: params.round,
      clientId: me,
      seedCommitment: commitSeed(this.seed, params.round, me),
      shares,
    };
  }

  private maskedInput(m: MaskedInputRequest): MaskedInput {
    this.expectStage('shared', m.type);
    const params = this.params!;
    const graph = this.graph!;
    const me = this.clientId;
    const survivors = uniqueSet(m.survivors, `${me}: MaskedInputCollection survivors`);
    if (!survivors.has(me))
      throw new SecAggError(`${me}: MaskedInputCollection of round ${params.round} does not list me among the survivors`);
    if (survivors.size < params.threshold) {
      throw new SecAggError(`${me}: only ${survivors.size} clients shared keys in round ${params.round}; threshold is ${params.threshold}`);
    }
    const expected = new Set<string>();
    for (const v of survivors) {
      if (!graph.participants.includes(v)) throw new SecAggError(`${me}: survivor ${v} is not a participant of round ${params.round}`);
      if (v !== me && graph.neighbours(me).has(v)) {
        if (!this.peers.has(v)) throw new SecAggError(`${me}: ${v} is listed as having shared keys but never advertised keys to me`);
        expected.add(v);
      }
    }
    const got = new Set<string>();
    for (const s of m.shares) {
      if (!expected.has(s.from))
        throw new SecAggError(`${me}: unexpected share from ${s.from} in round ${params.round} (not a surviving neighbour)`);
      if (got.has(s.from)) throw new SecAggError(`${me}: two shares from ${s.from} in round ${params.round}`);
      got.add(s.from);
      const key = this.channelKey(s.from);
      const plain = open(key, s.ciphertext, shareAad(params.round, s.from, me), `${me}: share from ${s.from} in round ${params.round}`);
      if (plain.length !== 2 * SHARE_BYTES)
        throw new SecAggError(`${me}: share from ${s.from} has ${plain.length} bytes, expected ${2 * SHARE_BYTES}`);
      this.held.set(s.from, { seed: plain.slice(0, SHARE_BYTES), key: plain.slice(SHARE_BYTES) });
    }
    for (const v of expected) if (!got.has(v)) throw new SecAggError(`${me}: missing share from ${v} in round ${params.round}`);
    const t = graph.shamirThreshold(me);
    if (expected.size + 1 < t) {
      throw new SecAggError(`${me}: only ${expected.size + 1} of my neighbourhood shared keys in round ${params.round}; ${t} needed`);
    }
    if (!this.input) throw new SecAggError(`${me}: no input to aggregate in round ${params.round}`);
    if (this.input.length !== params.vectorLength) {
      throw new SecAggError(`${me}: my update has ${this.input.length} entries, the round aggregates ${params.vectorLength}`);
    }
    const q = quantize(this.input, params, this.rng);
    this.clipped = q.clipped;
    const y = q.words;
    addInto(y, prgWords(this.seed!, y.length));
    const myIndex = graph.participants.indexOf(me);
    for (const v of expected) {
      const mask = prgWords(agree(this.masking!.secretKey, this.peers.get(v)!.maskKey, 'pairwise-mask'), y.length);
      // + when u > v, − otherwise: each pair's masks cancel in the sum.
      if (myIndex > graph.participants.indexOf(v)) addInto(y, mask);
      else subtractInto(y, mask);
    }
    this.survivorsAtMasking = survivors;
    this.stage = 'masked';
    return {
      type: 'secagg.masked-input',
      round: params.round,
      clientId: me,
      masked: wordsToBytes(y),
      clipped: q.clipped,
      numExamples: this.numExamples,
    };
  }

  private unmask(m: UnmaskRequest): Unmask {
    this.expectStage('masked', m.type);
    const params = this.params!;
    const graph = this.graph!;
    const me = this.clientId;
    const survivors = uniqueSet(m.survivors, `${me}: Unmasking survivors`);
    const dropped = uniqueSet(m.dropped, `${me}: Unmasking dropped`);
    for (const v of survivors) {
      if (dropped.has(v)) {
        throw new SecAggError(
          `${me}: refusing Unmasking in round ${params.round}: asked for both the seed share and the key share of ${v}; an honest client never reveals both`,
        );
      }
    }
    const u2 = this.survivorsAtMasking!;
    for (const v of [...survivors, ...dropped]) {
      if (!u2.has(v)) throw new SecAggError(`${me}: Unmasking in round ${params.round} names ${v}, who did not share keys`);
    }
    for (const v of u2) {
      if (!survivors.has(v) && !dropped.has(v)) throw new SecAggError(`${me}: Unmasking in round ${params.round} leaves out ${v}`);
    }
    if (!survivors.has(me)) throw new SecAggError(`${me}: Unmasking in round ${params.round} does not count my masked input`);
    if (survivors.size < params.threshold) {
      throw new SecAggError(`${me}: only ${survivors.size} masked inputs in round ${params.round}; threshold is ${params.threshold}`);
    }
    for (const v of survivors)
      if (this.revealed.get(v) === 'key') throw new SecAggError(`${me}: already revealed the key share of ${v}; refusing its seed share`);
    for (const v of dropped)
      if (this.revealed.get(v) === 'seed') throw new SecAggError(`${me}: already revealed the seed share of ${v}; refusing its key share`);
    const seedShares: Unmask['seedShares'] = [];
    const keyShares: Unmask['keyShares'] = [];
    const neighbours = graph.neighbours(me);
    for (const v of graph.participants) {
      const held = this.held.get(v);
      if (!held) continue;
      if (survivors.has(v)) {
        this.revealed.set(v, 'seed');
        seedShares.push({ of: v, share: held.seed });
      } else if (dropped.has(v) && neighbours.has(v)) {
        this.revealed.set(v, 'key');
        keyShares.push({ of: v, share: held.key });
      }
    }
    this.stage = 'unmasked';
    return { type: 'secagg.unmask', round: params.round, clientId: me, seedShares, keyShares };
  }
}

function uniqueSet(ids: string[], what: string): Set<string> {
  const set = new Set(ids);
  if (set.size !== ids.length) throw new SecAggError(`${what} lists a client twice`);
  return set;
}

function roundOf(message: unknown): number {
  const r = typeof message === 'object' && message !== null ? (message as { round?: unknown }).round : undefined;
  return typeof r === 'number' && Number.isInteger(r) && r > 0 ? r : 1;
}
