// The engine's logger: everything goes to the user's logger and, as events, to listeners;
// a warning names its target when its data carries the target's id.
import type { Logger, Target } from './types.js'
import type { RolloutEmitter } from './events.js'

export function engineLog(user: Logger, emitter: RolloutEmitter, targetOf: (id: string) => Target | undefined): Logger {
  return {
    debug: (message, data) => {
      user.debug(message, data)
      if (emitter.listens('log')) emitter.emit('log', { level: 'debug', message, data })
    },
    info: (message, data) => {
      user.info(message, data)
      if (emitter.listens('log')) emitter.emit('log', { level: 'info', message, data })
    },
    warn: (message, data) => {
      user.warn(message, data)
      const target = typeof data?.target === 'string' ? targetOf(data.target) : undefined
      emitter.emit('warning', target ? { message, target, data } : { message, data })
    },
    error: (message, data) => {
      user.error(message, data)
      emitter.emit('log', { level: 'error', message, data })
    },
  }
}
