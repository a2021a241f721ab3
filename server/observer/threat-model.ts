/**
 * Threat models as data (LeakPro style): an attacker is a set of capabilities; every attack
 * declares the ones it needs and a run refuses an attack needing more than the scenario grants.
 * The presets are the threat models A–H of the SoK of gradient inversion (Carletti et al., USENIX
 * Security 2025), read with LeakPro's flags: B adds basic knowledge (the architecture and generic
 * priors on the inputs such as pixel range and smoothness), C the training details, D surrogate
 * data, E the clients' data distribution (batch-norm statistics), F–H an active server.
 */
import { z } from 'zod';

export const CAPABILITIES = {
  updates: 'the clients’ updates (or their aggregate) as the server receives them',
  architecture: 'the model architecture and its current parameters',
  'data-prior': 'generic priors on the inputs: value range, smoothness, what the images look like',
  hyperparameters: 'the training hyper-parameters: learning rate, local steps, batch size',
  labels: 'the true labels of the attacked examples',
  'surrogate-data': 'auxiliary data from the clients’ distribution (e.g. the dataset’s mean image)',
  'batchnorm-statistics': 'the batch-norm statistics of the clients’ batches',
  'modify-model': 'the ability to send clients a modified model',
  'add-clients': 'the ability to add clients it controls (Sybils) and choose who participates',
} as const;

export type Capability = keyof typeof CAPABILITIES;
export const capabilityNames = Object.keys(CAPABILITIES) as Capability[];

export const THREAT_MODEL_LETTERS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const;
export type ThreatModelLetter = (typeof THREAT_MODEL_LETTERS)[number];

const A: Capability[] = ['updates'];
const B: Capability[] = [...A, 'architecture', 'data-prior'];
const C: Capability[] = [...B, 'hyperparameters'];
const D: Capability[] = [...C, 'surrogate-data'];
const F: Capability[] = [...C, 'modify-model'];
const G: Capability[] = [...F, 'surrogate-data'];

export const THREAT_MODEL_PRESETS: Record<ThreatModelLetter, { summary: string; capabilities: readonly Capability[] }> = {
  A: { summary: 'sees updates only', capabilities: A },
  B: { summary: 'updates and basic knowledge of the model and inputs', capabilities: B },
  C: { summary: 'honest-but-curious server: knows the model and how clients train', capabilities: C },
  D: { summary: 'honest-but-curious server with surrogate data', capabilities: D },
  E: { summary: 'honest-but-curious server knowing the clients’ data distribution', capabilities: [...D, 'batchnorm-statistics'] },
  F: { summary: 'malicious server that modifies the model', capabilities: F },
  G: { summary: 'malicious server that modifies the model, with surrogate data', capabilities: G },
  H: { summary: 'malicious server that modifies the model and adds Sybil clients', capabilities: [...G, 'add-clients'] },
};

/** An honest-but-curious server built the model and configured training: SoK threat model C. */
export const DEFAULT_THREAT_MODEL: ThreatModelLetter = 'C';

const capabilitySchema = z.enum(capabilityNames as [Capability, ...Capability[]]);

/** Scenario field `threatModel`: a SoK letter, or the explicit list of granted capabilities. */
export const threatModelSchema = z
  .union([
    z.enum(THREAT_MODEL_LETTERS),
    z.array(capabilitySchema).min(1, 'threatModel: an explicit capability list must name at least one capability'),
  ])
  .default(DEFAULT_THREAT_MODEL);

export type ThreatModelSetting = z.infer<typeof threatModelSchema>;

export interface ThreatModel {
  /** "C", or "custom" for an explicit list. */
  name: ThreatModelLetter | 'custom';
  summary: string;
  capabilities: readonly Capability[];
}

export function resolveThreatModel(setting: ThreatModelSetting = DEFAULT_THREAT_MODEL): ThreatModel {
  if (typeof setting === 'string') return { name: setting, ...THREAT_MODEL_PRESETS[setting] };
  const unique = capabilityNames.filter((c) => setting.includes(c));
  return { name: 'custom', summary: `custom: ${unique.join(', ')}`, capabilities: unique };
}

export interface AttackPermission {
  allowed: boolean;
  missing: Capability[];
  /** Empty when allowed; otherwise one paragraph naming what is missing and how to grant it. */
  message: string;
}

/** Which of `required` the threat model does not grant, with a message for the user. */
export function checkAttackAllowed(
  required: readonly Capability[],
  granted: ThreatModel | ThreatModelSetting,
  attackName = 'the attack',
): AttackPermission {
  const model = isResolved(granted) ? granted : resolveThreatModel(granted);
  const missing = capabilityNames.filter((c) => required.includes(c) && !model.capabilities.includes(c));
  if (missing.length === 0) return { allowed: true, missing, message: '' };
  const grantedLabel = model.name === 'custom' ? 'the explicit capability list' : `threat model ${model.name} (${model.summary})`;
  const letters = THREAT_MODEL_LETTERS.filter((l) => required.every((c) => THREAT_MODEL_PRESETS[l].capabilities.includes(c)));
  const hint = letters.length > 0 ? `set "threatModel" to ${letters.map((l) => `"${l}"`).join(' or ')}, or list` : 'list';
  return {
    allowed: false,
    missing,
    message:
      `${attackName} needs ${missing.map((c) => `${c} (${CAPABILITIES[c]})`).join('; ')}, which ${grantedLabel} does not grant. ` +
      `To run it, ${hint} the capabilities in "threatModel": ${JSON.stringify([...new Set([...model.capabilities, ...missing])])}.`,
  };
}

function isResolved(x: ThreatModel | ThreatModelSetting): x is ThreatModel {
  return typeof x === 'object' && !Array.isArray(x);
}
