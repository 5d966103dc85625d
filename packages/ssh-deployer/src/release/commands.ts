// The shell commands of the release recipe, one function each, run with cwd = <root>.
// Every interpolated value goes through `sh`; versions and paths were validated first.
// Each command is safe to run again (resume re-runs a step a crash left unfinished).
import { sh } from '@org/rolling-core'
import { curlConfig, pipeText, unpackChecked } from '@org/rolling-core/adapter'

/** The file each release carries, written on install; `version` reads it through `current`. */
export const RELEASE_MARKER = '.rolling-release.json'
/** Present in a release installed (prepared) but never switched to; the switch removes it. */
export const PREPARED_MARKER = '.rolling-prepared'
/** What the deploy's one command prints when the release is not there to switch to. */
export const NOT_PREPARED = 'rolling:not-prepared'

export interface Install {
  file: string
  version: string
  sha256: string
  marker: string
  shared: readonly string[]
  root: string
  /** The file is the build itself (transfer 'copy'): read it, never remove it. */
  keepFile?: boolean
}

/**
 * Prints, on stdout, a digest of what a release folder holds: every file and link with its
 * type, size, ctime and link target, the two marker files left out. Only metadata is read
 * (cheap out of service, even for a release of many files); any write to a file (or a
 * chmod, a rename, a replaced link) moves its ctime, which no user program can set back.
 * It changes the working folder: use it inside `$(...)`.
 */
export function treeDigest(dir: string): string {
  return (
    `cd ${dir} && find . \\( -type f -o -type l \\) ${sh`! -path ${`./${RELEASE_MARKER}`} ! -path ${`./${PREPARED_MARKER}`}`} ` +
    `-printf '%p\\t%y %s %C@ %l\\n' | LC_ALL=C sort | sha256sum | cut -d' ' -f1`
  )
}

/** Sets `want` to the digest recorded in a release's marker (empty for a release installed without one). */
const recordedDigest = (marker: string): string => `want=$(${sh`grep -o '"tree":"[0-9a-f]*"' ${marker}`} 2>/dev/null | cut -d'"' -f4)`

/**
 * Prints `installed` when releases/<v> is already there from the same artifact and its
 * files are as they were installed (the one `current` points at is taken as it is: it runs).
 */
export function probe(version: string, sha256: string): string {
  const release = `releases/${version}`
  const marker = `${release}/${RELEASE_MARKER}`
  return [
    'mkdir -p releases shared',
    sh`if [ -f ${marker} ] && grep -q ${sha256} ${marker}; then`,
    `  ${recordedDigest(marker)}`,
    sh`  if [ "$(readlink current || true)" = ${release} ] || { [ -n "$want" ] && [ "$(${treeDigest(sh`${release}`)})" = "$want" ]; }; then`,
    sh`    touch ${release} && echo installed`,
    '  fi',
    'fi',
  ].join('\n')
}

/**
 * The deploy's one command, out of service: check that the prepared release is the one
 * prepared (its digest), switch `current`, then run the restart. Prints NOT_PREPARED and
 * changes nothing when the release is absent (not prepared, or pruned since).
 */
export function activate(version: string, sha256: string, restart: string): string {
  const release = `releases/${version}`
  const marker = `${release}/${RELEASE_MARKER}`
  return [
    sh`if [ ! -f ${marker} ] || ! grep -q ${sha256} ${marker}; then echo ${NOT_PREPARED}; exit 0; fi`,
    sh`if [ "$(readlink current || true)" != ${release} ]; then`,
    `  ${recordedDigest(marker)}`,
    `  if [ -n "$want" ]; then got=$(${treeDigest(sh`${release}`)})`,
    sh`    if [ "$got" != "$want" ]; then echo "release ${version} changed since it was prepared (files digest $want, now $got); nothing was switched" >&2; exit 1; fi`,
    '  fi',
    'fi',
    `{ ${switchTo(version).split('\n').join(' && ')}; } || exit 1`,
    sh`rm -f ${`${release}/${PREPARED_MARKER}`}`,
    restart,
  ].join('\n')
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
export function install({ file, version, sha256, marker, shared, root, keepFile = false }: Install): string {
  const release = `releases/${version}`
  const lines = [
    'set -e',
    'tmp=',
    sh`file=${file}`,
    // The transferred file and a half-unpacked folder never outlive this command.
    `trap '${keepFile ? '' : 'rm -f "$file"; '}[ -z "$tmp" ] || rm -rf "$tmp"' EXIT`,
    `got=$(sha256sum "$file" | cut -d' ' -f1)`,
    sh`if [ "$got" != ${sha256} ]; then echo "sha256 mismatch for ${version}: expected ${sha256}, got $got; nothing was switched" >&2; exit 1; fi`,
    'tmp=$(mktemp -d releases/.unpack-XXXXXX)',
    unpackChecked({ file: '"$file"', dir: '"$tmp"', label: version }),
    // mktemp creates a new file (O_EXCL) and rename replaces a link rather than writing through it.
  ]
  for (const path of shared) lines.push(...linkShared(path, version, root))
  // The marker last, with the digest of everything above: the deploy checks it before the switch.
  lines.push(
    sh`rm -rf "$tmp"/${PREPARED_MARKER} && : > "$tmp"/${PREPARED_MARKER}`,
    `tree=$(${treeDigest('"$tmp"')})`,
    'm=$(mktemp "$tmp/.rolling-marker.XXXXXX")',
    sh`printf '%s,"tree":"%s"}\n' ${marker.replace(/}$/, '')} "$tree" > "$m"`,
    sh`chmod 644 "$m" && rm -rf "$tmp"/${RELEASE_MARKER} && mv -T "$m" "$tmp"/${RELEASE_MARKER}`,
  )
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

/**
 * Removes releases prepared but never switched to (a host skipped after its prepare), other
 * than `version`, then all but the `keep` newest; `current`, `previous` and `version` are
 * always kept.
 */
export function prune(keep: number, version: string): string {
  return [
    sh`cur=$(readlink current || true); prev=$(readlink previous || true); new=${`releases/${version}`}`,
    `for d in releases/*/${PREPARED_MARKER}; do d=\${d%/${PREPARED_MARKER}}; [ -d "$d" ] || continue`,
    '  [ "$d" = "$cur" ] || [ "$d" = "$prev" ] || [ "$d" = "$new" ] || rm -rf "$d"',
    'done',
    sh`ls -1t releases | tail -n +${keep + 1} | while IFS= read -r d; do`,
    '  [ "releases/$d" = "$cur" ] || [ "releases/$d" = "$prev" ] || [ "releases/$d" = "$new" ] || rm -rf "releases/$d"',
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
