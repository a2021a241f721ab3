/**
 * A model with an imprint block in front: flatten → Linear(N→k) → ReLU → Linear(k→N) → back to the
 * image shape → the original model. Interim seam until models travel as layer-graph definitions:
 * then the block becomes three layer nodes and four ParamSpecs prepended to the definition.
 */
import { dense, flattenBatch } from '../../shared/models/layers';
import type { Model } from '../../shared/models/types';
import type { Rng } from '../../shared/random';
import { tf, type Tensor, type Tensor4D } from '../../shared/tensor/tf';
import { imprintBlockParams, type ImprintBlock } from './imprint';

/** Number of parameter tensors the block adds before the wrapped model's own. */
export const IMPRINT_PARAM_TENSORS = 4;

export function withImprintBlock(model: Model, block: ImprintBlock): Model {
  const [h, w, c] = model.inputShape;
  if (h * w * c !== block.secrets.inputSize) {
    throw new Error(
      `imprint: the block takes ${block.secrets.inputSize} inputs, the model's input [${model.inputShape.join(', ')}] has ${h * w * c}`,
    );
  }
  const shift = IMPRINT_PARAM_TENSORS;
  return {
    name: `imprint+${model.name}`,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    specs: [...block.specs, ...model.specs],
    logitLayer: { kernel: model.logitLayer.kernel + shift, bias: model.logitLayer.bias + shift },
    firstDenseLayer: { kernel: 0, bias: 1 },
    initParams(rng: Rng): Float32Array {
      const blockParams = imprintBlockParams(block);
      const rest = model.initParams(rng);
      const out = new Float32Array(blockParams.length + rest.length);
      out.set(blockParams);
      out.set(rest, blockParams.length);
      return out;
    },
    apply(params: readonly Tensor[], images: Tensor4D) {
      return tf.tidy(() => {
        const x = flattenBatch(images);
        const bins = tf.relu(dense(x, params[0], params[1]));
        const back = dense(bins, params[2], params[3]);
        return model.apply(params.slice(shift), tf.reshape(back, [-1, h, w, c]) as Tensor4D);
      });
    },
  };
}
