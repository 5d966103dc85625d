// Coalesces concurrent runs of the same command into one SendCommand: SSM fans a command
// out to up to 50 instances itself, so a batch of 50 targets costs one call, not 50.
import { abortReason } from '@org/rolling-core/adapter'

/** SSM's limit on `InstanceIds` in one SendCommand. */
export const MAX_INSTANCES_PER_COMMAND = 50

interface Member {
  instanceId: string
  resolve: (commandId: string) => void
  reject: (error: unknown) => void
  /** Set when the caller aborted before the batch was sent. */
  gone: boolean
}

interface Batch {
  members: Member[]
  timer: ReturnType<typeof setTimeout>
}

/** Sends the batch; resolves with a CommandId (or the error) per instance: a split batch may yield several. */
export type SendBatch = (key: string, instanceIds: string[]) => Promise<Map<string, string | Error>>

export class CommandBatcher {
  private readonly open = new Map<string, Batch>()

  constructor(
    private readonly windowMs: number,
    private readonly maxSize: number,
    private readonly send: SendBatch,
  ) {}

  /** Resolves with the CommandId that runs on `instanceId`; rejects at once when `signal` aborts before the send. */
  add(key: string, instanceId: string, signal: AbortSignal): Promise<string> {
    if (signal.aborted) return Promise.reject(abortReason(signal))
    let batch = this.open.get(key)
    // One command runs once per instance: a second run on the same instance needs its own command.
    if (batch?.members.some((m) => m.instanceId === instanceId && !m.gone)) {
      this.flush(key, batch)
      batch = undefined
    }
    if (!batch) {
      const created: Batch = { members: [], timer: setTimeout(() => this.flush(key, created), this.windowMs) }
      batch = created
      this.open.set(key, batch)
    }
    const current = batch
    return new Promise<string>((resolve, reject) => {
      const member: Member = { instanceId, resolve, reject, gone: false }
      const onAbort = () => {
        if (!current.members.includes(member) || this.open.get(key) !== current) return
        member.gone = true
        reject(abortReason(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      member.resolve = (id) => {
        signal.removeEventListener('abort', onAbort)
        resolve(id)
      }
      member.reject = (error) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      }
      current.members.push(member)
      if (current.members.length >= this.maxSize) this.flush(key, current)
    })
  }

  private flush(key: string, batch: Batch): void {
    clearTimeout(batch.timer)
    if (this.open.get(key) === batch) this.open.delete(key)
    const members = batch.members.filter((m) => !m.gone)
    if (members.length === 0) return
    this.send(
      key,
      members.map((m) => m.instanceId),
    ).then(
      (ids) => {
        for (const m of members) {
          const id = ids.get(m.instanceId)
          if (typeof id === 'string') m.resolve(id)
          else if (id) m.reject(id)
          else m.reject(new Error(`[rolling:ssm] no command was sent to ${m.instanceId}`))
        }
      },
      (error: unknown) => {
        for (const m of members) m.reject(error)
      },
    )
  }
}
