/**
 * `"dataset": "none"`: the server holds no data at all (data.location "clients" only). The task the
 * model is built for comes from `data.shape` and `data.classes`; every example lives on a client.
 */
import { datasetEntry } from '../entry';
import { DataError } from '../errors';
import { classesField, shapeField } from '../fields';

export const NO_SERVER_DATA = 'none';

export const noneDataset = datasetEntry(
  NO_SERVER_DATA,
  'no data on the server (data.location "clients"): the clients\' images are data.shape, data.classes classes',
  { shape: shapeField, classes: classesField },
  {
    problems: () => [],
    load() {
      throw new DataError(
        'data.dataset "none" holds no examples: it describes client-held data (data.location "clients"), which only the clients load',
      );
    },
  },
);
