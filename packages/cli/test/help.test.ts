// Help as a person reads it: `rolling --help` word for word, each command's help, and that
// what the help shows is what the parser accepts (every flag listed is taken, every example
// parses). Also `--version`, and a bare `rolling`.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ExitCode } from '../src/index.js'
import { parseCommand } from '../src/args.js'
import { COMMAND_NAMES, FLAGS } from '../src/spec.js'
import { CLI_ROOT, runMain } from './support/project.js'

const MAIN_HELP = `rolling: roll a new build across the servers behind a load balancer, a batch at a time

Usage: rolling <command> [flags]

Commands:
  plan     Show the build, the targets and the batches a deploy would use; changes nothing
  deploy   Roll the build across the targets, a batch at a time
  resume   Finish a rollout that was interrupted (a crash, or Ctrl-C twice)
  status   Show the last rollout recorded in the journal and whether it needs \`resume\`
  unlock   Break the lock of a service left behind by a rollout that died
  approve  Let a paused rollout go on to its next batch
  abort    Abort a running or paused rollout gracefully, from another terminal

Flags:
  -c, --config <file>   Config file (default: rollout.config.{ts,mts,js,mjs} in the current directory)
  -h, --help            Show this help
      --version         Print the version of the CLI

Exit codes:
    0  succeeded
    1  failed, or could not start (lock held, build not found, empty pool)
    2  halted: a target failed its new build and is left out of the load balancer
    3  aborted (Ctrl-C once): in-flight steps finished, healthy targets put back
    4  bad config, flag or usage
    5  degraded: went to its end, but targets failed within --max-failures and are left out
    6  with --strict (or \`strict: true\`): succeeded, but with warnings (without it: 0)
  130  interrupted (Ctrl-C twice): stopped at once; \`rolling resume\` finishes the rollout

Examples:
  rolling plan
  rolling deploy --build v2.3.1 --batch 1,25%,100%
  rolling deploy --json > rollout.jsonl
  rolling status

Run \`rolling <command> --help\` for the flags of a command.
`

async function help(argv: string[]) {
  const run = await runMain(argv, { cwd: CLI_ROOT })
  expect(run.stderr.text()).toBe('')
  expect(run.code).toBe(0)
  return run.stdout.text()
}

describe('rolling --help', () => {
  it('lists the commands, the flags, the exit codes and examples', async () => {
    expect(await help(['--help'])).toBe(MAIN_HELP)
    expect(await help(['-h'])).toBe(MAIN_HELP)
    expect(await help(['help'])).toBe(MAIN_HELP)
  })

  it('documents every exit code the CLI uses', () => {
    const documented = [...MAIN_HELP.matchAll(/^ {2,4}(\d+) {2}/gm)].map((m) => Number(m[1]))
    expect(documented).toEqual(Object.values(ExitCode))
  })

  it('prints the help on stderr and exits 4 when no command is given', async () => {
    const run = await runMain([], { cwd: CLI_ROOT })
    expect([run.code, run.stdout.text(), run.stderr.text()]).toEqual([4, '', MAIN_HELP])
  })

  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(CLI_ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(await help(['--version'])).toBe(`${version}\n`)
  })
})

describe.each(COMMAND_NAMES)('rolling %s --help', (command) => {
  it('has a usage line, a description, its flags and examples; `rolling help <command>` is the same', async () => {
    const text = await help([command, '--help'])
    expect(await help(['help', command])).toBe(text)
    expect(await help([command, '-h'])).toBe(text)
    const lines = text.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^rolling ${command}: \\S`))
    expect(lines[2]).toMatch(new RegExp(`^Usage: rolling ${command}( \\[service\\])? \\[flags\\]$`))
    expect(lines).toContain('Flags:')
    expect(lines).toContain('Examples:')
    if (command === 'deploy' || command === 'resume') expect(text).toContain('Exit codes: 0 succeeded, 1 failed or could not start, 2 halted, 3 aborted')
  })

  it('lists exactly the flags the command accepts', async () => {
    const text = await help([command, '--help'])
    const section = text.slice(text.indexOf('Flags:\n'), text.indexOf('\nExamples:'))
    const listed = [...section.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)/gm)].map((m) => m[1] as keyof typeof FLAGS)
    expect(listed.length).toBeGreaterThan(1)
    for (const name of Object.keys(FLAGS) as (keyof typeof FLAGS)[]) {
      if (name === 'version') continue
      const flag = FLAGS[name]
      const argv =
        flag.type === 'boolean'
          ? [`--${name}`]
          : [
              `--${name}`,
              name === 'batch' ||
              name === 'max-stopped' ||
              name.startsWith('settle') ||
              name === 'min-healthy' ||
              name === 'max-failures' ||
              name === 'pause-after'
                ? '1'
                : name === 'deadline' || name === 'bake'
                  ? '10m'
                  : name === 'on-failure'
                    ? 'halt'
                    : name === 'on-mismatch'
                      ? 'deploy'
                      : name === 'state'
                        ? 's3://bucket/prefix'
                        : 'x',
            ]
      if (listed.includes(name)) expect(() => parseCommand(command, argv), `--${name} is listed`).not.toThrow()
      else expect(() => parseCommand(command, argv), `--${name} is not listed`).toThrow(`unknown flag --${name}`)
    }
  })

  it('gives examples that are valid invocations', async () => {
    const text = await help([command, '--help'])
    const examples = text
      .slice(text.indexOf('Examples:\n') + 'Examples:\n'.length)
      .split('\n\n')[0]
      ?.split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '') as string[]
    expect(examples.length).toBeGreaterThan(0)
    for (const example of examples) {
      const words = example.split(' | ')[0]?.split(' > ')[0]?.trim().split(/\s+/) as string[]
      expect(words.slice(0, 2)).toEqual(['rolling', command])
      expect(() => parseCommand(command, words.slice(2)), example).not.toThrow()
    }
  })
})

describe('README', () => {
  it('documents the same exit codes as the CLI', () => {
    const readme = readFileSync(join(CLI_ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Config'))
    const rows = [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => Number(m[1]))
    expect(rows).toEqual(Object.values(ExitCode))
  })
})
