// The CLI's entry: picks the command, parses its flags, runs it, and turns what happened
// into the exit code. Every error a person can cause is one line on stderr; `main` never
// throws and never exits the process itself (bin.ts does, with the code it returns).
import type { CliCommand } from './config/define.js'
import { type CliIo, resolveIo } from './io.js'
import { parseCommand } from './args.js'
import { commandHelp, mainHelp } from './help.js'
import { COMMAND_NAMES } from './spec.js'
import { cliVersion } from './version.js'
import { CliError, UsageError, messageOf } from './errors.js'
import { ExitCode } from './exit-codes.js'
import { safeText } from './safe-text.js'
import { completeHints, hintContext } from './hints.js'

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves with the exit code.
 * @example process.exitCode = await main(process.argv.slice(2))
 */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const cli = resolveIo(io)
  const [first, ...rest] = argv
  let command: CliCommand | undefined
  let parsed: { config?: string; stateDir?: string } = {}
  try {
    if (first === undefined) {
      cli.stderr.write(mainHelp())
      return ExitCode.badConfig
    }
    if (first === '--help' || first === '-h') return print(cli, mainHelp())
    if (first === '--version') return print(cli, `${cliVersion()}\n`)
    if (first === 'help') {
      const topic = rest[0]
      if (topic === undefined) return print(cli, mainHelp())
      return print(cli, commandHelp(commandOf(topic)))
    }
    if (first.startsWith('-')) throw new UsageError(`rolling: expected a command before ${first}: rolling <command> [flags]; see \`rolling --help\``)
    command = commandOf(first)
    const args = parseCommand(command, rest)
    parsed = args
    if (args.help) return print(cli, commandHelp(command))
    // Each command is loaded when it runs: `rolling --help` and `rolling status` do not pay
    // for the engine, the reporters or the config loader of a deploy.
    switch (command) {
      case 'plan':
        return await (await import('./commands/plan.js')).planCommand(args, cli)
      case 'deploy':
      case 'resume':
        return await (await import('./commands/rollout.js')).rolloutCommand(command, args, cli)
      case 'status':
        return await (await import('./commands/status.js')).statusCommand(args, cli)
      case 'unlock':
        return await (await import('./commands/unlock.js')).unlockCommand(args, cli)
      case 'approve':
      case 'abort':
        return await (await import('./commands/control.js')).controlCommand(command, args, cli)
    }
  } catch (error) {
    // A suggested command (`rolling unlock app`) gets this run's --config and --state-dir, so it works as printed.
    const hints = hintContext(parsed, cli.env)
    if (error instanceof CliError) {
      // Messages carry values from the config, flags and adapters: no control character reaches the terminal.
      cli.stderr.write(`${safeText(completeHints(error.message, hints))}\n`)
      return error.exitCode
    }
    cli.stderr.write(`rolling${command ? ` ${command}` : ''}: ${safeText(completeHints(messageOf(error), hints))}\n`)
    return ExitCode.failed
  }
}

function print(io: CliIo, text: string): number {
  io.stdout.write(text)
  return ExitCode.succeeded
}

function commandOf(name: string): CliCommand {
  if ((COMMAND_NAMES as readonly string[]).includes(name)) return name as CliCommand
  const near = COMMAND_NAMES.find((command) => distance(command, name) <= 2)
  throw new UsageError(`rolling: unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}; the commands are ${COMMAND_NAMES.join(', ')}`)
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] as number
}
