import { tf, type Tensor, type Tensor4D, type Tensor2D } from '../tensor/tf';
import type { Activation } from './types';

export function activate(x: Tensor, activation: Activation): Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
  }
}

/** Convolution with symmetric numeric padding (PyTorch's `padding=p`), then bias. */
export function conv(x: Tensor4D, kernel: Tensor, bias: Tensor, stride: number, padding: number): Tensor4D {
  return tf.add(tf.conv2d(x, kernel as Tensor4D, stride, padding), bias) as Tensor4D;
}

export function dense(x: Tensor2D, kernel: Tensor, bias: Tensor): Tensor2D {
  return tf.add(tf.matMul(x, kernel as Tensor2D), bias) as Tensor2D;
}

export function flattenBatch(x: Tensor): Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]) as Tensor2D;
}

export function convOutputSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}
