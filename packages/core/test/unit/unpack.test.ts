// unpackChecked: the shell that unpacks a build into a fresh folder, run by /bin/sh on real
// tarballs whose names are awkward (spaces, ` -> `, newlines, a leading `-`), and fails closed
// when it cannot check. The hostile cases themselves run through both recipes' tests.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unpackChecked } from '@org/rolling-core/adapter'

const run = promisify(execFile)
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rolling-unpack-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let n = 0
/** A tarball of what `shape` puts in a fresh stage. */
async function tarball(shape: (stage: string) => Promise<void>): Promise<string> {
  const stage = await mkdtemp(join(dir, 'stage-'))
  await shape(stage)
  const file = join(dir, `build-${++n}.tgz`)
  await run('tar', ['-czf', file, '-C', stage, '.'])
  return file
}

/** Unpacks `file` into a new folder with the checked commands; the exit code, stderr and the folder. */
async function unpack(file: string, env: NodeJS.ProcessEnv = process.env) {
  const into = await mkdtemp(join(dir, 'into-'))
  const script = `set -e\n${unpackChecked({ file: '"$1"', dir: '"$2"', label: 'v9' })}\necho unpacked`
  try {
    const { stdout } = await run('/bin/sh', ['-c', script, 'sh', file, into], { env })
    return { code: 0, stdout, stderr: '', into }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, into }
  }
}

describe('unpackChecked', () => {
  it('unpacks awkward names that stay inside', async () => {
    const file = await tarball(async (s) => {
      await writeFile(join(s, 'a b -> c'), 'arrow\n')
      await writeFile(join(s, 'new\nline'), 'newline\n')
      await writeFile(join(s, '-rf'), 'dash\n')
      await mkdir(join(s, 'sp ace'))
      await symlink('../a b -> c', join(s, 'sp ace', 'back -> x'))
      await symlink('loop', join(s, 'loop'))
    })
    const { code, stdout, stderr, into } = await unpack(file)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toBe('unpacked\n')
    expect(readFileSync(join(into, 'sp ace', 'back -> x'), 'utf8')).toBe('arrow\n')
    expect(readFileSync(join(into, 'new\nline'), 'utf8')).toBe('newline\n')
    expect(existsSync(join(into, '-rf'))).toBe(true)
    // Packed from a 0700 stage as `.`: the folder's mode is the recipe's, not the archive's.
    expect(statSync(into).mode & 0o7777).toBe(0o755)
  })

  it('names a link out even when its name holds ` -> ` and spaces', async () => {
    const file = await tarball((s) => symlink('/etc', join(s, 'x -> y z')))
    const { code, stderr } = await unpack(file)
    expect(code).toBe(1)
    expect(stderr).toBe('release v9: entry x -> y z -> /etc resolves outside the release\n')
  })

  it('refuses an archive it cannot list, and one whose links it cannot check', async () => {
    const corrupt = join(dir, 'corrupt.tgz')
    await writeFile(corrupt, 'not a tarball')
    const listed = await unpack(corrupt)
    expect(listed.code).toBe(1)
    expect(listed.stderr).toContain('release v9: cannot list the archive')

    // A PATH with every tool but realpath: the check cannot run, so nothing passes.
    const bin = join(dir, 'bin')
    await mkdir(bin)
    for (const tool of ['tar', 'gzip', 'awk', 'find', 'sh', 'head', 'readlink', 'chmod']) {
      const { stdout } = await run('/bin/sh', ['-c', `command -v ${tool}`])
      if (stdout.trim().startsWith('/')) await symlink(stdout.trim(), join(bin, tool))
    }
    const file = await tarball(async (s) => {
      await writeFile(join(s, 'app'), 'x\n')
      await symlink('app', join(s, 'alias'))
    })
    const checked = await unpack(file, { PATH: bin })
    expect(checked.code).toBe(1)
    expect(checked.stderr).toContain('release v9: cannot check the links of the archive')
  })
})
