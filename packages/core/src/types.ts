// The adapter contracts: what the engine asks of a load balancer, an artifact
// store, an executor and a health check. Adapters implement these in their own
// packages; core depends on none of them.

/** A server behind the load balancer. `id` is stable and unique within a pool. */
export interface Target {
  id: string
  /** Host name or IP the executor and health check dial. */
  address: string
  port?: number
  labels?: Record<string, string>
}

export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void
  info(message: string, data?: Record<string, unknown>): void
  /** Warnings become `warning` events of the rollout. */
  warn(message: string, data?: Record<string, unknown>): void
  error(message: string, data?: Record<string, unknown>): void
}

export type TimerHandle = unknown

/** Time as the engine sees it; injected so tests can run a 60 s settle in no real time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** What every adapter call receives. */
export interface AdapterContext {
  /** Aborted when the call must stop now (step deadline passed, or a forced cancel). */
  signal: AbortSignal
  clock: Clock
  log: Logger
  /** Epoch ms (per `clock`) by which the call should have settled, when the engine set one. */
  deadline?: number
  /** Streams a command's output; the engine turns it into `target:output` events. */
  output?: (stream: 'stdout' | 'stderr', chunk: string) => void
}

export interface LoadBalancer {
  /** Names the adapter in errors and events, e.g. `haproxy`, `elbv2`. */
  readonly name: string
  /** Targets in service now (registered and healthy). */
  discover(ctx: AdapterContext): Promise<Target[]>
  /** Stops new traffic to the targets; resolves once draining has completed. */
  detach(targets: readonly Target[], ctx: AdapterContext): Promise<void>
  /** Puts the targets back in service; resolves once the load balancer sees them healthy. */
  attach(targets: readonly Target[], ctx: AdapterContext): Promise<void>
}

/** A build of a service, made once, never on the host. */
export interface Artifact {
  service: string
  version: string
  /** ISO-8601 build time. */
  builtAt: string
  /** Hex sha256 of the artifact's bytes. */
  sha256: string
  size: number
  /** Free-form build metadata (git sha, builder, ...). */
  metadata?: Record<string, string>
}

/** Where a host fetches an artifact from: a URL, or a path readable by the executor's host. */
export type ArtifactLocation =
  | { kind: 'url'; url: string; sha256: string; size: number; expiresAt?: string }
  | { kind: 'path'; path: string; sha256: string; size: number }

export interface ArtifactStore {
  readonly name: string
  /** The build named by `ref` (`'latest'` or a version). Throws `ARTIFACT_NOT_FOUND` when absent. */
  resolve(service: string, ref: string, ctx: AdapterContext): Promise<Artifact>
  /** Where `target` fetches the artifact from. */
  locate(artifact: Artifact, target: Target, ctx: AdapterContext): Promise<ArtifactLocation>
  /**
   * Reads the stored bytes and checks them against `artifact.sha256` and `size`;
   * throws `ARTIFACT_INTEGRITY` on a mismatch. The engine calls it before any target is touched.
   * Optional: a store that cannot read its bytes back omits it and the engine warns.
   */
  verify?(artifact: Artifact, ctx: AdapterContext): Promise<void>
}

export interface ExecRequest {
  /** A shell command line. Quote every value put into it with `shellQuote`. */
  command: string
  /** Kill the command after this long; the call then rejects with `EXEC_TIMEOUT`. */
  timeoutMs?: number
  env?: Record<string, string>
  cwd?: string
  /** Values masked as `***` in streamed output, results and errors. */
  secrets?: readonly string[]
}

export interface ExecResult {
  /** Exit status; null when the process was ended by a signal. */
  exitCode: number | null
  signal: string | null
  stdout: string
  stderr: string
  durationMs: number
}

export interface Executor {
  readonly name: string
  /**
   * Runs a command on the target. A non-zero exit resolves (it is a result, not an error);
   * a timeout rejects with `EXEC_TIMEOUT`, an abort with the signal's reason.
   */
  run(target: Target, request: string | ExecRequest, ctx: AdapterContext): Promise<ExecResult>
  /** Releases pooled connections; called once when the rollout ends. */
  close?(): Promise<void>
}

export interface Health {
  /** True when the target answered 200 in time. */
  ok: boolean
  /** HTTP status, when one was received. */
  status?: number
  /** Build the target reports running, when it says. */
  version?: string
  builtAt?: string
  /** Why it is not ok (timeout, refused, status 500, ...). */
  detail?: string
  latencyMs?: number
}

export interface HealthCheck {
  readonly name: string
  /** Never rejects for an unhealthy target (that is `ok: false`); rejects only on abort. */
  check(target: Target, ctx: AdapterContext): Promise<Health>
}
