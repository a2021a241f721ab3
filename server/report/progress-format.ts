/** The progress lines of a run, shared by the plain printer and the bars (above the bars). */
import type { AttackJobId } from './events';
import type { AttackRecord, RoundRecord } from './results';

export function jobKey(id: AttackJobId): string {
  return `${id.round}/${id.target}/${id.view}`;
}

export function jobName(id: AttackJobId): string {
  const seen = id.view === 'plain' || id.target === id.view ? '' : ` (${id.view})`;
  return `attack ${id.attack} on round ${id.round} ${id.target}${seen}`;
}

export function roundLine(r: RoundRecord, total: number): string {
  const dropped = r.dropped.length ? `, dropped ${r.dropped.join(', ')}` : '';
  const epsilon = r.privacy ? `, ε ${r.privacy.epsilon.toFixed(3)}` : '';
  const accuracy = Number.isFinite(r.testAccuracy)
    ? `test accuracy ${(100 * r.testAccuracy).toFixed(1)}%, loss ${r.testLoss.toFixed(4)}`
    : 'test accuracy not measured (no test data on the server)';
  return (
    `round ${r.round}/${total}: ${accuracy}, ` +
    `${r.participants.length - r.dropped.length}/${r.participants.length} updates${dropped}${epsilon} (${r.seconds.toFixed(1)} s)`
  );
}

export function attackResultLine(a: AttackRecord): string {
  if (a.error) return `${jobName(a)}: failed: ${a.error}`;
  if (a.unscored) return `${jobName(a)}: ${a.unscored}${a.image ? ` → ${a.image}` : ''}`;
  const psnr = Number.isFinite(a.psnr) ? `${a.psnr.toFixed(2)} dB` : a.psnr === Infinity ? '∞' : 'n/a';
  return (
    `${jobName(a)}: PSNR ${psnr}, SSIM ${a.ssim.toFixed(3)}, MSE ${a.mse.toExponential(2)}, labels ${(100 * a.labelAccuracy).toFixed(0)}% ` +
    `(${a.iterations} iterations, ${a.evaluations} evaluations, ${a.seconds.toFixed(1)} s)${a.image ? ` → ${a.image}` : ''}`
  );
}
