/**
 * The server side of secure aggregation as a transport-agnostic state machine. The driver calls
 * `start()`, hands every received message to `receive()`, reports disconnects with `markDropped()`,
 * and calls `closeStage()` once nobody is pending or the stage deadline passes. The server only relays
 * the encrypted shares; it learns the per-client masked vectors (uniform noise) and, after Unmasking,
 * the sum of the surviving clients' quantised inputs.
 *
 * Stages: AdvertiseKeys (U1) → ShareKeys (U2) → MaskedInputCollection (U3) → Unmasking (U4).
 * Each aborts with its reason when fewer than `threshold` clients remain.
 */
import { bytesEqual, checkPublicKey, commitSeed, KEY_BYTES, prgWords, publicKeyOf, agree, sealedLength } from '../../shared/secagg/crypto';
import { printable } from '../../shared/text/printable';
import { SecAggError } from '../../shared/secagg/errors';
import { buildPairingGraph, resolveThreshold, type PairingGraph } from '../../shared/secagg/graph';
import {
  parseClientMessage,
  type AdvertiseKeys,
  type MaskedInput,
  type SecAggClientMessage,
  type SecAggServerMessage,
  type ShareKeys,
  type Unmask,
} from '../../shared/secagg/messages';
import { addInto, bytesToWords, checkHeadroom, dequantizeSum, subtractInto } from '../../shared/secagg/quantize';
import { combineShares, MAX_SHARES } from '../../shared/secagg/shamir';
import { SHARE_BYTES } from '../../shared/secagg/client';

export type ServerStage = 'advertise' | 'share-keys' | 'masked-input' | 'unmask' | 'done' | 'aborted';

export const STAGE_NAMES: Record<ServerStage, string> = {
  advertise: 'AdvertiseKeys',
  'share-keys': 'ShareKeys',
  'masked-input': 'MaskedInputCollection',
  unmask: 'Unmasking',
  done: 'done',
  aborted: 'aborted',
};

export interface SecAggServerParams {
  round: number;
  /** Selected clients in protocol order. */
  participants: string[];
  /** Scenario threshold: a count, or a fraction of the participants when ≤ 1. */
  threshold: number;
  neighbours: number;
  graphSeed: number;
  vectorLength: number;
  clippingRange: number;
  quantizationRange: number;
}

export interface Outgoing {
  to: string;
  message: SecAggServerMessage;
}

export interface Rejection {
  from: string;
  stage: ServerStage;
  reason: string;
}

export interface SecAggRoundResult {
  status: 'completed' | 'aborted';
  /** Why the round aborted (names the stage and the counts). */
  reason?: string;
  /** Resolved threshold (count of clients). */
  threshold: number;
  /** U3: clients whose inputs are in the aggregate. */
  survivors: string[];
  /** Participants whose inputs are not in the aggregate. */
  dropped: string[];
  /** Responders of each stage: U1, U2, U3, U4. */
  stages: { advertise: string[]; shareKeys: string[]; maskedInput: string[]; unmask: string[] };
  /** The masked vectors y_u as received (uint32 words), by client. */
  masked: Map<string, Uint32Array>;
  /** Unmasked sum mod 2^32 and its dequantised value (completed rounds only). */
  sum?: Uint32Array;
  aggregate?: Float32Array;
  /** Entries clipped by the survivors' quantisers, as they reported. */
  clippedValues: number;
  /** Examples each client declared with its masked input. */
  numExamples: Map<string, number>;
  /** Messages refused, with reasons: wrong round, impostor, late, malformed, wrong share, client refusals. */
  rejections: Rejection[];
}

export type ReceiveResult = { ok: true } | { ok: false; reason: string };

export class SecAggServer {
  readonly params: SecAggServerParams;
  readonly threshold: number;
  private readonly graph: PairingGraph;
  private stageName: ServerStage = 'advertise';
  /** Who is expected to answer in the current stage and has not (yet). */
  private readonly waiting = new Set<string>();
  private readonly advertised = new Map<string, AdvertiseKeys>();
  private readonly shared = new Map<string, ShareKeys>();
  private readonly maskedInputs = new Map<string, MaskedInput>();
  private readonly unmasks = new Map<string, Unmask>();
  private readonly rejections: Rejection[] = [];
  private u1: string[] = [];
  private u2: string[] = [];
  private u3: string[] = [];

  constructor(params: SecAggServerParams) {
    const n = params.participants.length;
    if (n < 1) throw new SecAggError(`secure aggregation round ${params.round}: no participants`);
    if (n > MAX_SHARES)
      throw new SecAggError(
        `secure aggregation round ${params.round}: ${n} participants; Shamir sharing over GF(2^8) allows at most ${MAX_SHARES}`,
      );
    if (!Number.isInteger(params.vectorLength) || params.vectorLength < 1) {
      throw new SecAggError(
        `secure aggregation round ${params.round}: vectorLength must be a positive integer, got ${params.vectorLength}`,
      );
    }
    checkHeadroom(params, n);
    this.params = params;
    this.threshold = resolveThreshold(params.threshold, n);
    this.graph = buildPairingGraph(params.participants, this.threshold, params.neighbours, params.graphSeed);
  }

  get stage(): ServerStage {
    return this.stageName;
  }

  /** Clients whose answer to the current stage is still outstanding. */
  pending(): string[] {
    return [...this.waiting];
  }

  start(): Outgoing[] {
    if (this.stageName !== 'advertise' || this.waiting.size > 0 || this.advertised.size > 0) {
      throw new SecAggError(`secure aggregation round ${this.params.round}: already started`);
    }
    const p = this.params;
    for (const id of p.participants) this.waiting.add(id);
    return p.participants.map((to) => ({
      to,
      message: {
        type: 'secagg.advertise-request',
        round: p.round,
        participants: [...p.participants],
        threshold: this.threshold,
        neighbours: p.neighbours,
        graphSeed: p.graphSeed,
        vectorLength: p.vectorLength,
        clippingRange: p.clippingRange,
        quantizationRange: p.quantizationRange,
      },
    }));
  }

  /** A client is gone (disconnect, kill): it no longer holds up the current stage. */
  markDropped(clientId: string, reason: string): void {
    if (this.waiting.delete(clientId)) this.rejections.push({ from: clientId, stage: this.stageName, reason });
  }

  /** Accepts or refuses one message; never throws on bad input. */
  receive(from: string, raw: unknown): ReceiveResult {
    try {
      this.accept(from, raw);
      return { ok: true };
    } catch (err) {
      if (!(err instanceof SecAggError)) throw err;
      this.rejections.push({ from, stage: this.stageName, reason: err.message });
      return { ok: false, reason: err.message };
    }
  }

  private accept(from: string, raw: unknown): void {
    const p = this.params;
    const stage = STAGE_NAMES[this.stageName];
    const m = parseClientMessage(raw, from);
    if (m.clientId !== from) throw new SecAggError(`round ${p.round}: a message from ${from} claims to come from ${m.clientId}`);
    if (m.round !== p.round) throw new SecAggError(`${from}: ${m.type} is for round ${m.round}, but round ${p.round} is in progress`);
    if (!p.participants.includes(from)) {
      throw new SecAggError(`${from} was not selected for round ${p.round} and cannot join it mid-protocol (${stage})`);
    }
    if (m.type === 'secagg.refuse') {
      if (this.waiting.delete(from)) {
        this.rejections.push({ from, stage: this.stageName, reason: `refused: ${m.reason}` });
        return;
      }
      throw new SecAggError(`${from} refused outside its turn in ${stage} of round ${p.round}: ${m.reason}`);
    }
    const expectedType = EXPECTED_TYPE[this.stageName];
    if (m.type !== expectedType) {
      throw new SecAggError(`${from}: ${m.type} arrived during ${stage} of round ${p.round} (expected ${expectedType ?? 'nothing'})`);
    }
    if (!this.waiting.has(from)) {
      const answered = this.answeredThisStage(from);
      throw new SecAggError(
        answered
          ? `${from} already answered ${stage} of round ${p.round}`
          : `${from} is not part of ${stage} of round ${p.round} (dropped out earlier or timed out); it cannot rejoin mid-protocol`,
      );
    }
    this.validate(m);
    this.waiting.delete(from);
  }

  private answeredThisStage(from: string): boolean {
    switch (this.stageName) {
      case 'advertise':
        return this.advertised.has(from);
      case 'share-keys':
        return this.shared.has(from);
      case 'masked-input':
        return this.maskedInputs.has(from);
      case 'unmask':
        return this.unmasks.has(from);
      default:
        return false;
    }
  }

  private validate(m: SecAggClientMessage): void {
    const r = this.params.round;
    const u = m.clientId;
    switch (m.type) {
      case 'secagg.advertise-keys': {
        if (m.encryptionKey.length !== KEY_BYTES || m.maskKey.length !== KEY_BYTES) {
          throw new SecAggError(`${u}: public keys in round ${r} must be ${KEY_BYTES} bytes`);
        }
        checkPublicKey(m.encryptionKey, `${u}: encryption key in round ${r}`);
        checkPublicKey(m.maskKey, `${u}: mask key in round ${r}`);
        if (bytesEqual(m.encryptionKey, m.maskKey)) throw new SecAggError(`${u}: the two public keys in round ${r} must differ`);
        for (const [v, other] of this.advertised) {
          for (const k of [other.encryptionKey, other.maskKey]) {
            if (bytesEqual(k, m.encryptionKey) || bytesEqual(k, m.maskKey)) {
              throw new SecAggError(`${u}: advertised a public key already used by ${v} in round ${r}`);
            }
          }
        }
        this.advertised.set(u, m);
        return;
      }
      case 'secagg.share-keys': {
        if (m.seedCommitment.length !== 32) throw new SecAggError(`${u}: seed commitment in round ${r} must be 32 bytes`);
        const expected = new Set(this.u1.filter((v) => v !== u && this.graph.neighbours(u).has(v)));
        const seen = new Set<string>();
        for (const s of m.shares) {
          if (!expected.has(s.to))
            throw new SecAggError(`${u}: share addressed to ${s.to} in round ${r}, who is not an advertised neighbour`);
          if (seen.has(s.to)) throw new SecAggError(`${u}: two shares addressed to ${s.to} in round ${r}`);
          if (s.ciphertext.length !== sealedLength(2 * SHARE_BYTES)) {
            throw new SecAggError(
              `${u}: encrypted share for ${s.to} in round ${r} has ${s.ciphertext.length} bytes, expected ${sealedLength(2 * SHARE_BYTES)}`,
            );
          }
          seen.add(s.to);
        }
        for (const v of expected) if (!seen.has(v)) throw new SecAggError(`${u}: missing encrypted share for ${v} in round ${r}`);
        this.shared.set(u, m);
        return;
      }
      case 'secagg.masked-input': {
        if (m.masked.length !== 4 * this.params.vectorLength) {
          throw new SecAggError(`${u}: masked input in round ${r} has ${m.masked.length} bytes, expected ${4 * this.params.vectorLength}`);
        }
        this.maskedInputs.set(u, m);
        return;
      }
      case 'secagg.unmask': {
        const survivors = new Set(this.u3);
        const mine = new Set([u, ...this.graph.neighbours(u)]);
        const wantSeeds = new Set(this.u3.filter((v) => mine.has(v)));
        const wantKeys = new Set(this.u2.filter((v) => !survivors.has(v) && v !== u && mine.has(v)));
        checkShareList(m.seedShares, wantSeeds, `${u}: seed shares in round ${r}`);
        checkShareList(m.keyShares, wantKeys, `${u}: key shares in round ${r}`);
        this.unmasks.set(u, m);
        return;
      }
      case 'secagg.refuse':
        return;
    }
  }

  /** Ends the current stage: the next stage's messages, or the round's result (completed or aborted). */
  async closeStage(): Promise<{ outgoing: Outgoing[]; result?: SecAggRoundResult }> {
    const p = this.params;
    const stage = this.stageName;
    for (const id of this.waiting)
      this.rejections.push({ from: id, stage, reason: `no answer to ${STAGE_NAMES[stage]} before the stage closed` });
    this.waiting.clear();
    switch (stage) {
      case 'advertise': {
        this.u1 = p.participants.filter((id) => this.advertised.has(id));
        const abort = this.belowThreshold(this.u1, p.participants);
        if (abort) return abort;
        const outgoing: Outgoing[] = this.u1.map((to) => {
          const mine = new Set([to, ...this.graph.neighbours(to)]);
          const keys = this.u1
            .filter((v) => mine.has(v))
            .map((v) => ({ clientId: v, encryptionKey: this.advertised.get(v)!.encryptionKey, maskKey: this.advertised.get(v)!.maskKey }));
          return { to, message: { type: 'secagg.share-keys-request', round: p.round, keys } };
        });
        this.next('share-keys', this.u1);
        return { outgoing };
      }
      case 'share-keys': {
        this.u2 = this.u1.filter((id) => this.shared.has(id));
        const abort = this.belowThreshold(this.u2, this.u1);
        if (abort) return abort;
        const outgoing: Outgoing[] = this.u2.map((to) => {
          const shares: { from: string; ciphertext: Uint8Array }[] = [];
          for (const v of this.u2) {
            const s = this.shared.get(v)!.shares.find((x) => x.to === to);
            if (s) shares.push({ from: v, ciphertext: s.ciphertext });
          }
          return { to, message: { type: 'secagg.masked-input-request', round: p.round, survivors: [...this.u2], shares } };
        });
        this.next('masked-input', this.u2);
        return { outgoing };
      }
      case 'masked-input': {
        this.u3 = this.u2.filter((id) => this.maskedInputs.has(id));
        const abort = this.belowThreshold(this.u3, this.u2);
        if (abort) return abort;
        const dropped = this.u2.filter((id) => !this.maskedInputs.has(id));
        const outgoing: Outgoing[] = this.u3.map((to) => ({
          to,
          message: { type: 'secagg.unmask-request', round: p.round, survivors: [...this.u3], dropped },
        }));
        this.next('unmask', this.u3);
        return { outgoing };
      }
      case 'unmask': {
        const u4 = this.u3.filter((id) => this.unmasks.has(id));
        const abort = this.belowThreshold(u4, this.u3);
        if (abort) return abort;
        try {
          const sum = await this.reconstruct(u4);
          const outOfRange = this.outOfRange(sum);
          if (outOfRange) return this.abort(outOfRange);
          this.stageName = 'done';
          return { outgoing: [], result: this.result('completed', undefined, sum) };
        } catch (err) {
          if (!(err instanceof SecAggError)) throw err;
          return this.abort(`Unmasking of round ${p.round}: ${err.message}`);
        }
      }
      default:
        throw new SecAggError(
          `secure aggregation round ${p.round}: closeStage after the round ${stage === 'done' ? 'completed' : 'aborted'}`,
        );
    }
  }

  private next(stage: ServerStage, expected: string[]): void {
    this.stageName = stage;
    for (const id of expected) this.waiting.add(id);
  }

  private belowThreshold(remaining: string[], before: string[]): { outgoing: Outgoing[]; result: SecAggRoundResult } | null {
    if (remaining.length >= this.threshold) return null;
    const lost = before.filter((id) => !remaining.includes(id));
    // Name why each was lost: an honest client's refusal usually names the peer that caused it.
    const why = lost.map((id) => {
      const last = [...this.rejections].reverse().find((x) => x.from === id);
      return last ? `${id} (${printable(last.reason, 160)})` : id;
    });
    return this.abort(
      `${STAGE_NAMES[this.stageName]} of round ${this.params.round}: only ${remaining.length} of ${before.length} clients remain ` +
        `(lost: ${why.join('; ') || 'none'}); threshold is ${this.threshold}`,
    );
  }

  /**
   * Each honest input word lies in [0, R] (clipped to ±clippingRange, then quantised), so the
   * unmasked sum of m inputs lies in [0, m·R]; headroom guarantees m·R < 2^32, so any word above it
   * means a client added something outside its range, or masks that do not cancel (a lie about its
   * keys or seeds). Returns the abort reason, or null.
   */
  private outOfRange(sum: Uint32Array): string | null {
    const m = this.u3.length;
    const limit = m * this.params.quantizationRange;
    let bad = 0;
    let first = -1;
    for (let i = 0; i < sum.length; i++) {
      if (sum[i]! <= limit) continue;
      if (first < 0) first = i;
      bad++;
    }
    if (bad === 0) return null;
    const value = sum[first]! * ((2 * this.params.clippingRange) / this.params.quantizationRange) - m * this.params.clippingRange;
    return (
      `aggregate out of range: a client deviated from the protocol (round ${this.params.round}: ${bad} of ${sum.length} entries of the unmasked sum ` +
      `lie outside ±${m}·${this.params.clippingRange}, e.g. entry ${first} decodes to ${value.toPrecision(6)}; ` +
      `one of ${this.u3.join(', ')} sent a masked input or mask secrets that do not match the protocol; the round is discarded)`
    );
  }

  private abort(reason: string): { outgoing: Outgoing[]; result: SecAggRoundResult } {
    // Tell everyone the closing stage was waiting on (its expected responders) to forget the round.
    const reached: Partial<Record<ServerStage, string[]>> = { 'share-keys': this.u1, 'masked-input': this.u2, unmask: this.u3 };
    const notify = reached[this.stageName] ?? this.params.participants;
    this.stageName = 'aborted';
    const outgoing: Outgoing[] = notify.map((to) => ({ to, message: { type: 'secagg.abort', round: this.params.round, reason } }));
    return { outgoing, result: this.result('aborted', reason) };
  }

  private result(status: 'completed' | 'aborted', reason?: string, sum?: Uint32Array): SecAggRoundResult {
    const masked = new Map<string, Uint32Array>();
    for (const [id, m] of this.maskedInputs) masked.set(id, bytesToWords(m.masked));
    const survivors = status === 'completed' ? [...this.u3] : [];
    let clippedValues = 0;
    for (const id of this.u3) clippedValues += this.maskedInputs.get(id)?.clipped ?? 0;
    return {
      status,
      ...(reason !== undefined ? { reason } : {}),
      threshold: this.threshold,
      survivors,
      dropped: this.params.participants.filter((id) => !survivors.includes(id)),
      stages: {
        advertise: [...this.u1],
        shareKeys: [...this.u2],
        maskedInput: [...this.u3],
        unmask: this.u3.filter((id) => this.unmasks.has(id)),
      },
      masked,
      ...(sum ? { sum, aggregate: dequantizeSum(sum, this.u3.length, this.params) } : {}),
      clippedValues,
      numExamples: new Map([...this.maskedInputs].map(([id, m]) => [id, m.numExamples])),
      rejections: [...this.rejections],
    };
  }

  /** Σ y_u over U3, minus every self mask of U3 and every pairwise mask shared with a dropped client. */
  private async reconstruct(u4: string[]): Promise<Uint32Array> {
    const p = this.params;
    const n = p.vectorLength;
    const sum = new Uint32Array(n);
    for (const u of this.u3) addInto(sum, bytesToWords(this.maskedInputs.get(u)!.masked));
    const index = (id: string): number => p.participants.indexOf(id);
    for (const v of this.u3) {
      const shares = collect(u4, this.unmasks, v, 'seed');
      const commitment = this.shared.get(v)!.seedCommitment;
      const seed = await this.robustCombine(
        shares,
        this.graph.shamirThreshold(v),
        (s) => bytesEqual(commitSeed(s, p.round, v), commitment),
        `self-mask seed of ${v}`,
      );
      subtractInto(sum, prgWords(seed, n));
    }
    const survivors = new Set(this.u3);
    for (const v of this.u2.filter((id) => !survivors.has(id))) {
      const shares = collect(u4, this.unmasks, v, 'key');
      const maskKey = this.advertised.get(v)!.maskKey;
      const secret = await this.robustCombine(
        shares,
        this.graph.shamirThreshold(v),
        (s) => safeEqualPublic(s, maskKey),
        `mask key of dropped ${v}`,
      );
      for (const u of this.u3) {
        if (!this.graph.neighbours(v).has(u)) continue;
        const mask = prgWords(agree(secret, this.advertised.get(u)!.maskKey, 'pairwise-mask'), n);
        // y_u carried +mask when u > v and −mask otherwise; undo it.
        if (index(u) > index(v)) subtractInto(sum, mask);
        else addInto(sum, mask);
      }
    }
    return sum;
  }

  /**
   * Shamir has no integrity of its own, so every rebuilt secret is checked (seed commitment, or the
   * advertised public key). If the check fails, leave-one-out finds a single wrong share, which is
   * reported; otherwise the round aborts naming the secret.
   */
  private async robustCombine(
    shares: { holder: string; share: Uint8Array }[],
    threshold: number,
    verify: (secret: Uint8Array) => boolean,
    what: string,
  ): Promise<Uint8Array> {
    if (shares.length < threshold) {
      throw new SecAggError(`${what}: ${shares.length} share(s) from surviving neighbours, ${threshold} needed`);
    }
    const attempt = async (subset: typeof shares): Promise<Uint8Array | null> => {
      try {
        const s = await combineShares(
          subset.map((x) => x.share),
          threshold,
          what,
        );
        return verify(s) ? s : null;
      } catch (err) {
        if (err instanceof SecAggError) return null;
        throw err;
      }
    };
    const all = await attempt(shares);
    if (all) return all;
    if (shares.length > threshold) {
      for (let i = 0; i < shares.length; i++) {
        const s = await attempt(shares.filter((_, j) => j !== i));
        if (s) {
          this.rejections.push({
            from: shares[i]!.holder,
            stage: 'unmask',
            reason: `${shares[i]!.holder} sent a wrong share of the ${what}; reconstructed without it`,
          });
          return s;
        }
      }
    }
    throw new SecAggError(`${what}: the ${shares.length} shares are inconsistent (a wrong share, and not enough spare shares to find it)`);
  }
}

const EXPECTED_TYPE: Partial<Record<ServerStage, SecAggClientMessage['type']>> = {
  advertise: 'secagg.advertise-keys',
  'share-keys': 'secagg.share-keys',
  'masked-input': 'secagg.masked-input',
  unmask: 'secagg.unmask',
};

function checkShareList(list: { of: string; share: Uint8Array }[], wanted: Set<string>, what: string): void {
  const seen = new Set<string>();
  for (const s of list) {
    if (!wanted.has(s.of)) throw new SecAggError(`${what}: unexpected share of ${s.of}`);
    if (seen.has(s.of)) throw new SecAggError(`${what}: two shares of ${s.of}`);
    if (s.share.length !== SHARE_BYTES)
      throw new SecAggError(`${what}: share of ${s.of} has ${s.share.length} bytes, expected ${SHARE_BYTES}`);
    seen.add(s.of);
  }
  for (const v of wanted) if (!seen.has(v)) throw new SecAggError(`${what}: missing share of ${v}`);
}

function collect(u4: string[], unmasks: Map<string, Unmask>, owner: string, kind: 'seed' | 'key'): { holder: string; share: Uint8Array }[] {
  const out: { holder: string; share: Uint8Array }[] = [];
  for (const h of u4) {
    const m = unmasks.get(h)!;
    const s = (kind === 'seed' ? m.seedShares : m.keyShares).find((x) => x.of === owner);
    if (s) out.push({ holder: h, share: s.share });
  }
  return out;
}

function safeEqualPublic(secret: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return bytesEqual(publicKeyOf(secret), publicKey);
  } catch {
    return false;
  }
}
