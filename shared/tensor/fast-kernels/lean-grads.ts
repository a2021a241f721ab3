/**
 * Leaner gradients for the elementwise kernels that double backprop runs most often. tfjs-core's
 * versions always reshape (even to the same shape), cast float32 to float32, and compute
 * 2·(a − b) twice for SquaredDifference; every one of those is a kernel call with engine and tape
 * overhead, and the gradient graph is differentiated again, so they multiply. Same mathematics,
 * fewer kernels. Registered with the fast cpu kernels (FEDLEAK_STOCK_KERNELS=1 keeps tfjs's).
 */
import { tf, type Tensor } from '../tf';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** dy summed over the axes `shape` was broadcast along, in `shape`. */
function unbroadcast(dy: Tensor, shape: number[]): Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
  const reduced = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return sameShape(reduced.shape, shape) ? reduced : tf.reshape(reduced, shape);
}

function asFloat(t: Tensor): Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

export const LEAN_GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const d = dy as Tensor;
      return { a: () => unbroadcast(d, a.shape), b: () => unbroadcast(d, b.shape) };
    },
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const d = dy as Tensor;
      return { a: () => unbroadcast(d, a.shape), b: () => tf.neg(unbroadcast(d, b.shape)) };
    },
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const d = dy as Tensor;
      return { a: () => unbroadcast(tf.mul(d, asFloat(b)), a.shape), b: () => unbroadcast(tf.mul(d, asFloat(a)), b.shape) };
    },
  },
  {
    kernelName: 'SquaredDifference',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const d = dy as Tensor;
      // ∂/∂a = 2·dy·(a − b) = −∂/∂b; tfjs-core builds the product twice.
      const da = tf.mul(tf.sub(a, b), tf.mul(d, 2));
      return { a: () => da, b: () => tf.neg(da) };
    },
  },
  {
    // tfjs-core multiplies dy by ones of x's shape, then divides that full-size product by the count;
    // dividing the small dy first and broadcasting once gives the same values with one large kernel.
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      return { x: () => tf.mul(tf.div(tf.reshape(dy as Tensor, expanded), count), tf.ones(x.shape, 'float32')) };
    },
  },
  {
    // tfjs-core casts Step's float32 output to float32 again: one kernel more per ReLU, twice under double backprop.
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => tf.mul(dy as Tensor, asFloat(tf.step(x))) };
    },
  },
  {
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => tf.mul(dy as Tensor, tf.mul(asFloat(x), 2)) };
    },
  },
];
