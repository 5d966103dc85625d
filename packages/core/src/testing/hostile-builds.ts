// Real tarballs (made with the `tar` CLI) whose sha256 is right but whose entries try to
// reach outside the release they are unpacked into: links out, a link in place of the
// recipe's marker, hard links, a fifo, a device, setuid/setgid bits. A recipe that unpacks
// builds runs each through its deploy step and checks that it is refused with the entry
// named and that nothing outside changed. Also the builds a recipe must still accept.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestBuild {
  /** What the build is, for test names: `marker link out`, `hard link`, ... */
  name: string
  /** A version name made of the case, for the release folder. */
  version: string
  file: string
  sha256: string
  size: number
}

export interface HostileBuild extends TestBuild {
  /** What the recipe's error must say, e.g. `release bad-abs: entry abs -> /x resolves outside the release`. */
  refusal: RegExp
}

export interface HostileBuildsOptions {
  /** Folder for stages, tarballs and the outside files (created if missing). */
  dir: string
  /** Files every build carries (path → content), e.g. the app the recipe expects. */
  files: Readonly<Record<string, string>>
  /** The file the recipe writes or reads in each release (`.rolling-release.json`, `release.json`). */
  marker: string
}

export interface HostileBuilds {
  /** A folder outside any release holding `file` and `dir/app.env`: what the builds aim at. */
  outside: string
  builds: HostileBuild[]
  /** Cases this process cannot build (a device needs root), each with the reason; the test prints them. */
  skipped: { name: string; reason: string }[]
  /** Builds that must deploy: links that stay inside, an owner and a group-writable mode in the archive. */
  fine: TestBuild[]
  /** Differences between the outside folder now and as it was made; [] when untouched. */
  outsideChanges(): Promise<string[]>
}

const OUTSIDE_FILE = 'outside file\n'
const OUTSIDE_ENV = 'outside env\n'
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export async function hostileBuilds({ dir, files, marker }: HostileBuildsOptions): Promise<HostileBuilds> {
  await mkdir(dir, { recursive: true })
  const outside = await mkdtemp(join(dir, 'outside-'))
  await writeFile(join(outside, 'file'), OUTSIDE_FILE)
  await mkdir(join(outside, 'dir'))
  await writeFile(join(outside, 'dir', 'app.env'), OUTSIDE_ENV)
  const isRoot = process.getuid?.() === 0

  // `shape` adds entries to the stage; it may return the tar arguments naming what to pack.
  type Shape = (stage: string) => Promise<string[] | undefined> | Promise<void>
  const make = async (name: string, version: string, shape: Shape, tarArgs: string[] = []): Promise<TestBuild> => {
    const stage = await mkdtemp(join(dir, 'stage-'))
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(stage, path, '..'), { recursive: true })
      await writeFile(join(stage, path), content)
    }
    const entries = await shape(stage)
    const file = join(dir, `${version}.tgz`)
    // Entries named one by one (not `.`): listed names are then `config`, not `./config`.
    await run('tar', ['-czf', file, ...tarArgs, ...(entries ?? ['-C', stage, ...(await readdir(stage)).sort()])])
    const bytes = await readFile(file)
    return { name, version, file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }
  }
  // `entry`: the refusal's text after `entry `; one of several when any may be found first.
  const refused = async (name: string, slug: string, entry: string | string[], shape: Shape, tarArgs?: string[]): Promise<HostileBuild> => {
    const version = `bad-${slug}`
    const build = await make(name, version, shape, tarArgs)
    const entries = (Array.isArray(entry) ? entry : [entry]).map(literal).join('|')
    return { ...build, refusal: new RegExp(`release ${literal(version)}: entry (${entries})`) }
  }

  const builds: HostileBuild[] = [
    await refused('marker link out', 'marker', `${marker} -> ${outside}/file resolves outside the release`, async (s) => {
      await rm(join(s, marker), { force: true })
      await symlink(join(outside, 'file'), join(s, marker))
    }),
    await refused('folder link out', 'config', `config -> ${outside}/dir resolves outside the release`, (s) =>
      symlink(join(outside, 'dir'), join(s, 'config')),
    ),
    // The link, then a file through it (two stages, one archive): GNU tar itself refuses the
    // file; the link is the entry named.
    await refused('folder link out, then a file through it', 'through', `config -> ${outside}/dir resolves outside the release`, async (s) => {
      await symlink(join(outside, 'dir'), join(s, 'config'))
      const other = await mkdtemp(join(dir, 'stage-'))
      await mkdir(join(other, 'config'))
      await writeFile(join(other, 'config', 'app.env'), 'from the build\n')
      return ['-C', s, ...Object.keys(files), 'config', '-C', other, 'config/app.env']
    }),
    await refused('absolute link', 'absolute', 'abs -> /etc/passwd resolves outside the release', (s) => symlink('/etc/passwd', join(s, 'abs'))),
    await refused('../ link out', 'dotdot', 'lib/up -> ../../.. resolves outside the release', async (s) => {
      await mkdir(join(s, 'lib'))
      await symlink('../../..', join(s, 'lib', 'up'))
    }),
    // A link that looks like it stays inside, until its next hop is followed.
    await refused('link chain out', 'chain', ['hop -> lib/next resolves outside the release', 'lib/next -> ../.. resolves outside the release'], async (s) => {
      await mkdir(join(s, 'lib'))
      await symlink('../..', join(s, 'lib', 'next'))
      await symlink('lib/next', join(s, 'hop'))
    }),
    await refused('hard link', 'hard', 'twin link to a.bin is a hard link', async (s) => {
      await writeFile(join(s, 'a.bin'), 'bytes\n')
      await link(join(s, 'a.bin'), join(s, 'twin'))
    }),
    await refused('fifo', 'fifo', 'pipe is a fifo', async (s) => void (await run('mkfifo', [join(s, 'pipe')]))),
    await refused('setuid file', 'setuid', 'tool has a setuid or setgid bit (-rwsr-xr-x)', async (s) => {
      await writeFile(join(s, 'tool'), '#!/bin/sh\nid\n')
      await chmod(join(s, 'tool'), 0o4755)
    }),
    await refused('setgid folder', 'setgid', 'group/ has a setuid or setgid bit (drwxr-sr-x)', async (s) => {
      await mkdir(join(s, 'group'))
      await chmod(join(s, 'group'), 0o2755)
    }),
  ]
  const skipped: HostileBuilds['skipped'] = []
  if (isRoot) {
    builds.push(
      await refused('character device', 'device', 'null is a character device', async (s) => void (await run('mknod', [join(s, 'null'), 'c', '1', '3']))),
    )
  } else {
    skipped.push({ name: 'character device', reason: `mknod needs root (uid ${process.getuid?.()}); CI runs as root` })
  }

  const fine: TestBuild[] = [
    await make('links that stay inside', 'ok-links', async (s) => {
      await mkdir(join(s, 'lib'))
      await writeFile(join(s, 'lib', 'data.txt'), 'data\n')
      await symlink('lib/data.txt', join(s, 'alias'))
      await symlink('../alias', join(s, 'lib', 'back'))
      await symlink('.', join(s, 'self'))
    }),
    // Owned by 4321 and mode 0775 in the archive: the host's user and umask decide.
    await make(
      'owner and mode from the archive',
      'ok-owner',
      async (s) => {
        await writeFile(join(s, 'owned.txt'), 'owned\n')
        await chmod(join(s, 'owned.txt'), 0o775)
      },
      ['--owner=4321', '--group=4321'],
    ),
  ]

  async function outsideChanges(): Promise<string[]> {
    const changes: string[] = []
    const expect = async (path: string, content: string) => {
      const stat = await lstat(path).catch(() => undefined)
      if (!stat) return void changes.push(`${path} is gone`)
      if (!stat.isFile()) return void changes.push(`${path} is no longer a file (${stat.isSymbolicLink() ? `a link to ${await readlink(path)}` : 'other'})`)
      const now = await readFile(path, 'utf8')
      if (now !== content) changes.push(`${path} now holds ${JSON.stringify(now)}`)
    }
    await expect(join(outside, 'file'), OUTSIDE_FILE)
    await expect(join(outside, 'dir', 'app.env'), OUTSIDE_ENV)
    const left = (await readdir(join(outside, 'dir'))).filter((f) => f !== 'app.env')
    if (left.length > 0) changes.push(`${outside}/dir gained ${left.join(', ')}`)
    return changes
  }

  return { outside, builds, skipped, fine, outsideChanges }
}
