/**
 * Attack registry: scenario `attack.name` → implementation. Adding an attack is one file plus one
 * line here. STUB: the attack suite fills it.
 */
import type { Attack } from './types';
import { dlg } from './dlg';
import { idlg } from './idlg';
import { invertingGradients } from './inverting-gradients';
import { analytic } from './analytic';

export const ATTACKS: Record<string, Attack> = {
  dlg,
  idlg,
  'inverting-gradients': invertingGradients,
  analytic,
};

export function getAttack(name: string): Attack {
  const attack = ATTACKS[name];
  if (!attack) throw new Error(`attack.name: unknown attack "${name}"; known: ${Object.keys(ATTACKS).join(', ') || '(none yet)'}`);
  return attack;
}

export * from './types';
