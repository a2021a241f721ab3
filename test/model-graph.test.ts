/**
 * Layer-graph model definitions: the interpreter reproduces the former hand-written builders bit
 * for bit (logits, gradients, double-backprop gradients), bad definitions fail naming the layer,
 * and every op and activation is twice differentiable (checked against finite differences).
 */
import { expect } from 'chai';
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { Rng } from '../shared/random';
import {
  buildModel,
  definitionFor,
  modelFromDefinition,
  oneHot,
  parseModelDefinition,
  softCrossEntropy,
  unflattenParams,
  type ImageShape,
  type Model,
  type ModelDefinition,
} from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { ACTIVATIONS } from '../shared/models/graph/activations';
import { parameterGradients, squaredGradientDistance } from '../server/observer/gradient-matching';
import { legacyConvnet, legacyLenetZhu, legacyMlp, type LegacyModel } from './fixtures/legacy-models';
import { directionalChecks, expectClose, randomTensor, scalarOf } from './fixtures/finite-differences';

interface ParityCase {
  label: string;
  config: Record<string, unknown>;
  shape: ImageShape;
  legacy: (shape: ImageShape, k: number) => LegacyModel;
}

const PARITY: ParityCase[] = [
  { label: 'lenet-zhu 28×28×1', config: { name: 'lenet-zhu' }, shape: [28, 28, 1], legacy: (s, k) => legacyLenetZhu(s, k) },
  { label: 'lenet-zhu 11×11×3', config: { name: 'lenet-zhu' }, shape: [11, 11, 3], legacy: (s, k) => legacyLenetZhu(s, k) },
  {
    label: 'mlp relu [16, 8]',
    config: { name: 'mlp', hidden: [16, 8] },
    shape: [6, 6, 1],
    legacy: (s, k) => legacyMlp(s, k, { hidden: [16, 8], activation: 'relu' }),
  },
  {
    label: 'mlp sigmoid [12]',
    config: { name: 'mlp', hidden: [12], activation: 'sigmoid' },
    shape: [5, 5, 2],
    legacy: (s, k) => legacyMlp(s, k, { hidden: [12], activation: 'sigmoid' }),
  },
  {
    label: 'mlp tanh, no hidden',
    config: { name: 'mlp', hidden: [], activation: 'tanh' },
    shape: [4, 4, 1],
    legacy: (s, k) => legacyMlp(s, k, { hidden: [], activation: 'tanh' }),
  },
  {
    label: 'convnet relu + avg pool',
    config: { name: 'convnet', channels: [4, 6], hidden: [10] },
    shape: [12, 12, 2],
    legacy: (s, k) =>
      legacyConvnet(s, k, { channels: [4, 6], kernelSize: 3, stride: 1, padding: 1, activation: 'relu', pool: true, hidden: [10] }),
  },
  {
    label: 'convnet sigmoid stride 2 pad 0, no pool',
    config: { name: 'convnet', channels: [5, 3], kernelSize: 3, stride: 2, padding: 0, pool: false, hidden: [], activation: 'sigmoid' },
    shape: [13, 11, 1],
    legacy: (s, k) =>
      legacyConvnet(s, k, { channels: [5, 3], kernelSize: 3, stride: 2, padding: 0, activation: 'sigmoid', pool: false, hidden: [] }),
  },
];

function same(a: Tensor, b: Tensor, what: string): void {
  expect(a.shape, `${what}: shape`).to.deep.equal(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) expect.fail(`${what}: differs at ${i}: ${x[i]} vs ${y[i]}`);
}

/** Gradient of the DLG objective w.r.t. dummy images: exercises double backprop through every op. */
function dlgImageGradient(apply: Model['apply'], params: Tensor[], x0: Tensor4D, x: Tensor4D, target: Tensor2D): Tensor {
  const fake = { apply, stateParams: [] as number[] } as unknown as Model;
  const trueGrads = parameterGradients(fake, params, x0, target);
  return tf.grad((z: Tensor) => squaredGradientDistance(parameterGradients(fake, params, z as Tensor4D, target), trueGrads))(x);
}

function definition(
  layers: ModelDefinition['layers'],
  params: ModelDefinition['params'],
  inputShape: ImageShape = [4, 4, 1],
  numClasses = 3,
): ModelDefinition {
  return { format: 'fedleak-model/1', name: 'test', inputShape, numClasses, layers, params };
}

const DENSE_OUT = { name: 'out', op: 'dense', inputs: ['flat'], config: { units: 3 }, params: ['out/kernel', 'out/bias'] };
const FLAT = { name: 'flat', op: 'flatten', inputs: ['input'], config: {}, params: [] };
const OUT_PARAMS = [
  { name: 'out/kernel', shape: [16, 3] },
  { name: 'out/bias', shape: [3] },
];

describe('model definitions (layer graphs)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  describe('the built-in models are bit-identical to the former hand-written builders', () => {
    for (const c of PARITY) {
      it(c.label, () => {
        tf.tidy(() => {
          const k = 4;
          const model = buildModel(modelSchema.parse(c.config), c.shape, k);
          const legacy = c.legacy(c.shape, k);
          expect(model.specs).to.deep.equal(legacy.specs);
          expect(model.logitLayer).to.deep.equal(legacy.logitLayer);
          expect(model.firstDenseLayer).to.deep.equal(legacy.firstDenseLayer);
          const rng = new Rng(17);
          const params = unflattenParams(model.initParams(rng.fork('params')), model.specs);
          const size = c.shape[0] * c.shape[1] * c.shape[2];
          const x = tf.tensor(rng.fork('x').fillUniform(new Float32Array(3 * size), 0, 1), [3, ...c.shape]) as Tensor4D;
          const y = oneHot([0, 2, 3], k);
          same(model.apply(params, x), legacy.apply(params, x), 'logits');
          const loss = (apply: Model['apply']) => tf.grads((...ps: Tensor[]) => softCrossEntropy(apply(ps, x), y))(params);
          loss(model.apply).forEach((g, i) => same(g, loss(legacy.apply)[i], `gradient of ${model.specs[i].name}`));
          const x1 = x.slice([0], [1]) as Tensor4D;
          const dummy = tf.tensor(rng.fork('dummy').fillUniform(new Float32Array(size), 0, 1), [1, ...c.shape]) as Tensor4D;
          const t = y.slice([0], [1]) as Tensor2D;
          same(
            dlgImageGradient(model.apply, params, x1, dummy, t),
            dlgImageGradient(legacy.apply, params, x1, dummy, t),
            'DLG objective gradient',
          );
        });
      });
    }
  });

  it('a definition survives JSON (what travels in welcome) and rebuilds the same model', () => {
    const def = definitionFor(modelSchema.parse({ name: 'convnet', channels: [2] }), [8, 8, 1], 3);
    const again = modelFromDefinition(parseModelDefinition(JSON.parse(JSON.stringify(def)), 'test'));
    expect(again.specs).to.deep.equal(modelFromDefinition(def).specs);
    expect(again.definition.layers.map((l) => l.op)).to.deep.equal(['conv2d', 'avgPool2d', 'flatten', 'dense', 'dense']);
  });

  describe('bad definitions fail with an error naming the layer', () => {
    const cases: Array<{ what: string; def: () => unknown; error: RegExp }> = [
      {
        what: 'an unknown op',
        def: () => definition([FLAT, { ...DENSE_OUT, op: 'lstm' }], OUT_PARAMS),
        error: /layer "out" \(#1, op lstm\): unknown op "lstm"; supported: conv2d, dense/,
      },
      {
        what: 'a dangling input',
        def: () => definition([FLAT, { ...DENSE_OUT, inputs: ['flatt'] }], OUT_PARAMS),
        error: /layer "out" \(#1, op dense\): input "flatt" is not an earlier layer/,
      },
      {
        what: 'a parameter shape mismatch',
        def: () => definition([FLAT, DENSE_OUT], [{ name: 'out/kernel', shape: [15, 3] }, OUT_PARAMS[1]]),
        error: /layer "out" \(#1, op dense\): kernel "out\/kernel" has shape \[15,3\], the layer needs \[16,3\]/,
      },
      {
        what: 'a bad config value',
        def: () => definition([FLAT, { ...DENSE_OUT, config: { units: 3, activation: 'swishy' } }], OUT_PARAMS),
        error: /layer "out" \(#1, op dense\): config: activation/,
      },
      {
        what: 'an unknown config key',
        def: () => definition([FLAT, { ...DENSE_OUT, config: { units: 3, kernel_size: 3 } }], OUT_PARAMS),
        error: /layer "out".*config: .*kernel_size/,
      },
      {
        what: 'a missing parameter',
        def: () => definition([FLAT, { ...DENSE_OUT, params: ['out/kernel'] }], OUT_PARAMS),
        error: /layer "out".*needs 2 parameter\(s\) \(kernel, bias\), lists 1/,
      },
      {
        what: 'an unused parameter',
        def: () => definition([FLAT, DENSE_OUT], [...OUT_PARAMS, { name: 'spare', shape: [2] }]),
        error: /params: "spare" is used by no layer/,
      },
      {
        what: 'logits of the wrong size',
        def: () => definition([FLAT, DENSE_OUT], OUT_PARAMS, [4, 4, 1], 5),
        error: /layer "out".*logits need \[5\]/,
      },
      {
        what: 'a dense layer on an image',
        def: () => definition([{ ...DENSE_OUT, inputs: ['input'] }], OUT_PARAMS),
        error:
          /layer "out" \(#0, op dense\): expects a flat vector \(add a flatten layer before it\) \(rank 1 per example\), got shape \[4,4,1\]/,
      },
      {
        what: 'a dead branch',
        def: () => definition([FLAT, { ...FLAT, name: 'flat2' }, DENSE_OUT], OUT_PARAMS),
        error: /layer "flat2".*reaches no later layer/,
      },
      { what: 'a wrong format', def: () => ({ ...definition([FLAT, DENSE_OUT], OUT_PARAMS), format: 'keras' }), error: /format/ },
    ];
    for (const c of cases) {
      it(c.what, () => {
        expect(() => modelFromDefinition(parseModelDefinition(c.def(), 'test'))).to.throw(c.error);
      });
    }
  });

  it('derives the logit layer and the first dense layer from the graph', () => {
    const mlp = buildModel(modelSchema.parse({ name: 'mlp', hidden: [5] }), [3, 3, 1], 3);
    expect(mlp.firstDenseLayer).to.deep.equal({ kernel: 0, bias: 1 });
    expect(mlp.logitDense).to.deep.equal({ kernel: 2, bias: 3 });
    const softmaxed = modelFromDefinition(definition([FLAT, { ...DENSE_OUT, config: { units: 3, activation: 'softmax' } }], OUT_PARAMS));
    expect(softmaxed.logitDense).to.equal(null);
    expect(() => softmaxed.logitLayer).to.throw(/model "test" does not end in a dense layer with bias and linear activation/);
    expect(softmaxed.firstDenseLayer).to.deep.equal({ kernel: 0, bias: 1 });
  });
});

/** A small graph around one op or activation, for the finite-difference checks. */
function probeDefinition(middle: ModelDefinition['layers'], middleParams: ModelDefinition['params'], flatSize: number): ModelDefinition {
  const last = middle[middle.length - 1].name;
  return definition(
    [
      {
        name: 'conv',
        op: 'conv2d',
        inputs: ['input'],
        config: { filters: 2, kernelSize: [3, 3], padding: 'same', activation: 'tanh' },
        params: ['conv/kernel', 'conv/bias'],
      },
      ...middle,
      { name: 'flat', op: 'flatten', inputs: [last], config: {}, params: [] },
      { name: 'out', op: 'dense', inputs: ['flat'], config: { units: 3 }, params: ['out/kernel', 'out/bias'] },
    ],
    [
      { name: 'conv/kernel', shape: [3, 3, 1, 2] },
      { name: 'conv/bias', shape: [2] },
      ...middleParams,
      { name: 'out/kernel', shape: [flatSize, 3] },
      { name: 'out/bias', shape: [3] },
    ],
    [6, 6, 1],
  );
}

interface DepthwiseCase {
  label: string;
  config: Record<string, unknown>;
  /** Output shape on a 6×6×2 input. */
  out: [number, number, number];
}

/** 'same', 'valid', numeric padding; stride 2 (also unequal); multiplier 2; with and without bias. */
const DEPTHWISE_CASES: DepthwiseCase[] = [
  { label: '3×3 same, stride 1', config: { kernelSize: [3, 3], padding: 'same', activation: 'sigmoid' }, out: [6, 6, 2] },
  {
    label: '3×3 valid, stride 2, multiplier 2',
    config: { kernelSize: [3, 3], strides: [2, 2], depthMultiplier: 2, activation: 'tanh' },
    out: [2, 2, 4],
  },
  {
    label: '2×3 same, strides [2, 1], multiplier 2, no bias',
    config: { kernelSize: [2, 3], strides: [2, 1], padding: 'same', depthMultiplier: 2, useBias: false, activation: 'elu' },
    out: [3, 6, 4],
  },
  { label: '3×3 padding 1, stride 2', config: { kernelSize: [3, 3], strides: [2, 2], padding: 1, activation: 'relu' }, out: [3, 3, 2] },
];

/** A depthwiseConv2d layer "dw" on `input` (2 channels) and its parameter entries. */
function depthwiseLayer(c: DepthwiseCase, input: string): { layer: ModelDefinition['layers'][number]; params: ModelDefinition['params'] } {
  const kernel = c.config.kernelSize as [number, number];
  const multiplier = (c.config.depthMultiplier as number | undefined) ?? 1;
  const bias = c.config.useBias !== false;
  return {
    layer: {
      name: 'dw',
      op: 'depthwiseConv2d',
      inputs: [input],
      config: c.config,
      params: bias ? ['dw/kernel', 'dw/bias'] : ['dw/kernel'],
    },
    params: [
      { name: 'dw/kernel', shape: [kernel[0], kernel[1], 2, multiplier] },
      ...(bias ? [{ name: 'dw/bias', shape: [2 * multiplier] }] : []),
    ],
  };
}

function depthwiseProbes(): ProbeCase[] {
  return DEPTHWISE_CASES.map((c) => {
    const { layer, params } = depthwiseLayer(c, 'conv');
    return { label: `depthwiseConv2d ${c.label}`, def: probeDefinition([layer], params, c.out[0] * c.out[1] * c.out[2]) };
  });
}

interface ProbeCase {
  label: string;
  def: ModelDefinition;
}

const PROBES: ProbeCase[] = [
  ...ACTIVATIONS.map((a) => ({
    label: `activation ${a}`,
    def: probeDefinition(
      [
        {
          name: 'act',
          op: 'activation',
          inputs: ['conv'],
          config: { activation: a, ...(a === 'leakyRelu' ? { alpha: 0.2 } : {}) },
          params: [],
        },
      ],
      [],
      72,
    ),
  })),
  {
    label: 'maxPool2d 2×2 valid',
    def: probeDefinition([{ name: 'pool', op: 'maxPool2d', inputs: ['conv'], config: { poolSize: [2, 2] }, params: [] }], [], 18),
  },
  {
    label: 'maxPool2d 3×3 stride 2 same',
    def: probeDefinition(
      [{ name: 'pool', op: 'maxPool2d', inputs: ['conv'], config: { poolSize: [3, 3], strides: [2, 2], padding: 'same' }, params: [] }],
      [],
      18,
    ),
  },
  {
    label: 'avgPool2d 3×2 stride 1 valid',
    def: probeDefinition(
      [{ name: 'pool', op: 'avgPool2d', inputs: ['conv'], config: { poolSize: [3, 2], strides: [1, 1] }, params: [] }],
      [],
      40,
    ),
  },
  {
    label: 'conv2d stride 2 valid, no bias, fused relu',
    def: probeDefinition(
      [
        {
          name: 'c2',
          op: 'conv2d',
          inputs: ['conv'],
          config: { filters: 3, kernelSize: [2, 3], strides: [2, 1], useBias: false, activation: 'elu' },
          params: ['c2/kernel'],
        },
      ],
      [{ name: 'c2/kernel', shape: [2, 3, 2, 3] }],
      36,
    ),
  },
  ...depthwiseProbes(),
  {
    label: 'zeroPadding2d [[1, 2], [0, 1]] then maxPool2d',
    def: probeDefinition(
      [
        {
          name: 'pad',
          op: 'zeroPadding2d',
          inputs: ['conv'],
          config: {
            padding: [
              [1, 2],
              [0, 1],
            ],
          },
          params: [],
        },
        { name: 'pool', op: 'maxPool2d', inputs: ['pad'], config: { poolSize: [3, 3] }, params: [] },
      ],
      [],
      12,
    ),
  },
  {
    label: 'globalAvgPool2d then reshape',
    def: probeDefinition(
      [
        { name: 'gap', op: 'globalAvgPool2d', inputs: ['conv'], config: {}, params: [] },
        { name: 'shape', op: 'reshape', inputs: ['gap'], config: { targetShape: [1, 2, 1] }, params: [] },
      ],
      [],
      2,
    ),
  },
  {
    label: 'concatenate (channels)',
    def: probeDefinition(
      [
        {
          name: 'c2',
          op: 'conv2d',
          inputs: ['conv'],
          config: { filters: 3, kernelSize: [1, 1], activation: 'sigmoid' },
          params: ['c2/kernel', 'c2/bias'],
        },
        { name: 'cat', op: 'concatenate', inputs: ['conv', 'c2'], config: {}, params: [] },
      ],
      [
        { name: 'c2/kernel', shape: [1, 1, 2, 3] },
        { name: 'c2/bias', shape: [3] },
      ],
      180,
    ),
  },

  {
    label: 'batchNorm on batch statistics (training mode, what attacks replay)',
    def: probeDefinition(
      [
        {
          name: 'bn',
          op: 'batchNorm',
          inputs: ['conv'],
          config: { momentum: 0.9, epsilon: 1e-5 },
          params: ['bn/g', 'bn/b', 'bn/m', 'bn/v'],
        },
      ],
      [
        { name: 'bn/g', shape: [2] },
        { name: 'bn/b', shape: [2] },
        { name: 'bn/m', shape: [2] },
        { name: 'bn/v', shape: [2] },
      ],
      72,
    ),
  },
  {
    label: 'batchNorm without scale and center, then relu',
    def: probeDefinition(
      [
        { name: 'bn', op: 'batchNorm', inputs: ['conv'], config: { center: false, scale: false }, params: ['bn/m', 'bn/v'] },
        { name: 'act', op: 'activation', inputs: ['bn'], config: { activation: 'relu' }, params: [] },
      ],
      [
        { name: 'bn/m', shape: [2] },
        { name: 'bn/v', shape: [2] },
      ],
      72,
    ),
  },
  {
    label: 'normalize (per channel) then rescaling',
    def: probeDefinition(
      [
        { name: 'norm', op: 'normalize', inputs: ['conv'], config: { mean: [0.2, -0.1], std: [0.5, 2] }, params: [] },
        { name: 'scale', op: 'rescaling', inputs: ['norm'], config: { scale: 0.7, offset: -0.3 }, params: [] },
      ],
      [],
      72,
    ),
  },
  {
    label: 'add (residual)',
    def: probeDefinition(
      [
        {
          name: 'c2',
          op: 'conv2d',
          inputs: ['conv'],
          config: { filters: 2, kernelSize: [3, 3], padding: 'same', activation: 'relu' },
          params: ['c2/kernel', 'c2/bias'],
        },
        { name: 'sum', op: 'add', inputs: ['conv', 'c2'], config: {}, params: [] },
      ],
      [
        { name: 'c2/kernel', shape: [3, 3, 2, 2] },
        { name: 'c2/bias', shape: [2] },
      ],
      72,
    ),
  },
];

describe('model definitions: double backprop through every op and activation vs finite differences', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  for (const p of PROBES) {
    it(p.label, () => {
      tf.tidy(() => {
        const rng = new Rng(2024);
        const model = modelFromDefinition(p.def);
        const params = unflattenParams(model.initParams(rng.fork('params')), model.specs);
        const x0 = randomTensor(rng.fork('x0'), [1, 6, 6, 1]) as Tensor4D;
        const target = oneHot([1], 3);
        const trueGrads = parameterGradients(model, params, x0, target);
        const f = (x: Tensor, y: Tensor): Tensor =>
          tf.tidy(() =>
            squaredGradientDistance(parameterGradients(model, params, x as Tensor4D, tf.softmax(y as Tensor2D) as Tensor2D), trueGrads),
          );
        const x = randomTensor(rng.fork('x'), [1, 6, 6, 1]);
        const y = randomTensor(rng.fork('y'), [1, 3]);
        expect(scalarOf(f(x, y))).to.be.above(0);
        expectClose(directionalChecks(f, [x, y], rng.fork('dirs'), 4, 1e-2), 0.03, p.label);
      });
    });
  }
});

/**
 * Each branch of the two depthwise backprop gradients on its own. In the probes above the depthwise
 * kernel is a small share of a whole-model objective, which can hide a wrong branch. Here a depthwise
 * layer sits on the input: its kernel gradient dW (DepthwiseConv2dNativeBackpropFilter) and input
 * gradient dx (…BackpropInput) are matched to random targets, differentiated w.r.t. x and W apart.
 */
describe('depthwiseConv2d: gradients of its backprop kernels, w.r.t. input and kernel apart, vs finite differences', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend({ quiet: true });
  });

  for (const c of DEPTHWISE_CASES) {
    it(c.label, () => {
      tf.tidy(() => {
        const { layer, params: dwParams } = depthwiseLayer(c, 'input');
        const flatSize = c.out[0] * c.out[1] * c.out[2];
        const model = modelFromDefinition(
          definition(
            [layer, { ...FLAT, inputs: ['dw'] }, DENSE_OUT],
            [...dwParams, { name: 'out/kernel', shape: [flatSize, 3] }, OUT_PARAMS[1]],
            [6, 6, 2],
          ),
        );
        const rng = new Rng(99);
        const [w0, ...rest] = unflattenParams(model.initParams(rng.fork('params')), model.specs);
        const x0 = randomTensor(rng.fork('x0'), [1, 6, 6, 2]);
        const target = tf.softmax(randomTensor(rng.fork('t'), [1, 3])) as Tensor2D;
        const loss = (x: Tensor, w: Tensor): Tensor => softCrossEntropy(model.apply([w, ...rest], x as Tensor4D), target);
        const kernelGradient = (x: Tensor, w: Tensor): Tensor => tf.grad((k: Tensor) => loss(x, k))(w);
        const inputGradient = (x: Tensor, w: Tensor): Tensor => tf.grad((z: Tensor) => loss(z, w))(x);
        const kernelTarget = randomTensor(rng.fork('gw'), w0.shape, 0.1);
        const inputTarget = randomTensor(rng.fork('gx'), x0.shape, 0.1);
        const objectives: Array<[string, (z: Tensor) => Tensor, Tensor]> = [
          ['BackpropFilter w.r.t. x', (x) => squaredGradientDistance([kernelGradient(x, w0)], [kernelTarget]), x0],
          ['BackpropFilter w.r.t. W', (w) => squaredGradientDistance([kernelGradient(x0, w)], [kernelTarget]), w0],
          ['BackpropInput w.r.t. x', (x) => squaredGradientDistance([inputGradient(x, w0)], [inputTarget]), x0],
          ['BackpropInput w.r.t. W', (w) => squaredGradientDistance([inputGradient(x0, w)], [inputTarget]), w0],
        ];
        for (const [what, f, at] of objectives) {
          const g = (z: Tensor): Tensor => tf.tidy(() => f(z));
          expectClose(directionalChecks(g, [at], rng.fork(what), 4, 1e-2), 0.03, `${c.label}: ${what}`);
        }
      });
    });
  }
});
