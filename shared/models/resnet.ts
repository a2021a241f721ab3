/**
 * CIFAR-style residual networks with batch norm (He et al. 2016), as breaching and the gradient-
 * inversion literature attack them. Depth 6n+2 (8, 14, 20): a 3×3 stem of 16·width channels, three
 * stages of n basic blocks with 16, 32 and 64 ×width channels (stride 2 entering stages 2 and 3).
 * Depth 18: the CIFAR variant of ResNet-18 (3×3 stem, no max-pool; four stages of two blocks with
 * 64, 128, 256, 512 ×width channels, strides 1, 2, 2, 2). Basic block: conv3×3 → BN → ReLU →
 * conv3×3 → BN, plus the identity or a 1×1 conv → BN shortcut when the shape changes; ReLU after
 * the sum. Then global average pooling → Dense(classes). Convolutions have no bias; padding is
 * PyTorch's symmetric 1 for 3×3, batch norm has PyTorch's ε 1e-5 and momentum 0.1 (0.9 kept).
 */
import { z } from 'zod';
import { modelEntry } from './entry';
import { initField, widthField } from './fields';
import type { ImageShape } from './types';
import { GraphBuilder } from './graph/builder';
import type { ModelDefinition } from './graph/validate';
import type { InitScheme } from './init';

export const RESNET_DEPTHS = [8, 14, 18, 20] as const;
export type ResnetDepth = (typeof RESNET_DEPTHS)[number];

/** PyTorch's BatchNorm2d defaults, in the op's (Keras) momentum convention. */
export const TORCH_BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

function stagesOf(depth: ResnetDepth, width: number): { filters: number; blocks: number; stride: number }[] {
  if (depth === 18) return [64, 128, 256, 512].map((f, i) => ({ filters: f * width, blocks: 2, stride: i === 0 ? 1 : 2 }));
  const n = (depth - 2) / 6;
  return [16, 32, 64].map((f, i) => ({ filters: f * width, blocks: n, stride: i === 0 ? 1 : 2 }));
}

/** conv (no bias) → batch norm, named <name>/conv and <name>/bn; returns the batch norm's name. */
function convBn(g: GraphBuilder, name: string, from: string, filters: number, kernel: number, stride: number): string {
  g.conv2d(`${name}/conv`, { filters, kernelSize: kernel, stride, padding: kernel === 3 ? 1 : 0, useBias: false }, from);
  g.add(`${name}/bn`, 'batchNorm', { ...TORCH_BATCH_NORM });
  return `${name}/bn`;
}

function basicBlock(g: GraphBuilder, name: string, from: string, filters: number, stride: number, inFilters: number): string {
  convBn(g, `${name}/a`, from, filters, 3, stride);
  g.add(`${name}/a/relu`, 'activation', { activation: 'relu' });
  const b = convBn(g, `${name}/b`, `${name}/a/relu`, filters, 3, 1);
  const shortcut = stride !== 1 || inFilters !== filters ? convBn(g, `${name}/shortcut`, from, filters, 1, stride) : from;
  g.add(`${name}/add`, 'add', {}, [b, shortcut]);
  g.add(`${name}/relu`, 'activation', { activation: 'relu' });
  return `${name}/relu`;
}

export function resnetDefinition(
  inputShape: ImageShape,
  numClasses: number,
  o: { depth: ResnetDepth; width: number; init?: InitScheme },
): ModelDefinition {
  const g = new GraphBuilder('resnet', inputShape, numClasses, o.init ?? { kind: 'fan-in' });
  const stages = stagesOf(o.depth, o.width);
  let filters = stages[0].filters;
  convBn(g, 'stem', 'input', filters, 3, 1);
  let last = g.add('stem/relu', 'activation', { activation: 'relu' }).current;
  stages.forEach((stage, s) => {
    for (let b = 0; b < stage.blocks; b++) {
      last = basicBlock(g, `stage${s + 1}/block${b + 1}`, last, stage.filters, b === 0 ? stage.stride : 1, filters);
      filters = stage.filters;
    }
  });
  g.add('pool', 'globalAvgPool2d', {});
  g.dense('logits', { units: numClasses });
  return g.build();
}

export const resnetModel = modelEntry(
  'resnet',
  'CIFAR-style ResNet with batch norm: depth 8/14/20 (6n+2, 16·width base channels) or 18 (ResNet-18, 64·width), global pool → Dense',
  {
    /** 8, 14, 20 (CIFAR ResNets) or 18 (ResNet-18's CIFAR variant); default 8. */
    depth: z
      .union(RESNET_DEPTHS.map((d) => z.literal(d)) as unknown as [z.ZodLiteral<8>, z.ZodLiteral<14>, z.ZodLiteral<18>, z.ZodLiteral<20>])
      .optional(),
    width: widthField,
    init: initField,
  },
  (c, shape, k) => resnetDefinition(shape, k, { depth: c.depth ?? 8, width: c.width ?? 1, init: c.init }),
);
