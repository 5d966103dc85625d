// Command-line parsing with node:util parseArgs, from the table in spec.ts. Flag values are
// checked here, so `--batch 0` is a one-line usage error naming the flag and the value.
import { parseArgs } from 'node:util'
import { type Amount, parseDuration } from '@org/rolling-core'
import { checkAmount } from '@org/rolling-core/adapter'
import type { CliCommand } from './config/define.js'
import { COMMANDS, FLAGS, type FlagName } from './spec.js'
import { UsageError, messageOf } from './errors.js'
import { STATE_EXPECTED, parseStateUrl } from './state.js'

/** Rollout settings given as flags; they override the config file's. */
export interface RolloutFlags {
  version?: string
  batch?: Amount | Amount[]
  minHealthy?: Amount
  settleDelay?: number
  settleInterval?: number
  settleDeadline?: number
  onFailure?: 'halt' | 'rollback'
  maxStopped?: number
  verify?: false
  /** `--redeploy`: targets already on the build are deployed again, not skipped. */
  redeploy?: true
  maxFailures?: Amount
  deadline?: number
  pauseAfter?: number[] | 'every-batch'
  bake?: number
  onMismatch?: 'stop' | 'deploy'
}

export interface ParsedArgs {
  command: CliCommand
  help: boolean
  config?: string
  stateDir?: string
  /** `--state s3://bucket/prefix`: the lock, journal and control channel shared by every machine. */
  state?: string
  /** The `[service]` argument of status and unlock. */
  service?: string
  rollout: RolloutFlags
  /** Which rollout flags were given, by config option name, to word errors by their source. */
  flagOf: Map<string, string>
  json: boolean
  plain: boolean
  tty: boolean
  summary?: string
  output: boolean
  /** `--otel`: send the rollout as a trace over OTLP/HTTP. */
  otel: boolean
  /** `--strict`: a succeeded rollout with warnings exits 6. */
  strict: boolean
  force: boolean
  /** `--note` of approve and abort. */
  note?: string
}

type Values = Partial<Record<FlagName, string | boolean>>

export function parseCommand(command: CliCommand, argv: readonly string[]): ParsedArgs {
  const spec = COMMANDS[command]
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const name of spec.flags) {
    const flag = FLAGS[name]
    options[name] = 'short' in flag ? { type: flag.type, short: flag.short } : { type: flag.type }
  }
  let values: Values
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: spec.positional !== undefined, strict: true }) as {
      values: Values
      positionals: string[]
    })
  } catch (error) {
    // `--force` is unlock's (break a lock); a deploy that should not skip current targets wants --redeploy.
    const force = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'--force'/.test(messageOf(error)) && spec.flags.includes('redeploy')
    const hint = force ? '; to deploy to targets already on the build too, pass --redeploy' : ''
    throw new UsageError(`rolling ${command}: ${describeParseError(error)}${hint}; see \`rolling ${command} --help\``)
  }
  if (positionals.length > 1) {
    throw new UsageError(`rolling ${command}: unexpected argument '${positionals[1]}'; see \`rolling ${command} --help\``)
  }
  const flag = (name: FlagName) => values[name] as string | undefined
  const on = (name: FlagName) => values[name] === true
  const fail = (name: FlagName, expected: string): never => {
    throw new UsageError(`rolling ${command}: invalid --${name} '${flag(name)}': expected ${expected}`)
  }

  const rollout: RolloutFlags = {}
  const flagOf = new Map<string, string>()
  const set = <K extends keyof RolloutFlags>(key: K, option: string, name: FlagName, value: RolloutFlags[K]) => {
    rollout[key] = value
    flagOf.set(option, `--${name}${values[name] === true ? '' : ` ${flag(name)}`}`)
  }
  const build = flag('build')
  if (build !== undefined) {
    if (build.trim() === '') fail('build', "'latest' or a version name")
    set('version', 'version', 'build', build)
  }
  const batch = flag('batch')
  if (batch !== undefined) {
    const entries = batch.split(',').map((entry) => amount(entry.trim(), false))
    if (entries.some((entry) => entry === undefined)) fail('batch', 'a count >= 1, a percentage like 25% or a schedule like 1,10%,50%')
    set('batch', 'batch', 'batch', entries.length === 1 ? (entries[0] as Amount) : (entries as Amount[]))
  }
  const minHealthy = flag('min-healthy')
  if (minHealthy !== undefined) {
    const value = amount(minHealthy, true)
    if (value === undefined) fail('min-healthy', 'a count >= 0 or a percentage like 75%')
    set('minHealthy', 'minHealthy', 'min-healthy', value)
  }
  for (const [name, key, option] of [
    ['settle', 'settleDelay', 'settle.delay'],
    ['settle-interval', 'settleInterval', 'settle.interval'],
    ['settle-deadline', 'settleDeadline', 'settle.deadline'],
  ] as const) {
    const text = flag(name)
    if (text === undefined) continue
    const ms = duration(text)
    if (ms === undefined || (name !== 'settle' && ms < 1)) fail(name, `a duration like 500, 500ms, 10s or 2m${name === 'settle' ? '' : ' (at least 1ms)'}`)
    set(key, option, name, ms)
  }
  const onFailure = flag('on-failure')
  if (onFailure !== undefined) {
    if (onFailure !== 'halt' && onFailure !== 'rollback') fail('on-failure', 'halt or rollback')
    set('onFailure', 'onFailure', 'on-failure', onFailure as 'halt' | 'rollback')
  }
  const maxStopped = flag('max-stopped')
  if (maxStopped !== undefined) {
    if (!/^\d+$/.test(maxStopped)) fail('max-stopped', 'an integer >= 0')
    set('maxStopped', 'maxStopped', 'max-stopped', Number(maxStopped))
  }
  if (on('no-verify')) set('verify', 'verify', 'no-verify', false)
  if (on('redeploy')) set('redeploy', 'redeploy', 'redeploy', true)
  const maxFailures = flag('max-failures')
  if (maxFailures !== undefined) {
    const value = amount(maxFailures, true)
    if (value === undefined) fail('max-failures', 'a count >= 0 or a percentage like 10%')
    set('maxFailures', 'maxFailures', 'max-failures', value)
  }
  for (const [name, key] of [
    ['deadline', 'deadline'],
    ['bake', 'bake'],
  ] as const) {
    const text = flag(name)
    if (text === undefined) continue
    const ms = duration(text)
    if (ms === undefined || (name === 'deadline' && ms < 1)) fail(name, `a duration like 90s, 45m or 2h${name === 'deadline' ? ' (at least 1ms)' : ''}`)
    set(key, key, name, ms)
  }
  const pauseAfter = flag('pause-after')
  if (pauseAfter !== undefined) {
    const list = pauseAfter.split(',').map((n) => n.trim())
    if (pauseAfter !== 'every-batch' && !list.every((n) => /^[1-9]\d*$/.test(n))) fail('pause-after', 'batch numbers from 1 like 1 or 1,3, or every-batch')
    set('pauseAfter', 'pause.after', 'pause-after', pauseAfter === 'every-batch' ? 'every-batch' : list.map(Number))
  }
  const onMismatch = flag('on-mismatch')
  if (onMismatch !== undefined) {
    if (onMismatch !== 'stop' && onMismatch !== 'deploy') fail('on-mismatch', 'stop or deploy')
    set('onMismatch', 'verify.onMismatch', 'on-mismatch', onMismatch as 'stop' | 'deploy')
  }

  const state = flag('state')
  if (state !== undefined && !parseStateUrl(state)) fail('state', STATE_EXPECTED)
  if (state !== undefined && flag('state-dir') !== undefined) throw new UsageError(`rolling ${command}: --state and --state-dir cannot be used together`)

  if (on('json') && on('tty')) throw new UsageError(`rolling ${command}: --json and --tty cannot be used together`)
  if (on('plain') && on('tty')) throw new UsageError(`rolling ${command}: --plain and --tty cannot be used together`)
  for (const name of ['config', 'state-dir', 'summary'] as const) {
    if (flag(name) === '') fail(name, 'a path')
  }

  const parsed: ParsedArgs = {
    command,
    help: on('help'),
    rollout,
    flagOf,
    json: on('json'),
    plain: on('plain'),
    tty: on('tty'),
    output: on('output'),
    otel: on('otel'),
    strict: on('strict'),
    force: on('force'),
  }
  if (flag('config') !== undefined) parsed.config = flag('config') as string
  if (flag('state-dir') !== undefined) parsed.stateDir = flag('state-dir') as string
  if (state !== undefined) parsed.state = state
  if (flag('summary') !== undefined) parsed.summary = flag('summary') as string
  if (flag('note') !== undefined) parsed.note = flag('note') as string
  if (positionals[0] !== undefined) parsed.service = positionals[0]
  return parsed
}

/** `3` -> 3, `25%` -> '25%'; undefined when malformed or out of range. */
function amount(text: string, allowZero: boolean): Amount | undefined {
  let value: Amount
  if (/^\d+$/.test(text)) value = Number(text)
  else if (/^\d+(\.\d+)?%$/.test(text)) value = text as Amount
  else return undefined
  try {
    return checkAmount('value', value, allowZero)
  } catch {
    return undefined
  }
}

/** `500` and `500ms` -> 500, `10s` -> 10000, `2m` -> 120000, `1h` -> 3600000 (core's parser: one implementation). */
export function duration(text: string): number | undefined {
  return parseDuration(text)
}

/** parseArgs' errors, reworded for a person. */
function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message: string }
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? ''
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${quoted}`
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument '${quoted}'`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.split(' ').find((part) => part.startsWith('--')) ?? quoted
    if (/argument missing/.test(message)) return `${flag} needs a value`
    if (/does not take an argument/.test(message)) return `${flag} takes no value`
    if (/ambiguous/.test(message)) return `${flag} needs a value (write ${flag}=<value> for a value starting with '-')`
  }
  return message
}
