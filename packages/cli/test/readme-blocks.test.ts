// Every shell command in every README, as a newcomer would run it. Each command line of each
// ```sh block is either run here, through a shell, against the local fleet (HAProxy and real
// app processes), or listed in SKIPPED with the reason it cannot run here and where it is
// covered instead. A README command that is neither fails the test, so a new one gets a
// decision. The walk-through: `npx -y pnpm@12.4.2 fleet` starts a fleet and prints the deploy
// command, which is run as the READMEs give it; then the CLI README's usage block is run in a
// project folder whose rollout.config.ts is the local fleet's.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitUntil } from '@org/rolling-core/adapter'
import { CLI_ROOT } from './support/project.js'

const REPO = join(CLI_ROOT, '../..')
const READMES = ['README.md', ...['packages', 'examples'].flatMap((dir) => readdirSync(join(REPO, dir)).map((name) => `${dir}/${name}/README.md`))].filter(
  (file) => existsSync(join(REPO, file)),
)

const NOT_PUBLISHED = 'installs from the npm registry, where these packages are not published; packages/cli/test/packed.test.ts installs the packed tarballs'
const NEEDS_S3 = 'needs an S3 bucket; packages/cli/test/state-s3.test.ts runs deploy, status and resume with --state against moto'
const SKIPPED: Record<string, string> = {
  'npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 demo': 'the demo runs in examples/local-fleet/test/demo.test.ts; the install is how CI starts (.ci/run)',
  'npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 test': 'this is CI itself: .ci/run runs it',
  'pnpm add @org/rolling-core @org/rolling-aws-elb': NOT_PUBLISHED,
  'pnpm add @org/rolling-aws-ssm @org/rolling-core': NOT_PUBLISHED,
  'pnpm add -D @org/rolling-cli @org/rolling-core': NOT_PUBLISHED,
  'pnpm add @org/rolling-core': NOT_PUBLISHED,
  'pnpm add @org/rolling-core @org/rolling-haproxy': NOT_PUBLISHED,
  'pnpm add @org/rolling-core @org/rolling-s3': NOT_PUBLISHED,
  'pnpm add @org/rolling-core @org/rolling-ssh': NOT_PUBLISHED,
  'pnpm add @org/rolling-core @org/rolling-otel @opentelemetry/api': NOT_PUBLISHED,
  'pnpm add @org/rolling-aws-cloudwatch @org/rolling-core': NOT_PUBLISHED,
  'npx rolling plan   --config examples/aws/rollout.config.ts':
    'needs an AWS account; examples/aws/test/aws-cli.test.ts runs this config against loopback fakes',
  'npx rolling deploy --config examples/aws/rollout.config.ts':
    'needs an AWS account; examples/aws/test/aws-cli.test.ts runs this config against loopback fakes',
  'npx -y pnpm@12.4.2 --filter @org/example-aws start':
    'starts the AWS-shaped fleet and waits; examples/aws/test/aws-cli.test.ts starts it and runs the command it prints',
  'npx -y pnpm@12.4.2 --filter @org/example-custom-adapter start': 'its demo runs in examples/custom-adapter/test/demo.test.ts',
  'npx vitest run --project example-custom-adapter': 'runs with every test (`pnpm test`)',
  'npx -y pnpm@12.4.2 --filter @org/example-custom-reporter start': 'its demo runs in examples/custom-reporter/test/demo.test.ts',
  'WEBHOOK_URL=https://hooks.slack.com/services/... npx -y pnpm@12.4.2 --filter @org/example-custom-reporter start':
    'posts to a chat webhook on the internet; examples/custom-reporter/test posts to one on loopback',
  'npx vitest run --project example-custom-reporter': 'runs with every test (`pnpm test`)',
  'npx vitest run --project aws-ssm': 'runs with every test (`pnpm test`)',
  'npx vitest run --project s3': 'runs with every test (`pnpm test`)',
  'npx rolling deploy --state s3://my-bucket/rolling/': NEEDS_S3,
  'npx rolling status checkout --state s3://my-bucket/rolling/': NEEDS_S3,
  'npx rolling resume --state s3://my-bucket/rolling/': NEEDS_S3,
}

// The walk-through (root README and examples/local-fleet/README.md); `<dir>` is the folder the fleet prints.
const FLEET = 'npx -y pnpm@12.4.2 fleet'
const DEPLOY_FLEET = (dir: string) => `ROLLING_FLEET_DIR=${dir} npx rolling deploy --config examples/local-fleet/rollout.config.ts`
const PLACEHOLDERS = ['<the folder it prints>', '/tmp/rolling-fleet-...']
// The CLI README's usage block and its install block's `--help`, run in a project on the fleet:
// the exit code and what the output must show. `--build v2.3.1` names a build the fleet does not have.
const CLI_USAGE: Record<string, { code: number; shows: RegExp }> = {
  'npx rolling --help': { code: 0, shows: /^rolling: roll a new build/ },
  'npx rolling plan': { code: 0, shows: /^plan for app: build v2 / },
  'npx rolling deploy': { code: 0, shows: /exit 0 \(succeeded\)\n$/ },
  'npx rolling deploy --build v2.3.1 --batch 1,25%,100%': { code: 1, shows: /could not start: .*no build v2\.3\.1 of service app/ },
  'npx rolling deploy --json > rollout.jsonl': { code: 0, shows: /^$/ },
  'npx rolling deploy --redeploy': { code: 0, shows: /exit 0 \(succeeded\)\n$/ },
  'npx rolling status': { code: 0, shows: /\nstatus: succeeded at \S+: nothing to resume\n/ },
  'npx rolling resume': { code: 1, shows: /could not start: \[rolling\] no rollout to resume: run r-\S+ in .* already ended \(succeeded\)/ },
  'npx rolling unlock': { code: 0, shows: /^app is not locked/ },
}

/** The command lines of the ```sh blocks of a Markdown file: continuations joined, comments and indentation dropped. */
function shellCommands(markdown: string): string[] {
  const commands: string[] = []
  let fence: string | undefined
  let pending = ''
  for (const raw of markdown.split('\n')) {
    const line = raw.trim()
    if (fence === undefined) {
      const open = /^(`{3,})(\w*)/.exec(line)
      if (open) fence = open[2] === 'sh' || open[2] === 'bash' || open[2] === 'shell' ? (open[1] as string) : `skip${open[1]}`
      continue
    }
    if (line.startsWith(fence.replace('skip', '')) && /^`{3,}$/.test(line)) {
      fence = undefined
      continue
    }
    if (fence.startsWith('skip')) continue
    const text = pending + line.replace(/\s+#.*$/, '')
    if (text.endsWith('\\')) {
      pending = `${text.slice(0, -1).trimEnd()} `
      continue
    }
    pending = ''
    if (text.trim() !== '') commands.push(text.trim())
  }
  return commands
}

const found = READMES.flatMap((file) => shellCommands(readFileSync(join(REPO, file), 'utf8')).map((command) => ({ file, command })))

const placeholder = (command: string) => PLACEHOLDERS.some((p) => command.includes(`ROLLING_FLEET_DIR=${p} `))
const haproxy = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'].some((path) => existsSync(path))
const mustRun = process.env.CI === 'true'

describe('README shell commands', () => {
  it('are each run below or skipped with a reason', () => {
    const covered = (command: string) => command in SKIPPED || command in CLI_USAGE || command === FLEET || placeholder(command)
    expect(found.filter(({ command }) => !covered(command))).toEqual([])
    // No stale entry: each skipped or run command is still in a README.
    const present = new Set(found.map(({ command }) => command))
    expect([...Object.keys(SKIPPED), ...Object.keys(CLI_USAGE), FLEET].filter((command) => !present.has(command))).toEqual([])
  })
})

/** Runs a README line as a person pasting it would: one shell line, in `cwd`. */
function paste(command: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe.skipIf(!haproxy && !mustRun)(
  `the README walk-through on the local fleet${haproxy ? '' : ' (haproxy not installed: apt-get install -y haproxy)'}`,
  () => {
    let fleet: ChildProcess | undefined
    let printed = ''
    let project = ''
    beforeAll(async () => {
      expect(haproxy, 'haproxy is installed (CI installs it in .ci/run)').toBe(true)
      // Its own process group, so the test can stop pnpm and the fleet under it together.
      fleet = spawn('sh', ['-c', FLEET], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
      fleet.stdout?.on('data', (chunk: Buffer) => {
        printed += chunk.toString()
      })
      fleet.stderr?.on('data', (chunk: Buffer) => {
        printed += chunk.toString()
      })
      await waitUntil(
        async () => (/Ctrl-C here stops the fleet/.test(printed) ? { state: 'done', value: true } : { state: 'retry', observed: printed.slice(-300) }),
        {
          what: `\`${FLEET}\` to print the deploy command`,
          timeoutMs: 60_000,
          minDelayMs: 50,
          maxDelayMs: 200,
        },
      )
      project = mkdtempSync(join(tmpdir(), 'rolling-readme-'))
      writeFileSync(join(project, 'package.json'), '{ "type": "module", "private": true }\n')
      writeFileSync(join(project, 'rollout.config.ts'), `export { default } from ${JSON.stringify(join(REPO, 'examples/local-fleet/rollout.config.ts'))}\n`)
      // What `pnpm add -D @org/rolling-cli` gives a project: the bin that `npx rolling` runs.
      mkdirSync(join(project, 'node_modules/.bin'), { recursive: true })
      symlinkSync(join(CLI_ROOT, 'bin/rolling.js'), join(project, 'node_modules/.bin/rolling'))
    }, 90_000)
    afterAll(async () => {
      // Ctrl-C, as the fleet's own message says, to the whole group (sh, pnpm, the fleet's node).
      const group = (signal: NodeJS.Signals) => {
        try {
          if (fleet?.pid !== undefined) process.kill(-fleet.pid, signal)
        } catch {
          // The group is gone already.
        }
      }
      if (fleet && fleet.exitCode === null && fleet.signalCode === null) {
        const exited = new Promise((resolve) => fleet?.once('exit', resolve))
        group('SIGINT')
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
        group('SIGKILL')
      }
      if (project) rmSync(project, { recursive: true, force: true })
    }, 20_000)

    const dirOf = () => /ROLLING_FLEET_DIR=(\S+) npx rolling deploy/.exec(printed)?.[1] as string

    it('prints the deploy command the READMEs give, which rolls the fleet to v2', async () => {
      const dir = dirOf()
      expect(printed).toContain(`  ${DEPLOY_FLEET(dir)}\n`)
      const lines = found.filter(({ command }) => placeholder(command))
      expect(lines.map(({ file }) => file).sort()).toEqual(['README.md', 'examples/local-fleet/README.md'])
      for (const { command } of lines) {
        expect(PLACEHOLDERS.reduce((text, p) => text.replace(p, dir), command)).toBe(DEPLOY_FLEET(dir))
      }
      const run = await paste(DEPLOY_FLEET(dir), REPO)
      expect(run.code, run.stdout + run.stderr).toBe(0)
      expect(run.stdout).toMatch(/exit 0 \(succeeded\)\n$/)
      const versions = readdirSync(join(dir, 'hosts')).map(
        (host) => (JSON.parse(readFileSync(join(dir, 'hosts', host, 'current/release.json'), 'utf8')) as { version: string }).version,
      )
      expect(new Set(versions)).toEqual(new Set(['v2']))
    }, 90_000)

    it("runs the CLI README's usage block in a project on that fleet", async () => {
      const env = { ROLLING_FLEET_DIR: dirOf(), ROLLING_BATCH: '3' }
      for (const [command, expected] of Object.entries(CLI_USAGE)) {
        const run = await paste(command, project, env)
        expect([command, run.code], run.stdout + run.stderr).toEqual([command, expected.code])
        expect(run.stdout, command).toMatch(expected.shows)
      }
      const events = readFileSync(join(project, 'rollout.jsonl'), 'utf8').trim().split('\n')
      expect(events.at(-1)).toMatch(/^\{"type":"rollout:end".*"status":"succeeded"/)
    }, 180_000)
  },
)
