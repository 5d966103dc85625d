// The state folder and its files (journal, lock) are readable by their owner only, whatever
// the umask: they name hosts and builds, and whoever can write them steers `resume`.
import * as fs from 'node:fs'
import * as path from 'node:path'

export const STATE_DIR_MODE = 0o700
export const STATE_FILE_MODE = 0o600

/** O_NOFOLLOW where the platform has it: a state file that is a symlink is refused, not followed. */
export const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0

/** Creates `dir` and any missing parents 0700 (an existing folder is left as it is). */
export function makeStateDir(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE })
  if (first === undefined) return
  // mkdir's mode is masked by the umask; chmod is not. Only the folders made here.
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    fs.chmodSync(d, STATE_DIR_MODE)
    if (d === path.resolve(first) || d === path.dirname(d)) break
  }
}

/** Why an open failed, in words: a symlink where a state file should be is named as such. */
export function openProblem(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ELOOP' || code === 'EMLINK' ? 'it is a symbolic link; refusing to follow it' : undefined
}
