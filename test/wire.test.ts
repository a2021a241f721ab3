import { expect } from 'chai';
import { pack } from 'msgpackr';
import { decodeFrame, encodeMessage, PROTOCOL_VERSION, WireError, type WireMessage } from '../shared/wire';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(WireError);
    return (err as WireError).code;
  }
  throw new Error('expected a WireError');
}

/** Awkward float32 values: signed zero, subnormals, extremes, values that do not survive float64→JSON→float32 sloppily. */
function awkwardFloats(): Float32Array {
  const bits = new Uint32Array([
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x3f800001, 0x3eaaaaab, 0x00800000, 0x12345678,
  ]);
  return new Float32Array(bits.buffer);
}

describe('wire codec', () => {
  it('round-trips an update with every float32 bit pattern exact, as raw bytes (not a msgpack array)', () => {
    const values = awkwardFloats();
    const frame = encodeMessage({ type: 'update', round: 3, kind: 'gradient', numExamples: 2, update: values });
    // The tensor travels as bin 8 (0xc4) with exactly 4 bytes per value.
    const bytes = Buffer.from(frame);
    const at = bytes.indexOf(Buffer.from(new Uint8Array(values.buffer)));
    expect(at).to.be.greaterThan(0);
    expect(bytes[at - 2]).to.equal(0xc4);
    expect(bytes[at - 1]).to.equal(values.byteLength);
    const back = decodeFrame(frame, 'server');
    if (back.type !== 'update') throw new Error('wrong type');
    expect(back.round).to.equal(3);
    expect(Buffer.from(back.update.buffer, back.update.byteOffset, back.update.byteLength).equals(Buffer.from(values.buffer))).to.equal(
      true,
    );
  });

  it('decodes tensors that sit at an odd offset of the received buffer into aligned arrays', () => {
    const values = new Float32Array(1000).map((_, i) => Math.sin(i) * 1e-3);
    const frame = encodeMessage({
      type: 'round.start',
      round: 1,
      algorithm: 'fedavg',
      learningRate: 0.1,
      batchSize: 4,
      localSteps: 2,
      localEpochs: 0,
      timeoutMs: 5000,
      params: values,
    });
    for (const shift of [1, 2, 3]) {
      const holder = new Uint8Array(frame.byteLength + shift);
      holder.set(frame, shift);
      const msg = decodeFrame(holder.subarray(shift), 'client');
      if (msg.type !== 'round.start') throw new Error('wrong type');
      expect(msg.params.byteOffset % 4).to.equal(0);
      expect(Array.from(msg.params)).to.deep.equal(Array.from(values));
    }
  });

  it('round-trips eval.truth (images float32, labels int32) and checks their lengths against count and shape', () => {
    const images = new Float32Array(2 * 3 * 3).map((_, i) => i / 18);
    const msg: WireMessage = {
      type: 'eval.truth',
      requestId: 7,
      round: 2,
      count: 2,
      shape: [3, 3, 1],
      images,
      labels: new Int32Array([4, 9]),
    };
    const back = decodeFrame(encodeMessage(msg), 'server');
    expect(back).to.deep.include({ type: 'eval.truth', requestId: 7, round: 2, count: 2 });
    if (back.type !== 'eval.truth') throw new Error('wrong type');
    expect(Array.from(back.labels)).to.deep.equal([4, 9]);
    expect(codeOf(() => decodeFrame(encodeMessage({ ...msg, count: 3 } as WireMessage), 'server'))).to.equal('wrong-length');
  });

  it('rejects NaN and ±Infinity in tensors, naming the index', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const v = new Float32Array([0, 1, bad, 2]);
      const frame = encodeMessage({ type: 'update', round: 1, kind: 'gradient', numExamples: 1, update: v });
      expect(() => decodeFrame(frame, 'server')).to.throw(WireError, /update\.update: value 2 is/);
      expect(codeOf(() => decodeFrame(frame, 'server'))).to.equal('non-finite');
    }
  });

  it('rejects non-msgpack bytes, msgpack that is not a map, a wrong version and an unknown type', () => {
    expect(codeOf(() => decodeFrame(Buffer.from('this is not msgpack at all'), 'server'))).to.equal('bad-frame');
    expect(codeOf(() => decodeFrame(new Uint8Array([0xc1]), 'server'))).to.equal('bad-frame');
    expect(codeOf(() => decodeFrame(pack([1, 2, 3]), 'server'))).to.equal('bad-frame');
    expect(codeOf(() => decodeFrame(pack({ v: PROTOCOL_VERSION + 1, type: 'hello', token: 'x' }), 'server'))).to.equal('bad-version');
    expect(codeOf(() => decodeFrame(pack({ type: 'hello', token: 'x' }), 'server'))).to.equal('bad-version');
    expect(codeOf(() => decodeFrame(pack({ v: PROTOCOL_VERSION, type: 'gossip' }), 'server'))).to.equal('unknown-type');
    // A server-only message sent by a client is unknown to the server, and vice versa.
    expect(codeOf(() => decodeFrame(encodeMessage({ type: 'shutdown', reason: '' }), 'server'))).to.equal('unknown-type');
    expect(codeOf(() => decodeFrame(encodeMessage({ type: 'hello', token: 't', agent: '' }), 'client'))).to.equal('unknown-type');
  });

  it('names the message and field of a missing or mistyped field', () => {
    expect(() => decodeFrame(pack({ v: 1, type: 'hello' }), 'server')).to.throw(WireError, /hello\.token: expected a string, got nothing/);
    expect(() =>
      decodeFrame(pack({ v: 1, type: 'update', round: 0, kind: 'gradient', numExamples: 1, update: new Uint8Array(4) }), 'server'),
    ).to.throw(/update\.round: 0 is outside/);
    expect(() =>
      decodeFrame(pack({ v: 1, type: 'update', round: 1, kind: 'gradient', numExamples: 1, update: [1, 2] }), 'server'),
    ).to.throw(/update\.update: expected binary/);
    expect(() =>
      decodeFrame(pack({ v: 1, type: 'update', round: 1, kind: 'gradient', numExamples: 1, update: new Uint8Array(5) }), 'server'),
    ).to.throw(/not a whole number of float32/);
    expect(() =>
      decodeFrame(pack({ v: 1, type: 'update', round: 1, kind: 'sum', numExamples: 1, update: new Uint8Array(4) }), 'server'),
    ).to.throw(/update\.kind: expected one of/);
  });
});
