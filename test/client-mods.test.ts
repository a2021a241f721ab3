/**
 * Client mods: the chain runs in `defenses.order`, a mod can take the update over (as secure
 * aggregation does), every registered config has an implementation, and the scenario's defences
 * schema is composed from the per-mod schemas.
 */
import { expect } from 'chai';
import { Rng } from '../shared/random';
import { chainMods, CLIENT_MODS, defenseMods, type ClientMod, type ClientUpdate, type ModContext } from '../client/mods';
import type { ModFactory } from '../client/mods/registry';
import { CLIENT_MOD_CONFIGS, type ClientModName } from '../shared/mods/registry';
import { defensesSchema } from '../shared/scenario/public';

function update(values: number[]): ClientUpdate {
  return { round: 1, kind: 'gradient', numExamples: 1, values: Float32Array.from(values) };
}

function context(): ModContext {
  return { rng: new Rng(0), report: {} };
}

/** A mod that records its name, then passes the update on. */
function tracer(name: string, trace: string[]): ClientMod {
  return (u, c, next) => {
    trace.push(name);
    next(u, c);
  };
}

describe('client mods', () => {
  it('run first to last, then the terminal; a mod that does not call next takes the update over', () => {
    const trace: string[] = [];
    const sent: ClientUpdate[] = [];
    chainMods([tracer('a', trace), tracer('b', trace)], (u) => sent.push(u))(update([1]), context());
    expect(trace).to.deep.equal(['a', 'b']);
    expect(sent).to.have.length(1);
    const kept: ClientUpdate[] = [];
    const masking: ClientMod = (u) => kept.push(u);
    chainMods([tracer('a', trace), masking, tracer('never', trace)], (u) => sent.push(u))(update([2]), context());
    expect(kept.map((u) => u.values[0])).to.deep.equal([2]);
    expect(sent).to.have.length(1);
    expect(trace).to.not.include('never');
  });

  it('defenses.order is the chain order, and each mod reports under its name', () => {
    const defenses = defensesSchema.parse({ order: ['quantization', 'clipping'], clipping: { norm: 1 }, quantization: { bits: 8 } });
    const out: ClientUpdate[] = [];
    const ctx = context();
    chainMods(defenseMods(defenses), (u) => out.push(u))(update([3, 4]), ctx);
    expect(Object.keys(ctx.report)).to.deep.equal(['quantization', 'clipping']);
    // Clipping ran last: the sent update has norm 1 exactly (up to float32), not an int8 grid value.
    const v = out[0].values;
    expect(Math.hypot(v[0], v[1])).to.be.closeTo(1, 1e-6);
  });

  it('has an implementation for every registered config, and the scenario schema takes every registered mod', () => {
    const names = CLIENT_MOD_CONFIGS.map((e) => e.name);
    expect(Object.keys(CLIENT_MODS).sort()).to.deep.equal([...names].sort());
    for (const e of CLIENT_MOD_CONFIGS) expect(Object.keys(defensesSchema.shape)).to.include(e.name);
    expect(() => defensesSchema.parse({ clipping: { norm: -1 } })).to.throw(/norm/);
    // A registry missing an implementation does not compile (checked by tsc on this file):
    // @ts-expect-error — 'noise', 'pruning' and 'quantization' are missing
    const incomplete: { [K in ClientModName]: ModFactory<K> } = { clipping: CLIENT_MODS.clipping };
    expect(incomplete).to.be.an('object');
  });
});
