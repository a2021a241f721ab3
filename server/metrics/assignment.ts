/**
 * Minimum-cost assignment (the Hungarian method, in its O(n²·m) shortest-augmenting-path form
 * with row and column potentials). Used to pair each reconstruction of a batch with one original.
 */

/**
 * For an n×m cost matrix, returns for each row the column assigned to it (distinct columns) so
 * that the total cost is minimal. When n > m only m rows can be assigned; the others get −1.
 */
export function minCostAssignment(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  if (n === 0) return [];
  const m = cost[0].length;
  cost.forEach((row, i) => {
    if (row.length !== m) throw new Error(`assignment: cost row ${i} has ${row.length} entries, row 0 has ${m}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new Error(`assignment: cost[${i}][${j}] is ${v}, must be finite`);
    });
  });
  if (m === 0) return new Array<number>(n).fill(-1);
  if (n > m) {
    // Assign columns to rows on the transpose, then invert.
    const transposed = Array.from({ length: m }, (_, j) => Array.from({ length: n }, (_, i) => cost[i][j]));
    const colToRow = minCostAssignment(transposed);
    const rowToCol = new Array<number>(n).fill(-1);
    colToRow.forEach((i, j) => {
      rowToCol[i] = j;
    });
    return rowToCol;
  }
  // 1-based arrays; index 0 is the virtual start column.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1); // owner[j] = row matched to column j (0 = none)
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = owner[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const result = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (owner[j] !== 0) result[owner[j] - 1] = j - 1;
  return result;
}
