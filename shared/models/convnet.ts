/**
 * A configurable conv net: [Conv(k×k, stride, padding) → activation → optional AvgPool 2×2]* →
 * flatten → [Dense(width) → activation]* → Dense(classes).
 */
import { z } from 'zod';
import type { InitScheme } from './init';
import { modelEntry } from './entry';
import { activationField, hiddenField, initField } from './fields';
import type { Activation, ImageShape } from './types';
import { GraphBuilder } from './graph/builder';
import type { ModelDefinition } from './graph/validate';
import { denseHead } from './mlp';

export interface ConvnetOptions {
  channels: number[];
  kernelSize: number;
  stride: number;
  padding: number;
  activation: Activation;
  pool: boolean;
  hidden: number[];
  init?: InitScheme;
}

export function convnetDefinition(inputShape: ImageShape, numClasses: number, o: ConvnetOptions): ModelDefinition {
  const g = new GraphBuilder('convnet', inputShape, numClasses, o.init ?? { kind: 'fan-in' });
  o.channels.forEach((filters, i) => {
    g.conv2d(`conv${i + 1}`, { filters, kernelSize: o.kernelSize, stride: o.stride, padding: o.padding, activation: o.activation });
    if (o.pool) g.pool(`pool${i + 1}`, 'avgPool2d', 2);
  });
  g.flatten('flatten');
  denseHead(g, o.hidden, o.activation, numClasses);
  return g.build();
}

const positiveInt = z.number().int().positive();

export const convnetModel = modelEntry(
  'convnet',
  '[Conv(k×k, stride, padding) → activation → AvgPool 2×2 if pool] per channel count → flatten → the mlp head',
  {
    /** Output channels of each conv layer. */
    channels: z.array(positiveInt).default([16, 32]),
    kernelSize: positiveInt.default(3),
    stride: positiveInt.default(1),
    padding: z.number().int().nonnegative().default(1),
    pool: z.boolean().default(true),
    hidden: hiddenField,
    activation: activationField,
    init: initField,
  },
  (c, shape, k) => convnetDefinition(shape, k, c),
);
