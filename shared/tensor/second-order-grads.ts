/**
 * Gradients that tfjs-core does not register but double backprop (DLG and successors) needs.
 * STUB: filled in by the second-order-gradients work (Conv2DBackpropFilter, AvgPoolGrad).
 */
let registered = false;

export function registerSecondOrderGradients(): void {
  if (registered) return;
  registered = true;
}
