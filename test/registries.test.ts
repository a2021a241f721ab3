/**
 * Model and dataset registries: each entry carries its own schema, the scenario's `model` / `data`
 * sections are composed from the entries, and the flat spellings scenarios have always used stay
 * valid and mean the same.
 */
import { expect } from 'chai';
import { MODEL_ENTRIES } from '../shared/models/registry';
import type { ModelEntry } from '../shared/models/entry';
import { modelSchema } from '../shared/models/schema';
import { definitionFor, modelFromDefinition } from '../shared/models';
import { DATASET_ENTRIES } from '../shared/data/registry';
import { dataConfigProblems, dataSchema } from '../shared/data/schema';

describe('registries', () => {
  it('every built-in model: its own schema, a valid definition, and a name the scenario schema accepts', () => {
    for (const entry of MODEL_ENTRIES as readonly ModelEntry[]) {
      const own = entry.schema.parse({ name: entry.name });
      // A model read from a file (tfjs-layers) says what it lacks instead (test/tfjs-import.test.ts runs it).
      if (entry.problems?.(own).length) {
        expect(() => entry.definition(own, [32, 32, 3], 3)).to.throw(/model\.path/);
        continue;
      }
      const def = entry.definition(own, [32, 32, 3], 3);
      expect(modelFromDefinition(def).name).to.equal(entry.name);
      expect(modelSchema.parse({ name: entry.name }).name).to.equal(entry.name);
      // The entry's own schema refuses the fields of the others (the merged scenario section does not).
      if (!('channels' in entry.fields)) expect(() => entry.schema.parse({ name: entry.name, channels: [2] })).to.throw(/channels/);
    }
    expect(() => modelSchema.parse({ name: 'vgg' })).to.throw(/lenet-zhu.*mlp.*convnet/);
  });

  it('a field of another model is still accepted in the scenario and ignored, as before', () => {
    const plain = definitionFor(modelSchema.parse({ name: 'lenet-zhu' }), [8, 8, 1], 3);
    const withHidden = definitionFor(modelSchema.parse({ name: 'lenet-zhu', hidden: [7], channels: [3] }), [8, 8, 1], 3);
    expect(withHidden).to.deep.equal(plain);
  });

  it('every dataset: its own schema and its own cross-field rules, composed into data', () => {
    for (const entry of DATASET_ENTRIES) {
      expect(entry.schema.shape.dataset.value).to.equal(entry.name);
      expect(dataSchema.parse({ dataset: entry.name }).dataset).to.equal(entry.name);
    }
    expect(dataConfigProblems(dataSchema.parse({ dataset: 'idx', images: 'a' }))).to.deep.equal([
      'data.images and data.labels: both are required when data.dataset is "idx"',
    ]);
    expect(dataConfigProblems(dataSchema.parse({ dataset: 'cifar10' }))[0]).to.match(/^data\.files: /);
    expect(dataConfigProblems(dataSchema.parse({ dataset: 'synthetic', shape: [4, 4, 1] }))).to.deep.equal([]);
  });
});
