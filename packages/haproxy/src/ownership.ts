// Who took a server out of service: rolling or someone else. HAProxy keeps no owner for an
// admin state, and `set server state maint` and an operator's `disable server` set the same
// bit, so the adapter marks its own work with a combination an operator does not make:
// health checks disabled (`disable health`) on a server that has them configured, for as
// long as rolling holds it in DRAIN or MAINT. The mark lives in HAProxy, not in memory, so a
// fresh adapter instance (resume) tells its own servers from an operator's.
import { CHECK_ENABLED, inDrain, inMaint, type ServerState } from './parse.js'

/** `srv_check_state` bit (CHK_ST_CONFIGURED in HAProxy's check-t.h). */
const CHECK_CONFIGURED = 0x02

export const hasCheck = (s: ServerState): boolean => (s.checkState & CHECK_CONFIGURED) !== 0
export const checkEnabled = (s: ServerState): boolean => (s.checkState & CHECK_ENABLED) !== 0
/** Rolling's mark: checks configured but disabled. */
export const marked = (s: ServerState): boolean => hasCheck(s) && !checkEnabled(s)
export const outOfService = (s: ServerState): boolean => inMaint(s) || inDrain(s)

/**
 * Out of service by someone else's hand: MAINT or DRAIN without rolling's mark. A server
 * without a health check cannot carry the mark: at detach its MAINT/DRAIN counts as an
 * operator's (never touched), at attach as rolling's own (see the README's limits).
 */
export function foreignState(s: ServerState, at: 'detach' | 'attach' | 'inventory'): string | undefined {
  if (!outOfService(s) || marked(s)) return undefined
  if (!hasCheck(s) && at === 'attach') return undefined
  return `${inMaint(s) ? 'MAINT' : 'DRAIN'} set by an operator (not by rolling; HAProxy admin state ${s.adminState})`
}
