// The commands the CLI suggests (`rolling unlock app`, `rolling resume`, `rolling status`)
// must work when copied as printed. They act on the journal and the lock, which live where
// the config (or --state-dir, --state) of this invocation put them: a bare `rolling unlock app` run
// without them looks in another folder and answers "not locked". So every suggestion
// repeats this invocation's --config, --state-dir and --state, and its program (`npx rolling` when
// run through a package manager, which is how the READMEs run it).
import { shellQuote } from '@org/rolling-core'

export interface HintContext {
  /** `rolling`, or `npx rolling` when run through npx / pnpm exec. */
  program: string
  /** `--config`, as typed (relative to the working directory the user is in). */
  config?: string
  /** `--state-dir`, as typed. */
  stateDir?: string
  /** `--state s3://bucket/prefix`, as typed. */
  state?: string
}

export function hintContext(args: { config?: string; stateDir?: string; state?: string }, env: Readonly<Record<string, string | undefined>>): HintContext {
  // npm exec (npx) and pnpm exec both set npm_command=exec for the program they run.
  const viaPackageManager = env.npm_command === 'exec' || env.PNPM_PACKAGE_NAME !== undefined
  const context: HintContext = { program: viaPackageManager ? 'npx rolling' : 'rolling' }
  if (args.config !== undefined) context.config = args.config
  if (args.stateDir !== undefined) context.stateDir = args.stateDir
  if (args.state !== undefined) context.state = args.state
  return context
}

/** `rolling unlock app --config deploy/rollout.config.ts`: `words` (already shell words) and this invocation's state flags. */
export function hint(context: HintContext, command: 'resume' | 'status' | 'unlock', ...words: string[]): string {
  const flags = [
    ...(context.config === undefined ? [] : ['--config', shellQuote(context.config)]),
    ...(context.stateDir === undefined ? [] : ['--state-dir', shellQuote(context.stateDir)]),
    ...(context.state === undefined ? [] : ['--state', shellQuote(context.state)]),
  ]
  return [context.program, command, ...words, ...flags].join(' ')
}

/** Whether a bare `rolling status` in this folder finds what this invocation wrote. */
export function needsStateFlags(context: HintContext): boolean {
  return context.config !== undefined || context.stateDir !== undefined || context.state !== undefined
}

// `rolling resume`, `rolling status [svc]`, `rolling unlock [svc] [--force]` in backticks, as the
// engine's and the adapters' messages write them (they do not know how the CLI was run).
const SUGGESTION = /`rolling (resume|status|unlock)((?: [A-Za-z0-9._-]+)?)((?: --force)?)`/g
const API_AND_CLI = /\bbreakLock(?:\(\))? \/ `rolling/g

/** Rewrites every `rolling <command>` a message suggests into one that works as printed here. */
export function completeHints(message: string, context: HintContext): string {
  return message
    .replace(API_AND_CLI, '`rolling')
    .replace(/\bresume\(\) \/ `rolling resume`/g, '`rolling resume`')
    .replace(SUGGESTION, (_, command: 'resume' | 'status' | 'unlock', service: string, force: string) => {
      const words = [service.trim(), force.trim()].filter((word) => word !== '')
      return `\`${hint(context, command, ...words)}\``
    })
}
