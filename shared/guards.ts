/**
 * Names of the client guards (client/guards): checks a client runs on the model the server sends
 * before it trains on it. Shared because the server's spawner passes them to simulated clients and
 * the client parses them from its command line; the checks themselves live in client/.
 */
export const GUARD_NAMES = ['pin-model', 'inspect-parameters', 'leakage-gate'] as const;

export type GuardName = (typeof GUARD_NAMES)[number];

/** What a client is told to check: the guards, and for pin-model the hash of the agreed definition. */
export interface GuardConfig {
  guards: GuardName[];
  /** "sha256:…" of the honest model definition (printed by `fedleak server`); needed by pin-model. */
  modelHash?: string;
}

/** Parses "pin-model,inspect-parameters"; throws naming the unknown entry. */
export function parseGuardList(text: string): GuardName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(GUARD_NAMES as readonly string[]).includes(n))
      throw new Error(`--guards: unknown guard "${n}"; known: ${GUARD_NAMES.join(', ')}`);
  }
  return [...new Set(names)] as GuardName[];
}
