// The CLI's commands and flags, described once: the parser (args.ts) and the help
// texts (help.ts) are both made from this table, so they cannot drift apart.
import type { CliCommand } from './config/define.js'

export interface FlagSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder shown in help for a flag's value. */
  value?: string
  description: string
}

export const FLAGS = {
  config: { type: 'string', short: 'c', value: '<file>', description: 'Config file (default: rollout.config.{ts,mts,js,mjs} in the current directory)' },
  build: { type: 'string', value: '<version>', description: "Build to deploy: a version or 'latest' (config `version`, default latest)" },
  batch: { type: 'string', value: '<n|n%|list>', description: 'Targets per batch: a count, a percentage or a schedule like 1,10%,50% (config `batch`)' },
  'min-healthy': { type: 'string', value: '<n|n%>', description: 'Targets that must stay in service (config `minHealthy`)' },
  settle: { type: 'string', value: '<ms>', description: 'Wait this long after a deploy before checking _status, e.g. 500, 10s, 2m (config `settle.delay`)' },
  'settle-interval': { type: 'string', value: '<ms>', description: 'Poll _status at this interval instead of checking once (config `settle.interval`)' },
  'settle-deadline': { type: 'string', value: '<ms>', description: 'With polling: give up this long after the deploy (config `settle.deadline`)' },
  'on-failure': { type: 'string', value: '<halt|rollback>', description: 'What happens to a target whose new build fails (config `onFailure`)' },
  'max-stopped': { type: 'string', value: '<n>', description: 'Verify: more targets on the wrong build than this fails the rollout (config `maxStopped`)' },
  'no-verify': { type: 'boolean', description: 'Skip the verify phase after the last batch (config `verify: false`)' },
  redeploy: {
    type: 'boolean',
    description: 'Deploy to targets already on the build too; without it they are skipped as `already on <version>` (config `redeploy: true`)',
  },
  'state-dir': { type: 'string', value: '<dir>', description: 'Folder of the journal and the lock (config `stateDir`, default .rolling beside the config)' },
  state: {
    type: 'string',
    value: '<s3://bucket/prefix>',
    description: 'Keep the lock, the journal and the control channel on S3, shared by every machine, instead of the state folder (config `state`)',
  },
  json: { type: 'boolean', description: 'Print JSON: one object per line for deploy/resume, one object for plan/status' },
  plain: { type: 'boolean', description: 'Plain line-per-event output even on a terminal' },
  tty: { type: 'boolean', description: 'The interactive terminal view even when stdout is not a terminal or CI is set' },
  summary: {
    type: 'string',
    value: '<file>',
    description: 'Write a Markdown summary to this file (deploy, resume: also to $GITHUB_STEP_SUMMARY when set; status: from the journal)',
  },
  output: { type: 'boolean', description: "Show the hosts' command output, each line prefixed by its target id" },
  otel: {
    type: 'boolean',
    description: 'Send the rollout as an OpenTelemetry trace over OTLP/HTTP, configured by the standard OTEL_EXPORTER_OTLP_* environment',
  },
  strict: { type: 'boolean', description: 'Exit 6, not 0, when the rollout succeeds with warnings (targets skipped, excluded, unverified) (config `strict`)' },
  note: { type: 'string', value: '<text>', description: 'A note for the journal and the reports (who approved and why)' },
  'max-failures': {
    type: 'string',
    value: '<n|n%>',
    description: 'Targets that may fail and be left out before the rollout halts; it then ends degraded (config `maxFailures`)',
  },
  deadline: { type: 'string', value: '<duration>', description: 'Abort gracefully if the rollout has not ended by then, e.g. 45m, 2h (config `deadline`)' },
  'pause-after': {
    type: 'string',
    value: '<n,..|every-batch>',
    description: 'Wait for `rolling approve` after these batches, e.g. 1 (after the canary) (config `pause.after`)',
  },
  bake: { type: 'string', value: '<duration>', description: 'Watch each gate this long before it passes (config `bake`)' },
  'on-mismatch': {
    type: 'string',
    value: '<stop|deploy>',
    description: 'Verify: stop a target found on another build, or deploy it like the others (config `verify.onMismatch`)',
  },
  force: { type: 'boolean', description: 'Break the lock even though its holder is a live process on this host' },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
  version: { type: 'boolean', description: 'Print the version of the CLI' },
} as const satisfies Record<string, FlagSpec>

export type FlagName = keyof typeof FLAGS

export interface CommandSpec {
  name: CliCommand
  /** One line for the command list. */
  summary: string
  usage: string
  /** Paragraphs shown under the usage line. */
  description: string[]
  flags: FlagName[]
  /** An optional positional argument, e.g. `[service]`. */
  positional?: string
  examples: string[]
}

const ROLLOUT_FLAGS: FlagName[] = [
  'settle',
  'settle-interval',
  'settle-deadline',
  'on-failure',
  'max-stopped',
  'no-verify',
  'max-failures',
  'deadline',
  'pause-after',
  'bake',
  'on-mismatch',
]
const REPORT_FLAGS: FlagName[] = ['json', 'plain', 'tty', 'summary', 'output', 'otel', 'strict']

export const COMMANDS: Record<CliCommand, CommandSpec> = {
  plan: {
    name: 'plan',
    summary: 'Show the build, the targets and the batches a deploy would use; changes nothing',
    usage: 'rolling plan [flags]',
    description: [
      'Resolves the build and asks the load balancer for the targets in service, then prints each batch',
      'and the settle, failure and verify settings. Nothing is detached, deployed or locked.',
    ],
    flags: ['config', 'build', 'batch', 'min-healthy', ...ROLLOUT_FLAGS, 'redeploy', 'state-dir', 'json', 'help'],
    examples: ['rolling plan', 'rolling plan --build v2.3.1 --batch 1,25%,100%', 'rolling plan --json | jq .batches'],
  },
  deploy: {
    name: 'deploy',
    summary: 'Roll the build across the targets, a batch at a time',
    usage: 'rolling deploy [flags]',
    description: [
      'Each batch: pre-check, detach and drain, deploy, settle, check _status, attach. A target whose new',
      'build fails stays out of the load balancer and the rollout halts after its batch.',
      'Ctrl-C once aborts gracefully: nothing new starts, in-flight steps finish, healthy targets go back.',
      'Ctrl-C twice stops at once and keeps the journal: `rolling resume` finishes the rollout.',
    ],
    flags: ['config', 'build', 'batch', 'min-healthy', ...ROLLOUT_FLAGS, 'redeploy', 'state-dir', 'state', ...REPORT_FLAGS, 'help'],
    examples: [
      'rolling deploy',
      'rolling deploy --build v2.3.1 --batch 1,25%,100% --settle 30s',
      'rolling deploy --on-failure rollback --min-healthy 75%',
      'rolling deploy --json > rollout.jsonl',
      'rolling deploy --plain --summary rollout.md',
      'rolling deploy --redeploy',
      'rolling deploy --state s3://my-bucket/rolling/',
    ],
  },
  resume: {
    name: 'resume',
    summary: 'Finish a rollout that was interrupted (a crash, or Ctrl-C twice)',
    usage: 'rolling resume [flags]',
    description: [
      'Reads the journal and carries on from the batch in flight, with the same build and batches.',
      'The config supplies the adapters; --build and --batch are not accepted (they come from the journal).',
    ],
    flags: ['config', ...ROLLOUT_FLAGS, 'state-dir', 'state', ...REPORT_FLAGS, 'help'],
    examples: ['rolling resume', 'rolling resume --plain', 'rolling resume --state s3://my-bucket/rolling/'],
  },
  status: {
    name: 'status',
    summary: 'Show the last rollout recorded in the journal and whether it needs `resume`',
    usage: 'rolling status [service] [flags]',
    description: [
      'Prints the run id, the build, the batches done and in progress, the targets out of the load',
      'balancer or needing attention, who holds the lock, and whether `rolling resume` is needed.',
      "The service defaults to the config's; with a service named, no config file is needed.",
    ],
    flags: ['config', 'state-dir', 'state', 'json', 'summary', 'help'],
    positional: '[service]',
    examples: [
      'rolling status',
      'rolling status checkout --state-dir /var/lib/rolling',
      'rolling status checkout --state s3://my-bucket/rolling/',
      'rolling status --json',
      'rolling status --summary status.md',
    ],
  },
  unlock: {
    name: 'unlock',
    summary: 'Break the lock of a service left behind by a rollout that died',
    usage: 'rolling unlock [service] [flags]',
    description: [
      'Removes the lock and says who held it. A holder that is a live process on this host is refused',
      'unless --force: it is most likely a rollout still running. So is a lock on S3 whose lease still',
      'runs; one whose lease ended (the holder died or was paused) is stale and is broken.',
      "The service defaults to the config's; with a service named, no config file is needed.",
    ],
    flags: ['config', 'state-dir', 'state', 'force', 'help'],
    positional: '[service]',
    examples: ['rolling unlock', 'rolling unlock checkout --state-dir /var/lib/rolling', 'rolling unlock --force'],
  },
  approve: {
    name: 'approve',
    summary: 'Let a paused rollout go on to its next batch',
    usage: 'rolling approve [service] [flags]',
    description: [
      'A rollout with `pause` waits after the batches it names, every target in service. This sends',
      "it an approval through its control channel (a folder in the state folder, the config's",
      '`control`, or the S3 store of --state from any machine), from another terminal or CI job,',
      'and waits until the rollout says it goes on.',
    ],
    flags: ['config', 'state-dir', 'state', 'note', 'help'],
    positional: '[service]',
    examples: ['rolling approve', 'rolling approve checkout --note canary-ok', 'rolling approve checkout --state s3://my-bucket/rolling/'],
  },
  abort: {
    name: 'abort',
    summary: 'Abort a running or paused rollout gracefully, from another terminal',
    usage: 'rolling abort [service] [flags]',
    description: [
      "As Ctrl-C once in the rollout's own terminal: nothing new starts, in-flight steps finish,",
      'healthy targets go back. A paused rollout aborts at once; a running one at its next batch boundary.',
      'With --state s3://bucket/prefix it reaches a rollout that runs on another machine.',
    ],
    flags: ['config', 'state-dir', 'state', 'note', 'help'],
    positional: '[service]',
    examples: ['rolling abort', 'rolling abort checkout --note 5xx-up', 'rolling abort checkout --state s3://my-bucket/rolling/'],
  },
}

export const COMMAND_NAMES = Object.keys(COMMANDS) as CliCommand[]
