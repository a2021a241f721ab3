/**
 * fedleak's replacements for the stock tfjs cpu kernels that dominate attack and training time.
 * STUB: filled in by the fast-kernels work.
 */
let registered = false;

export function registerFastCpuKernels(): void {
  if (registered) return;
  registered = true;
}
