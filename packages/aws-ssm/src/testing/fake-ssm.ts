// A loopback SSM endpoint speaking the real JSON 1.1 wire protocol, so the real SSMClient
// is under test. Commands really run: each instance id maps to a host (a folder, and an
// environment), and each invocation is `/bin/sh -c <script>` in it, with SSM's execution
// timeout, 24,000-character output cap, CancelCommand kills, eventual consistency and
// ThrottlingException on any action on demand. Every call is recorded. Exported as
// `@org/rolling-aws-ssm/testing` so other packages (the local fleet) can run their hosts behind it.
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm'
import { type FakeInvocation, OUTPUT_LIMIT, kill, runInvocation } from './fake-ssm-run.js'

export { type FakeInvocation, OUTPUT_LIMIT }

export interface FakeSsmCall {
  action: string
  input: Record<string, unknown>
  at: number
  /** The call was answered with ThrottlingException. */
  throttled: boolean
}

/** What an instance id stands for: the folder its commands run in, and what they find in their environment. */
export interface FakeSsmHost {
  dir: string
  /** Added to the command's environment (`PATH` and `HOME`, the folder, are always set). @default {} */
  env?: Record<string, string>
}

export interface FakeSsmOptions {
  /** instance id → the folder its commands run in, or a host with its own environment. @default {} */
  hosts?: Record<string, string | FakeSsmHost>
  /** Fraction of calls (0..1) of every action answered with ThrottlingException. @default 0 */
  throttleRate?: number
  /** Delay before a new invocation is known to GetCommandInvocation. @default 30 */
  registerDelayMs?: number
}

export class FakeSsm {
  readonly calls: FakeSsmCall[] = []
  readonly hosts: Map<string, FakeSsmHost>
  throttleRate: number
  registerDelayMs: number
  private readonly commands = new Map<string, Map<string, FakeInvocation>>()
  private readonly children = new Set<ChildProcess>()
  private readonly server = createServer((req, res) => void this.handle(req, res))
  private severed = false
  endpoint = ''

  constructor(options: FakeSsmOptions = {}) {
    this.hosts = new Map(Object.entries(options.hosts ?? {}).map(([id, host]) => [id, typeof host === 'string' ? { dir: host } : { ...host }]))
    this.throttleRate = options.throttleRate ?? 0
    if (!(this.throttleRate >= 0 && this.throttleRate <= 1)) throw new RangeError(`fake-ssm: throttleRate must be in 0..1, got ${this.throttleRate}`)
    this.registerDelayMs = options.registerDelayMs ?? 30
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  /** A real SSM client pointed at this endpoint, with fake credentials. */
  client(config: SSMClientConfig = {}): SSMClient {
    return new SSMClient({
      region: 'us-east-1',
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'AKIDFAKESSM', secretAccessKey: 'fake-secret' },
      ...config,
    })
  }

  /** Makes `instanceId` a managed instance whose commands run in `host` (a folder, or a folder and an environment). */
  addHost(instanceId: string, host: string | FakeSsmHost): void {
    this.hosts.set(instanceId, typeof host === 'string' ? { dir: host } : { ...host })
  }

  /** Calls of `action`; `throttled: true` only those answered with ThrottlingException, `false` only the others. */
  count(action: string, opts: { throttled?: boolean } = {}): number {
    return this.calls.filter((c) => c.action === action && (opts.throttled === undefined || c.throttled === opts.throttled)).length
  }

  invocation(commandId: string, instanceId: string): FakeInvocation | undefined {
    return this.commands.get(commandId)?.get(instanceId)
  }

  invocations(): FakeInvocation[] {
    return [...this.commands.values()].flatMap((m) => [...m.values()])
  }

  /**
   * Fault injection: the endpoint drops every open connection and resets each new one, as a
   * network cut between the controller and SSM would; commands already started keep running.
   */
  sever(): void {
    this.severed = true
    this.server.closeAllConnections()
  }

  async close(): Promise<void> {
    for (const child of this.children) kill(child, 'SIGKILL')
    await Promise.all(this.invocations().map((i) => i.exited))
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.severed) return void req.socket.destroy()
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const target = String(req.headers['x-amz-target'] ?? '')
    const action = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : target
    let input: Record<string, unknown> = {}
    try {
      input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {}
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' })
    }
    const throttled = this.throttleRate > 0 && Math.random() < this.throttleRate
    this.calls.push({ action, input, at: Date.now(), throttled })
    if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
      return reply(res, 400, {
        __type: 'SerializationException',
        message: `expected POST application/x-amz-json-1.1, got ${req.method} ${req.headers['content-type']}`,
      })
    }
    if (throttled) return reply(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' })
    try {
      switch (action) {
        case 'SendCommand':
          return reply(res, 200, this.sendCommand(input))
        case 'GetCommandInvocation':
          return reply(res, 200, this.getCommandInvocation(input))
        case 'CancelCommand':
          return reply(res, 200, this.cancelCommand(input))
        case 'ListCommandInvocations':
          return reply(res, 200, this.listCommandInvocations(input))
        default:
          return reply(res, 400, { __type: 'UnknownOperationException', message: `unknown operation ${target}` })
      }
    } catch (error) {
      if (error instanceof SsmError) return reply(res, 400, { __type: error.type, message: error.message })
      return reply(res, 500, { __type: 'InternalServerError', message: String(error) })
    }
  }

  private sendCommand(input: Record<string, unknown>) {
    if (input.DocumentName !== 'AWS-RunShellScript') throw new SsmError('InvalidDocument', `document ${String(input.DocumentName)} is not supported here`)
    const ids = input.InstanceIds as string[] | undefined
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 50) throw new SsmError('ValidationException', 'InstanceIds must hold 1..50 ids')
    for (const id of ids) if (!this.hosts.has(id)) throw new SsmError('InvalidInstanceId', `Instance ${id} is not in a valid state for the account`)
    const params = (input.Parameters ?? {}) as Record<string, string[] | undefined>
    const commands = params.commands
    if (!Array.isArray(commands) || commands.length === 0) throw new SsmError('InvalidParameters', 'commands is required')
    const executionTimeout = Number(params.executionTimeout?.[0] ?? '3600')
    if (!Number.isInteger(executionTimeout) || executionTimeout < 1 || executionTimeout > 172_800)
      throw new SsmError('InvalidParameters', 'bad executionTimeout')
    const commandId = randomUUID()
    const invocations = new Map<string, FakeInvocation>()
    this.commands.set(commandId, invocations)
    const bucket = input.OutputS3BucketName as string | undefined
    const prefix = (input.OutputS3KeyPrefix as string | undefined) ?? ''
    for (const instanceId of ids) {
      const host = this.hosts.get(instanceId) as FakeSsmHost
      const cwd = params.workingDirectory?.[0] ?? host.dir
      const inv = runInvocation(this.children, this.registerDelayMs, commandId, instanceId, commands.join('\n'), cwd, executionTimeout, host.env)
      if (bucket) {
        const base = `https://s3.us-east-1.amazonaws.com/${bucket}/${prefix}${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript`
        Object.assign(inv, { stdoutUrl: `${base}/stdout`, stderrUrl: `${base}/stderr` })
      }
      invocations.set(instanceId, inv)
    }
    return {
      Command: {
        CommandId: commandId,
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: ids,
        Parameters: params,
        Status: 'Pending',
        RequestedDateTime: Date.now() / 1000,
        TargetCount: ids.length,
      },
    }
  }

  private getCommandInvocation(input: Record<string, unknown>) {
    const inv = this.invocation(String(input.CommandId), String(input.InstanceId))
    if (!inv || Date.now() < inv.visibleAt) throw new SsmError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)')
    const urls = inv as FakeInvocation & { stdoutUrl?: string; stderrUrl?: string }
    const finished = inv.endedAt !== undefined
    return {
      CommandId: inv.commandId,
      InstanceId: inv.instanceId,
      DocumentName: 'AWS-RunShellScript',
      PluginName: 'aws:runShellScript',
      Status: inv.status,
      StatusDetails: inv.statusDetails,
      ResponseCode: inv.responseCode,
      ExecutionStartDateTime: inv.startedAt ? new Date(inv.startedAt).toISOString() : '',
      ExecutionEndDateTime: inv.endedAt ? new Date(inv.endedAt).toISOString() : '',
      // Like SSM, output appears when the plugin finishes.
      StandardOutputContent: finished ? inv.stdout : '',
      StandardErrorContent: finished ? inv.stderr : '',
      StandardOutputUrl: urls.stdoutUrl ?? '',
      StandardErrorUrl: urls.stderrUrl ?? '',
    }
  }

  private cancelCommand(input: Record<string, unknown>) {
    const invocations = this.commands.get(String(input.CommandId))
    if (!invocations) throw new SsmError('InvalidCommandId', `command ${String(input.CommandId)} does not exist`)
    const ids = (input.InstanceIds as string[] | undefined) ?? [...invocations.keys()]
    for (const id of ids) {
      const inv = invocations.get(id)
      if (!inv || inv.endedAt !== undefined || inv.pid === undefined) continue
      inv.killedBy ??= 'cancel'
      inv.status = 'InProgress'
      inv.statusDetails = 'Cancelling'
      try {
        process.kill(-inv.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    return {}
  }

  private listCommandInvocations(input: Record<string, unknown>) {
    const all = input.CommandId ? [...(this.commands.get(String(input.CommandId))?.values() ?? [])] : this.invocations()
    return {
      CommandInvocations: all
        .filter((i) => !input.InstanceId || i.instanceId === input.InstanceId)
        .map((i) => ({
          CommandId: i.commandId,
          InstanceId: i.instanceId,
          Status: i.status,
          StatusDetails: i.statusDetails,
          DocumentName: 'AWS-RunShellScript',
        })),
    }
  }
}

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() })
  res.end(text)
}

export async function startFakeSsm(options?: FakeSsmOptions): Promise<FakeSsm> {
  return new FakeSsm(options).start()
}
