// The shell commands of the release recipe, one function each, run with cwd = <root>.
// Every interpolated value goes through `sh`; versions and paths were validated first.
// Each command is safe to run again (resume re-runs a step a crash left unfinished).
import { curlConfig, pipeText, sh, unpackChecked } from '@org/rolling-core'

/** The file each release carries, written on install; `version` reads it through `current`. */
export const RELEASE_MARKER = '.rolling-release.json'

export interface Install {
  file: string
  version: string
  sha256: string
  marker: string
  shared: readonly string[]
  root: string
}

/** Prints `installed` when releases/<v> is already there from the same artifact. */
export function probe(version: string, sha256: string): string {
  const marker = `releases/${version}/${RELEASE_MARKER}`
  return sh`mkdir -p releases shared && if [ -f ${marker} ] && grep -q ${sha256} ${marker}; then touch ${`releases/${version}`} && echo installed; fi`
}

/** Has the host download `url` to `file` with curl (or wget). */
export function fetchTo(url: string, file: string, timeoutS: number): string {
  return [
    sh`rm -f ${file}`,
    // The URL (a presigned signature) reaches curl/wget on stdin, never in argv where `ps` shows it.
    `if command -v curl >/dev/null 2>&1; then ${pipeText(curlConfig(url))}${sh`curl -fsS --retry 2 --connect-timeout 10 --max-time ${timeoutS} -o ${file} -K -`}`,
    `elif command -v wget >/dev/null 2>&1; then ${pipeText(url)}${sh`wget -q -T ${timeoutS} -O ${file} -i -`}`,
    `else echo 'neither curl nor wget is installed on this host' >&2; exit 127; fi`,
  ].join('\n')
}

/** Has the host copy `s3://bucket/key` to `file` with the AWS CLI and its own role: no URL, nothing signed in the command. */
export function s3CopyTo(bucket: string, key: string, file: string, timeoutS: number): string {
  return [
    sh`rm -f ${file}`,
    `if ! command -v aws >/dev/null 2>&1; then echo 'transfer s3 needs the AWS CLI (aws) on this host' >&2; exit 127; fi`,
    sh`aws s3 cp --only-show-errors --cli-read-timeout ${timeoutS} ${`s3://${bucket}/${key}`} ${file}`,
  ].join('\n')
}

/**
 * Checks the sha256 of the transferred file, unpacks it into a fresh temp folder (refusing
 * entries that could reach outside it), writes the marker, links the shared paths, then
 * renames it to releases/<v>: whole or absent, never half. Nothing here follows a symlink the
 * build brought: the marker is a new file renamed over whatever the build has at its name,
 * and a shared path's parents must be real folders of the release.
 */
export function install({ file, version, sha256, marker, shared, root }: Install): string {
  const release = `releases/${version}`
  const lines = [
    'set -e',
    'tmp=',
    sh`file=${file}`,
    // The transferred file and a half-unpacked folder never outlive this command.
    `trap 'rm -f "$file"; [ -z "$tmp" ] || rm -rf "$tmp"' EXIT`,
    `got=$(sha256sum "$file" | cut -d' ' -f1)`,
    sh`if [ "$got" != ${sha256} ]; then echo "sha256 mismatch for ${version}: expected ${sha256}, got $got; nothing was switched" >&2; exit 1; fi`,
    'tmp=$(mktemp -d releases/.unpack-XXXXXX)',
    unpackChecked({ file: '"$file"', dir: '"$tmp"', label: version }),
    // mktemp creates a new file (O_EXCL) and rename replaces a link rather than writing through it.
    'm=$(mktemp "$tmp/.rolling-marker.XXXXXX")',
    sh`printf '%s\n' ${marker} > "$m"`,
    sh`chmod 644 "$m" && rm -rf "$tmp"/${RELEASE_MARKER} && mv -T "$m" "$tmp"/${RELEASE_MARKER}`,
  ]
  for (const path of shared) lines.push(...linkShared(path, version, root))
  lines.push(sh`rm -rf ${release}`, sh`mv -T "$tmp" ${release}`, 'tmp=')
  return lines.join('\n')
}

/**
 * Links `<root>/shared/<path>` into the temp release. Every parent of the path inside the
 * release must be a real folder (or absent): a link there, even one pointing inside, would
 * make `mkdir` and `ln` act wherever it points. The path itself is removed (a link is removed,
 * never followed) and made a link.
 */
function linkShared(path: string, version: string, root: string): string[] {
  const segments = path.split('/')
  const lines: string[] = []
  for (let i = 1; i < segments.length; i++) {
    const parent = segments.slice(0, i).join('/')
    lines.push(
      sh`if [ -L "$tmp"/${parent} ] || { [ -e "$tmp"/${parent} ] && [ ! -d "$tmp"/${parent} ]; }; then ` +
        sh`echo ${`release ${version}: shared path ${path}: ${parent} in the build is not a folder (a symlink or a file); nothing was switched`} >&2; exit 1; fi`,
    )
  }
  if (segments.length > 1) {
    const parent = segments.slice(0, -1).join('/')
    lines.push(sh`mkdir -p shared/${parent} "$tmp"/${parent}`)
  }
  // An absolute link: the release may be read through `current` or by its own path.
  lines.push(sh`rm -rf "$tmp"/${path}`, sh`ln -sfn ${`${root}/shared/${path}`} "$tmp"/${path}`)
  return lines
}

/** Points `current` at the release atomically (a new symlink renamed over the old), remembering `previous`. */
export function switchTo(version: string): string {
  const release = `releases/${version}`
  return [
    'cur=$(readlink current || true)',
    // `previous` is only moved when current changes: a re-run must not make previous == current.
    sh`if [ -n "$cur" ] && [ "$cur" != ${release} ]; then ln -sfn "$cur" .previous.tmp && mv -T .previous.tmp previous; fi`,
    sh`ln -sfn ${release} .current.tmp && mv -T .current.tmp current`,
  ].join('\n')
}

/** Removes all but the `keep` newest releases; `current` and `previous` are always kept. */
export function prune(keep: number): string {
  return [
    'cur=$(readlink current || true); prev=$(readlink previous || true)',
    sh`ls -1t releases | tail -n +${keep + 1} | while IFS= read -r d; do`,
    '  [ "releases/$d" = "$cur" ] || [ "releases/$d" = "$prev" ] || rm -rf "releases/$d"',
    'done',
  ].join('\n')
}

/** Switches `current` back to `previous` while current is still `version` (idempotent). */
export function switchBack(version: string): string {
  const release = `releases/${version}`
  return [
    sh`if [ "$(readlink current || true)" = ${release} ]; then`,
    sh`  prev=$(readlink previous || true)`,
    sh`  if [ -z "$prev" ] || [ ! -d "$prev" ]; then echo "no previous release to roll back to from ${release}" >&2; exit 1; fi`,
    '  ln -sfn "$prev" .current.tmp && mv -T .current.tmp current',
    // A second rollback must not go "back" to the build that just failed.
    '  rm -f previous',
    'fi',
  ].join('\n')
}
