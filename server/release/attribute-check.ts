/**
 * Load-time checks of the `attribute-inference` entries of release.attacks: the dataset must be a CSV
 * table held by the server, and `sensitive` one of the model's input columns that is categorical or
 * numeric with few values. One line per problem, naming the field; the table is read to check it.
 */
import { DataError, loadDataset } from '../../shared/data';
import type { DataConfig } from '../../shared/data/schema';
import { sensitiveColumn, SensitiveColumnError } from './attribute-column';
import type { ReleaseConfig } from './schema';

export function attributeInferenceProblems(release: ReleaseConfig | undefined, data: DataConfig, seed: number): string[] {
  const entries = (release?.attacks ?? []).map((a, i) => ({ a, i })).filter(({ a }) => a.name === 'attribute-inference');
  if (entries.length === 0) return [];
  if (data.dataset !== 'csv')
    return entries.map(
      ({ i }) => `release.attacks.${i}.name: attribute-inference needs a table (data.dataset "csv"), but data.dataset is "${data.dataset}"`,
    );
  if (data.location === 'clients')
    return entries.map(
      ({ i }) =>
        `release.attacks.${i}.name: attribute-inference scores the training records (members), which stay on the clients when data.location is "clients"`,
    );
  let table;
  try {
    table = loadDataset(data, seed);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    return entries.map(({ i }) => `release.attacks.${i}.sensitive: cannot read the table to check the column: ${err.message}`);
  }
  const problems: string[] = [];
  for (const { a, i } of entries) {
    if (a.name !== 'attribute-inference') continue;
    try {
      sensitiveColumn(a.sensitive, data, [table]);
    } catch (err) {
      if (!(err instanceof SensitiveColumnError)) throw err;
      problems.push(`release.attacks.${i}.sensitive: ${err.message}`);
    }
  }
  return problems;
}
