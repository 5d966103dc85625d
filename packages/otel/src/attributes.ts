// The attribute names the rollout's spans carry, in the `rolling.*` namespace (OpenTelemetry
// asks instrumentations to keep their own attributes under their own prefix). Listed once:
// the tracer sets them from here and the README's table describes them.

export const ATTR = {
  /** The service rolled out (every span). */
  service: 'rolling.service',
  /** The build being deployed, once planned (every span from the plan on). */
  version: 'rolling.version',
  /** The rollout's run id (the journal's), on the rollout span. */
  runId: 'rolling.run_id',
  /** The build asked for (`latest` or a version), on the rollout span. */
  ref: 'rolling.ref',
  /** True for `rolling resume`. */
  resumed: 'rolling.resumed',
  /** `succeeded`, `halted`, `failed` or `aborted`, on the rollout span. */
  status: 'rolling.status',
  /** Why the rollout, a target or a phase ended as it did. */
  reason: 'rolling.reason',
  /** Targets planned, on the rollout span. */
  targets: 'rolling.targets',
  /** Batches planned, on the rollout span. */
  batches: 'rolling.batches',
  /** The batch's number from 1, on batch and target spans. */
  batch: 'rolling.batch',
  /** Targets in the batch, on batch spans. */
  batchSize: 'rolling.batch.size',
  targetId: 'rolling.target.id',
  targetAddress: 'rolling.target.address',
  targetPort: 'rolling.target.port',
  /** The target's outcome (`done`, `failed`, `skipped`, ...), on target spans. */
  outcome: 'rolling.outcome',
  /** The phase (`precheck`, `detach`, `deploy`, `settle`, `attach`, `hold`, `rollback`, ...), on phase spans. */
  phase: 'rolling.phase',
  /** How the phase ended: `ok`, `failed`, `skipped`, or `cut` (the rollout ended with it open). */
  phaseEnd: 'rolling.phase.end',
} as const
