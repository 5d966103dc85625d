// The control channel as a folder: `rolling approve` / `rolling abort` from another terminal
// or CI job on the same machine write one JSON file per message into
// `<dir>/<service>.control/`; the paused rollout lists the folder on its own clock. A file is
// written under a temporary name and renamed, so a reader never sees half a message.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ControlChannel, ControlMessage } from '../control.js'
import { RollingError, ValidationError, errorMessage } from '../errors.js'

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const ID = /^[A-Za-z0-9._-]{1,100}$/

export function fileControl(options: { dir: string }): ControlChannel {
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new ValidationError('dir', `expected a directory path, got ${JSON.stringify(options?.dir)}`)
  }
  const folder = (service: string) => {
    if (!SERVICE.test(service))
      throw new ValidationError('service', `expected a name of letters, digits, \`.\`, \`_\` or \`-\`, got ${JSON.stringify(service)}`)
    return join(options.dir, `${service}.control`)
  }
  return {
    location: options.dir,
    async send(service, message) {
      if (!ID.test(message.id)) throw new ValidationError('message.id', `expected letters, digits, \`.\`, \`_\` or \`-\`, got ${JSON.stringify(message.id)}`)
      // A kind the rollout does not know would sit in the folder unread: refused here, as on S3.
      if (message.kind !== 'approve' && message.kind !== 'abort') throw new ValidationError('message.kind', `expected approve or abort, got ${JSON.stringify(message.kind)}`)
      const dir = folder(service)
      try {
        await mkdir(dir, { recursive: true })
        // The name sorts in the order sent: the time, then the id for messages in one ms.
        const name = `${String(Date.parse(message.at) || Date.now()).padStart(15, '0')}-${message.id}.json`
        const tmp = join(dir, `.${name}.${process.pid}.tmp`)
        await writeFile(tmp, `${JSON.stringify(message)}\n`, { mode: 0o600 })
        await rename(tmp, join(dir, name))
      } catch (error) {
        throw new RollingError('ADAPTER', `[rolling:file-control] could not write the ${message.kind} message to ${dir}: ${errorMessage(error)}`, {
          cause: error,
        })
      }
    },
    async receive(service, opts) {
      const dir = folder(service)
      let names: string[]
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw new RollingError('ADAPTER', `[rolling:file-control] could not read ${dir}: ${errorMessage(error)}`, { cause: error })
      }
      const messages: ControlMessage[] = []
      for (const name of names) {
        try {
          const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as ControlMessage
          if (parsed && (parsed.kind === 'approve' || parsed.kind === 'abort') && typeof parsed.id === 'string' && typeof parsed.runId === 'string')
            messages.push(parsed)
        } catch {
          // A file someone else put there, or removed meanwhile: not a message.
        }
      }
      if (opts?.after === undefined) return messages
      const at = messages.findIndex((m) => m.id === opts.after)
      return at < 0 ? messages : messages.slice(at + 1)
    },
  }
}
