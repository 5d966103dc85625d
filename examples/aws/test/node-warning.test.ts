// The AWS SDK's Node-version warning as a user of the CLI on Node 20 sees it: this example's
// config builds real ELBv2, SSM and S3 clients, which warn (9 lines, through
// process.emitWarning) on Node < 22. The `rolling` bin says it once, in one line, and the
// SDK's own switch hides it. No AWS call is made: `status` only reads the (empty) journal.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const LAUNCHER = join(REPO, 'packages/cli/bin/rolling.js')
const state = mkdtempSync(join(tmpdir(), 'rolling-aws-warning-'))
afterAll(() => rmSync(state, { recursive: true, force: true }))

async function status(extra: Record<string, string>): Promise<string> {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, NODE_OPTIONS: __, ...base } = process.env
  const args = [LAUNCHER, 'status', '--config', 'examples/aws/rollout.config.ts', '--state-dir', state]
  const { stderr } = await promisify(execFile)(process.execPath, args, { cwd: REPO, env: { ...base, ...extra }, timeout: 30_000 })
  return stderr
}

const major = Number(process.versions.node.split('.')[0])

describe.concurrent('the AWS SDK Node-version warning through the CLI', () => {
  it.skipIf(major >= 22)('is one line, once, naming the switch that hides it (Node < 22)', async () => {
    expect(await status({})).toBe(
      `rolling: note: AWS SDK releases after January 2027 need Node >= 22; this is Node ${process.version} (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true hides this note)\n`,
    )
  })

  it('is not printed with AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true', async () => {
    expect(await status({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' })).toBe('')
  })
})
