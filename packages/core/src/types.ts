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
  /** Set by the engine on `detach` calls: how to handle a drain that does not finish. */
  drain?: DrainPolicy
  /**
   * Set by the engine on a `detach` call after a restart (`resume`): ids of the targets its
   * journal shows this rollout had already begun to detach. An adapter that cannot tell its own
   * deregistration from someone else's (ELBv2 keeps no owner) takes their out-of-service state
   * as its own instead of reporting them `foreign`.
   */
  resumedDetach?: readonly string[]
  /**
   * Set by the engine on `attach` calls: for each target it has just seen pass settle on the
   * new build in this process, when (per `clock`). An adapter may take a recent one as the
   * proof it would otherwise wait for from the load balancer's own checks; a target not listed
   * (resumed, restored after an abort) has no such proof.
   */
  seenHealthy?: ReadonlyMap<string, number>
}

/** A target the load balancer holds that the rollout must leave alone, and why. */
export interface ExcludedTarget {
  target: Target
  /** Names the state and who set it: `MAINT set by an operator (not by rolling)`. */
  reason: string
}

/**
 * What `inventory` returns: the candidates (what `discover` returns), and the registered
 * targets someone else took out of service (HAProxy MAINT/DRAIN by admin, an ELBv2 target
 * already `draining` or `unused`). Excluded targets are not candidates; `plan` lists them.
 */
export interface Discovery {
  targets: Target[]
  excluded: ExcludedTarget[]
}

/** How the engine wants a detach to treat connections that have not drained in time. */
export interface DrainPolicy {
  /** How long to wait for connections to drain. Unset: the adapter's own default. */
  timeoutMs?: number
  /**
   * At the drain timeout:
   * - `'halt'`: resolve, listing the undrained targets in `DetachResult.undrained` (still
   *   detached; the engine puts them back in service on their old build);
   * - `'proceed'`: close what is left the load balancer's own way (HAProxy:
   *   `shutdown sessions server`), list them in `DetachResult.forced`, and resolve.
   * Without a policy (a direct call), a drain timeout rejects as before.
   */
  onTimeout: 'halt' | 'proceed'
}

/** Per-target news from a `detach` call; every list is optional (omitted = empty). */
export interface DetachResult {
  /**
   * Targets found out of service by someone else's hand (an operator's MAINT or DRAIN, an
   * ELBv2 target already draining): the call did not touch them, and the rollout will
   * never put them back in service.
   */
  foreign?: ExcludedTarget[]
  /** `drain.onTimeout: 'halt'`: detached but still holding connections; reason says what is left. */
  undrained?: ExcludedTarget[]
  /** `drain.onTimeout: 'proceed'`: detached, and their remaining connections were closed. */
  forced?: ExcludedTarget[]
}

/** Per-target news from an `attach` call. */
export interface AttachResult {
  /**
   * Targets whose state someone else changed while the rollout held them out (an operator
   * set MAINT or DRAIN, or deregistered them): left as found, never re-enabled.
   */
  foreign?: ExcludedTarget[]
}

export interface LoadBalancer {
  /** Names the adapter in errors and events, e.g. `haproxy`, `elbv2`. */
  readonly name: string
  /** Targets in service now (registered and healthy): the candidates of a rollout. */
  discover(ctx: AdapterContext): Promise<Target[]>
  /**
   * Optional, and what the engine calls instead of `discover` when present: the candidates
   * and, apart, the registered targets an operator took out of service (excluded). One
   * call to the load balancer, like `discover`.
   */
  inventory?(ctx: AdapterContext): Promise<Discovery>
  /**
   * Stops new traffic to the targets; resolves once draining has completed (or as
   * `ctx.drain` says at its timeout). A target found already out of service by someone
   * else's hand is left as it is and listed in `foreign`.
   */
  detach(targets: readonly Target[], ctx: AdapterContext): Promise<void | DetachResult>
  /**
   * Puts the targets back in service; resolves once the load balancer sees them healthy.
   * Must work from a fresh adapter instance (as `resume` makes): the state of a target is
   * read from the load balancer, never from the adapter's memory. A target whose state
   * someone else changed while it was out is left as found and listed in `foreign`.
   */
  attach(targets: readonly Target[], ctx: AdapterContext): Promise<void | AttachResult>
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
  | {
      kind: 'url'
      url: string
      sha256: string
      size: number
      expiresAt?: string
      /** The S3 object the URL signs: a host whose own role may read it fetches it without the URL (no signature in any command). */
      s3?: { bucket: string; key: string }
    }
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
  /**
   * Optional: opens (or warms) what `run` will need for this target, so a connection is set
   * up while the target is still in service, not after its drain. Called at the pre-check,
   * not awaited; a failure here is only logged: the step that needs it reports it.
   */
  connect?(target: Target, ctx: AdapterContext): Promise<void>
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
