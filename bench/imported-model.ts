/**
 * The imported model of the IG speed bench: a small functional tfjs model built and saved here, in
 * the layout tfjs's file:// handler writes (model.json + one weight shard), then loaded by fedleak as
 * model `tfjs-layers`. Its PyTorch twin is `--net residual-cnn` of bench/ig_resnet_torch.py.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../shared/tensor/tf';
import type { ImageShape } from '../shared/models/types';

export const RESIDUAL_CNN_SHAPE: ImageShape = [32, 32, 3];
export const RESIDUAL_CNN_CLASSES = 10;

/** Conv3×3(16, same, relu) → MaxPool 2×2 → Conv3×3(16, same, relu) → Add(pool, conv2) → Flatten → Dense(10). */
export function residualCnn(): tf.LayersModel {
  const input = tf.input({ shape: RESIDUAL_CNN_SHAPE });
  const conv1 = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(conv1) as tf.SymbolicTensor;
  const conv2 = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(pooled) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([pooled, conv2]) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(sum) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: RESIDUAL_CNN_CLASSES }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'residual-cnn' });
}

/** Saves `model` into `dir` as model.json + group1-shard1of1.bin; returns the model.json path. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  const shard = 'group1-shard1of1.bin';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!(artifacts.weightData instanceof ArrayBuffer)) throw new Error('saveLayersModel: expected the weights as one ArrayBuffer');
      fs.writeFileSync(path.join(dir, shard), new Uint8Array(artifacts.weightData));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: 'fedleak bench',
        convertedBy: null,
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path.join(dir, 'model.json');
}
