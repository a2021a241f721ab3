/**
 * Adam fed the SIGN of the gradient (Inverting Gradients' optimiser: torch.optim.Adam on
 * x.grad.sign()), with PyTorch's update x −= lr/bc1 · m / (√v / √bc2 + ε). The caller owns x; the
 * moments live here until dispose().
 */
import { tf, type Tensor } from '../../../shared/tensor/tf';

export interface SignAdamOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

export const SIGN_ADAM_DEFAULTS: SignAdamOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export class SignAdam {
  private m: Tensor;
  private v: Tensor;
  private steps = 0;

  constructor(
    like: Tensor,
    private readonly options: SignAdamOptions = SIGN_ADAM_DEFAULTS,
  ) {
    this.m = tf.zerosLike(like);
    this.v = tf.zerosLike(like);
  }

  /** The next x from `grad` at x with step size `lr`, passed through `project` (e.g. a clip); x and grad stay the caller's. */
  step(x: Tensor, grad: Tensor, lr: number, project: (next: Tensor) => Tensor = (next) => next): Tensor {
    const { beta1, beta2, eps } = this.options;
    const t = ++this.steps;
    const [next, m, v] = tf.tidy(() => {
      const sg = tf.sign(grad);
      const m1 = tf.add(tf.mul(this.m, beta1), tf.mul(sg, 1 - beta1));
      const v1 = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(sg), 1 - beta2));
      const bc1 = 1 - Math.pow(beta1, t);
      const bc2 = 1 - Math.pow(beta2, t);
      const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), eps);
      return [project(tf.sub(x, tf.mul(tf.div(m1, denom), lr / bc1))), m1, v1];
    });
    tf.dispose([this.m, this.v]);
    this.m = m;
    this.v = v;
    return next;
  }

  dispose(): void {
    tf.dispose([this.m, this.v]);
  }
}
