/**
 * fedleak's replacements for the stock tfjs cpu kernels that dominate attack and training time
 * (see docs/kernels.md). Each fast kernel handles the float32 NHWC cases the models produce and
 * hands anything else (other dtypes, dilations, NCHW, exotic broadcasts) to the stock kernel,
 * whose config is kept so that tests can compare the two.
 */
import { tf } from '../tf';
import { asCpuBackend, f32, sizeOf, type CpuBackendLike, type TensorInfo } from './cpu-backend';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward, type ConvGeometry } from './conv';
import { broadcastBinary, broadcastShape, type BinaryOp } from './binary';
import { batchMatMul, batchMatMulWasm } from './matmul';
import { neg, relu, sigmoid, step, sumAxes } from './reduce-unary';
import { LEAN_GRADIENTS } from './lean-grads';
import { registerFusedKernels } from './fused';
import { conv2dBackpropFilterWasm, conv2dBackpropInputWasm, conv2dForwardWasm } from './conv-wasm';
import { wasmGemm } from './wasm-gemm';
import { padF32, sliceF32 } from './slice-pad';
import { argmaxIndexes, maxPoolArgmax, maxPoolGrad, type PoolGeometry } from './max-pool';

export { squaredDistance, sigmoidBackward, softCrossEntropyFused } from './fused';

/**
 * 'wasm': im2col + WebAssembly SIMD GEMM for convolutions and BatchMatMul (default when the
 * runtime supports it); 'js': the plain TypeScript loops of conv.ts and matmul.ts (fallback, and
 * a second reference in tests). Elementwise and fused kernels use wasm whenever it loads.
 */
export type ConvImpl = 'wasm' | 'js';
let convImpl: ConvImpl = wasmGemm() ? 'wasm' : 'js';

export function setConvImpl(impl: ConvImpl): void {
  if (impl === 'wasm' && !wasmGemm()) throw new Error('this runtime has no WebAssembly SIMD; conv kernels stay on js');
  convImpl = impl;
}

export function getConvImpl(): ConvImpl {
  return convImpl;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];
type KernelArgs = Parameters<KernelFunc>[0];

/** Kernel names fedleak replaces on the cpu backend. */
export const FAST_KERNEL_NAMES = [
  'Conv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'SquaredDifference',
  'BatchMatMul',
  'Sum',
  'Sigmoid',
  'Neg',
  'Slice',
  'PadV2',
  'MaxPool',
  'MaxPoolGrad',
  'MaxPoolWithArgmax',
  'Relu',
  'Step',
  'Mean',
] as const;
export type FastKernelName = (typeof FAST_KERNEL_NAMES)[number];

const stock = new Map<string, tf.KernelConfig>();

/** The stock tfjs cpu kernel that `name` replaced (for tests and for delegation). */
export function stockKernel(name: FastKernelName): tf.KernelConfig {
  const config = stock.get(name) ?? tf.getKernel(name, 'cpu');
  if (!config) throw new Error(`no stock cpu kernel ${name} is registered`);
  return config;
}

/** Our kernel function for `name` (also callable directly by tests). */
export function fastKernel(name: FastKernelName): KernelFunc {
  return FAST[name];
}

function isFloat(...ts: TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32');
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];
interface ConvAttrs {
  strides: Pair;
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: Pair;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function isOne(p: Pair | undefined): boolean {
  return p === undefined || (typeof p === 'number' ? p === 1 : p[0] === 1 && p[1] === 1);
}

/** computeConv2DInfo is costly next to these small convolutions; a model has few distinct geometries. */
const geometries = new Map<string, ConvGeometry>();

function geometry(xShape: number[], filterShape: number[], a: ConvAttrs): ConvGeometry {
  const key = `${xShape}|${filterShape}|${a.strides}|${typeof a.pad === 'object' ? JSON.stringify(a.pad) : a.pad}|${a.dimRoundingMode}`;
  let g = geometries.get(key);
  if (!g) {
    g = computeGeometry(xShape, filterShape, a);
    if (geometries.size > 1000) geometries.clear();
    geometries.set(key, g);
  }
  return g;
}

function computeGeometry(xShape: number[], filterShape: number[], a: ConvAttrs): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    fh: info.filterHeight,
    fw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

function convSupported(a: ConvAttrs, ...ts: TensorInfo[]): boolean {
  return isFloat(...ts) && (a.dataFormat === undefined || a.dataFormat === 'NHWC') && isOne(a.dilations);
}

function conv2DKernel(args: KernelArgs): TensorInfo {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  if (!convSupported(attrs, x, filter)) return stockKernel('Conv2D').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const g = geometry(x.shape, filter.shape, attrs);
  const gemm = convImpl === 'wasm' ? wasmGemm() : null;
  const out = gemm
    ? conv2dForwardWasm(gemm, f32(backend, x), f32(backend, filter), g)
    : conv2dForward(f32(backend, x), f32(backend, filter), g);
  return backend.makeTensorInfo([g.batch, g.outH, g.outW, g.outC], 'float32', out);
}

function conv2DBackpropInputKernel(args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  if (!convSupported(attrs, dy, filter)) return stockKernel('Conv2DBackpropInput').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const g = geometry(attrs.inputShape, filter.shape, attrs);
  const gemm = convImpl === 'wasm' ? wasmGemm() : null;
  const dx = gemm
    ? conv2dBackpropInputWasm(gemm, f32(backend, dy), f32(backend, filter), g)
    : conv2dBackpropInput(f32(backend, dy), f32(backend, filter), g);
  return backend.makeTensorInfo([...attrs.inputShape], 'float32', dx);
}

function conv2DBackpropFilterKernel(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  if (!convSupported(attrs, x, dy)) return stockKernel('Conv2DBackpropFilter').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const g = geometry(x.shape, attrs.filterShape, attrs);
  const gemm = convImpl === 'wasm' ? wasmGemm() : null;
  const dw = gemm
    ? conv2dBackpropFilterWasm(gemm, f32(backend, x), f32(backend, dy), g)
    : conv2dBackpropFilter(f32(backend, x), f32(backend, dy), g);
  return backend.makeTensorInfo([...attrs.filterShape], 'float32', dw);
}

function binaryKernel(name: FastKernelName, op: BinaryOp): KernelFunc {
  return (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!isFloat(a, b)) return stockKernel(name).kernelFunc(args);
    const backend: CpuBackendLike = asCpuBackend(args.backend);
    const { values, shape } = broadcastBinary(op, f32(backend, a), a.shape, f32(backend, b), b.shape);
    return backend.makeTensorInfo(shape, 'float32', values);
  };
}

function batchMatMulKernel(args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const ra = a.shape.length;
  const rb = b.shape.length;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!isFloat(a, b) || !(sameOuter || batchA === 1 || batchB === 1)) {
    return stockKernel('BatchMatMul').kernelFunc(args) as TensorInfo;
  }
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const backend = asCpuBackend(args.backend);
  const shape = { batchA, batchB, m, n, k, transposeA, transposeB };
  const gemm = convImpl === 'wasm' ? wasmGemm() : null;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  const out = (gemm ? batchMatMulWasm(gemm, av, bv, shape) : null) ?? batchMatMul(av, bv, shape);
  const outer = broadcastShape(outerA, outerB);
  return backend.makeTensorInfo([...outer, m, n], 'float32', out);
}

function sumKernel(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  if (!isFloat(x)) return stockKernel('Sum').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const { values, shape } = sumAxes(f32(backend, x), x.shape, axes);
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape;
  return backend.makeTensorInfo(outShape, 'float32', values);
}

/** As the stock Mean (each value divided by the count in float32, then summed), without Sum's transpose. */
function meanKernel(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  if (!isFloat(x)) return stockKernel('Mean').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const xv = f32(backend, x);
  const scaled = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) scaled[i] = xv[i] / count;
  const { values, shape } = sumAxes(scaled, x.shape, axes);
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape;
  return backend.makeTensorInfo(outShape, 'float32', values);
}

/** An elementwise float32 kernel from a loop over the values; other dtypes go to the stock kernel. */
function unaryKernel(name: FastKernelName, op: (values: Float32Array) => Float32Array): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!isFloat(x)) return stockKernel(name).kernelFunc(args) as TensorInfo;
    const backend = asCpuBackend(args.backend);
    return backend.makeTensorInfo([...x.shape], 'float32', op(f32(backend, x)));
  };
}

const sigmoidKernel = unaryKernel('Sigmoid', sigmoid);
const negKernel = unaryKernel('Neg', neg);
const reluKernel = unaryKernel('Relu', relu);

function stepKernel(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (!isFloat(x)) return stockKernel('Step').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const { alpha } = args.attrs as unknown as { alpha: number };
  return backend.makeTensorInfo([...x.shape], 'float32', step(f32(backend, x), alpha));
}

function sliceKernel(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  if (!isFloat(x)) return stockKernel('Slice').kernelFunc(args) as TensorInfo;
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  tf.slice_util.assertParamsValid(x, b, s);
  const backend = asCpuBackend(args.backend);
  return backend.makeTensorInfo(s, 'float32', sliceF32(f32(backend, x), x.shape, b, s));
}

function padKernel(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
  if (!isFloat(x)) return stockKernel('PadV2').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const { values, shape } = padF32(f32(backend, x), x.shape, paddings, constantValue);
  return backend.makeTensorInfo(shape, 'float32', values);
}

interface PoolAttrs {
  filterSize: Pair;
  strides: Pair;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolGeometry(xShape: number[], a: PoolAttrs): PoolGeometry {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    channels: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    fh: info.filterHeight,
    fw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

function maxPoolKernel(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (!isFloat(x)) return stockKernel('MaxPool').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const g = poolGeometry(x.shape, args.attrs as unknown as PoolAttrs);
  return backend.makeTensorInfo([g.batch, g.outH, g.outW, g.channels], 'float32', maxPoolArgmax(f32(backend, x), g).values);
}

function maxPoolGradKernel(args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  if (!isFloat(dy, input)) return stockKernel('MaxPoolGrad').kernelFunc(args) as TensorInfo;
  const backend = asCpuBackend(args.backend);
  const g = poolGeometry(input.shape, args.attrs as unknown as PoolAttrs);
  return backend.makeTensorInfo([...input.shape], 'float32', maxPoolGrad(f32(backend, dy), f32(backend, input), g));
}

function maxPoolWithArgmaxKernel(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  if (!isFloat(x)) return stockKernel('MaxPoolWithArgmax').kernelFunc(args) as TensorInfo[];
  const attrs = args.attrs as unknown as PoolAttrs & { includeBatchInIndex: boolean };
  const backend = asCpuBackend(args.backend);
  const g = poolGeometry(x.shape, { filterSize: attrs.filterSize, strides: attrs.strides, pad: attrs.pad });
  const { values, argmax } = maxPoolArgmax(f32(backend, x), g);
  const shape = [g.batch, g.outH, g.outW, g.channels];
  return [
    backend.makeTensorInfo(shape, 'float32', values),
    backend.makeTensorInfo(shape, 'int32', argmaxIndexes(argmax, g, attrs.includeBatchInIndex)),
  ];
}

const FAST: Record<FastKernelName, KernelFunc> = {
  Conv2D: conv2DKernel,
  Conv2DBackpropInput: conv2DBackpropInputKernel,
  Conv2DBackpropFilter: conv2DBackpropFilterKernel,
  Add: binaryKernel('Add', 'add'),
  Sub: binaryKernel('Sub', 'sub'),
  Multiply: binaryKernel('Multiply', 'mul'),
  RealDiv: binaryKernel('RealDiv', 'div'),
  SquaredDifference: binaryKernel('SquaredDifference', 'squaredDifference'),
  BatchMatMul: batchMatMulKernel,
  Sum: sumKernel,
  Sigmoid: sigmoidKernel,
  Neg: negKernel,
  Slice: sliceKernel,
  PadV2: padKernel,
  MaxPool: maxPoolKernel,
  MaxPoolGrad: maxPoolGradKernel,
  MaxPoolWithArgmax: maxPoolWithArgmaxKernel,
  Relu: reluKernel,
  Step: stepKernel,
  Mean: meanKernel,
};

let registered = false;

/** Replaces the stock cpu kernels listed in FAST_KERNEL_NAMES (once per process). */
export function registerFastCpuKernels(): void {
  if (registered) return;
  registered = true;
  for (const name of FAST_KERNEL_NAMES) {
    const original = tf.getKernel(name, 'cpu');
    if (!original) throw new Error(`registerFastCpuKernels: tfjs has no stock cpu kernel ${name}`);
    stock.set(name, original);
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ ...original, kernelName: name, backendName: 'cpu', kernelFunc: FAST[name] });
  }
  for (const config of LEAN_GRADIENTS) tf.registerGradient(config);
  registerFusedKernels();
}

function install(configs: (name: FastKernelName) => tf.KernelConfig): void {
  for (const name of FAST_KERNEL_NAMES) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(configs(name));
  }
}

/**
 * Runs `fn` with the stock tfjs kernels in place of fedleak's (for tests and `fedleak bench`
 * comparisons), then puts the fast ones back. A no-op wrapper when the fast kernels are not in use.
 */
export function withStockCpuKernels<T>(fn: () => T): T {
  if (!registered) return fn();
  install((name) => stockKernel(name));
  try {
    return fn();
  } finally {
    install((name) => ({ ...stockKernel(name), kernelFunc: FAST[name] }));
  }
}
