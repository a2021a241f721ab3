/** The last check before an update leaves the client: no NaN/Inf (the server would refuse it anyway). */
import { firstNonFinite, WireError } from '../../shared/wire';
import type { ClientMod } from './types';

export const finiteGuard: ClientMod = (update, context, next) => {
  const bad = firstNonFinite(update.values);
  // Say so at once, so the server can drop us from this round instead of waiting.
  if (bad >= 0)
    throw new WireError(
      'non-finite',
      `round ${update.round}: local training produced ${update.values[bad]} at parameter ${bad}; no update sent (learning rate too large?)`,
    );
  next(update, context);
};
