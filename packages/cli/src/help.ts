// Help texts, rendered from the command and flag table so they match what the parser
// accepts. `rolling --help` also documents the exit codes.
import { COMMAND_NAMES, COMMANDS, FLAGS, type FlagName } from './spec.js'
import type { CliCommand } from './config/define.js'
import { ExitCode } from './exit-codes.js'

const EXIT_CODES: [number, string][] = [
  [ExitCode.succeeded, 'succeeded'],
  [ExitCode.failed, 'failed, or could not start (lock held, build not found, empty pool)'],
  [ExitCode.halted, 'halted: a target failed its new build and is left out of the load balancer'],
  [ExitCode.aborted, 'aborted (Ctrl-C once): in-flight steps finished, healthy targets put back'],
  [ExitCode.badConfig, 'bad config, flag or usage'],
  [ExitCode.degraded, 'degraded: went to its end, but targets failed within --max-failures and are left out'],
  [ExitCode.strictWarnings, 'with --strict (or `strict: true`): succeeded, but with warnings (without it: 0)'],
  [ExitCode.interrupted, 'interrupted (Ctrl-C twice): stopped at once; `rolling resume` finishes the rollout'],
]

export function mainHelp(): string {
  const width = Math.max(...COMMAND_NAMES.map((name) => name.length))
  return [
    'rolling: roll a new build across the servers behind a load balancer, a batch at a time',
    '',
    'Usage: rolling <command> [flags]',
    '',
    'Commands:',
    ...COMMAND_NAMES.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`),
    '',
    'Flags:',
    ...flagLines(['config', 'help', 'version']),
    '',
    'Exit codes:',
    ...EXIT_CODES.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`),
    '',
    'Examples:',
    '  rolling plan',
    '  rolling deploy --build v2.3.1 --batch 1,25%,100%',
    '  rolling deploy --json > rollout.jsonl',
    '  rolling status',
    '',
    'Run `rolling <command> --help` for the flags of a command.',
    '',
  ].join('\n')
}

export function commandHelp(command: CliCommand): string {
  const spec = COMMANDS[command]
  return [
    `rolling ${spec.name}: ${spec.summary}`,
    '',
    `Usage: ${spec.usage}`,
    '',
    ...spec.description,
    '',
    'Flags:',
    ...flagLines(spec.flags),
    '',
    'Examples:',
    ...spec.examples.map((example) => `  ${example}`),
    '',
    ...(command === 'deploy' || command === 'resume'
      ? [
          'Exit codes: 0 succeeded, 1 failed or could not start, 2 halted, 3 aborted, 4 bad config, 6 succeeded with warnings under --strict, 130 interrupted (see `rolling --help`)',
          '',
        ]
      : []),
  ].join('\n')
}

function flagLines(names: readonly FlagName[]): string[] {
  const heads = names.map((name) => {
    const flag = FLAGS[name]
    const short = 'short' in flag ? `-${flag.short}, ` : '    '
    return `  ${short}--${name}${'value' in flag ? ` ${flag.value}` : ''}`
  })
  const width = Math.max(22, ...heads.map((head) => head.length))
  return names.map((name, i) => `${(heads[i] as string).padEnd(width)}  ${FLAGS[name].description}`)
}
