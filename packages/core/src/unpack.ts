// Unpacking a build on a host without letting it reach outside its release folder. A right
// sha256 proves the bytes are the build's, not that they are harmless: a tarball can carry
// links out of the release, hard links, device files and setuid bits. GNU tar and find assumed.
import { shellQuote } from './shell.js'

export interface UnpackCheckedOptions {
  /** The archive (a gzipped tarball), as a shell word: quoted, or a quoted variable (`"$file"`). */
  file: string
  /** The fresh, empty folder to unpack into, as a shell word (`"$tmp"`). */
  dir: string
  /** Names the release in errors: `release <label>: entry ...`. */
  label: string
}

// Reads `tar -tv --numeric-owner` lines: the type letter and mode come first, robust whatever
// the names; the name (for the message) follows the five fields mode, owner, size, date, time.
// Prints the first refused entry and stops.
const LISTING_CHECK = `{
  t = substr($0, 1, 1); m = substr($0, 1, 10); name = $0
  sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ /, "", name)
  if (t == "h") { print name " is a hard link"; exit }
  if (t == "c") { print name " is a character device"; exit }
  if (t == "b") { print name " is a block device"; exit }
  if (t == "p") { print name " is a fifo"; exit }
  if (t != "-" && t != "d" && t != "l") { print name " is a special file (type " t ")"; exit }
  if (substr(m, 4, 1) ~ /[sS]/ || substr(m, 7, 1) ~ /[sS]/) { print name " has a setuid or setgid bit (" m ")"; exit }
}`

// Run by find on the unpacked symlinks: $1 is the release folder, then the links. A link is
// resolved as the filesystem now stands (chains, `..`, absolute targets) and must stay inside.
const LINK_CHECK = [
  'dir=$1; base=$(realpath -- "$dir") || exit 2; shift',
  'for l do',
  '  r=$(realpath -m -- "$l") || exit 2',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
  '  case $r in "$base"|"$base"/*) ;; *) printf \'%s -> %s resolves outside the release\\n\' "${l#"$dir"/}" "$(readlink -- "$l")"; exit 1;; esac',
  'done',
].join('\n')

/**
 * Shell commands that list `file` and refuse (exit 1, the entry named on stderr) hard links,
 * device files, fifos and setuid/setgid bits; unpack it into `dir` without keeping owners or
 * modes from the archive (`dir` itself ends 0755); then refuse any symlink that resolves
 * outside `dir`. Meant for a fresh temp folder that the caller removes on failure, before
 * anything is switched.
 */
export function unpackChecked({ file, dir, label }: UnpackCheckedOptions): string {
  const release = `release ${label}`
  const say = (word: string) => `{ printf '%s\\n' ${word} >&2; exit 1; }`
  const fail = (text: string) => say(shellQuote(`${release}: ${text}`))
  const refuseEntry = say(`${shellQuote(`${release}: entry `)}"$bad"`)
  return [
    '{',
    `list=$(LC_ALL=C tar --numeric-owner -tvzf ${file}) || ${fail('cannot list the archive')}`,
    `bad=$(printf '%s\\n' "$list" | awk ${shellQuote(LISTING_CHECK)}) || ${fail('cannot check the archive listing')}`,
    `if [ -n "$bad" ]; then ${refuseEntry}; fi`,
    // Owners and modes from the archive would make a root unpack create files owned by
    // whoever the build says, with whatever mode: the host's user and umask decide instead.
    // A failed unpack is reported after the link check: GNU tar refuses to write through a
    // link out of the folder (`Not a directory`), and the link is the entry to name.
    'unpacked=yes',
    `LC_ALL=C tar --no-same-owner --no-same-permissions -xzf ${file} -C ${dir} || unpacked=no`,
    // An archive of `.` sets the folder's own mode (a build staged in a 0700 temp folder
    // makes a release only its owner can read): the release folder is the recipe's, 0755.
    `chmod 755 ${dir}`,
    // find fails when a check does: that is a refused link (printed) or a check that could not
    // run (nothing printed), and neither lets the release through.
    `bad=$(find ${dir} -type l -exec sh -c ${shellQuote(LINK_CHECK)} sh ${dir} {} +) || [ -n "$bad" ] || ${fail('cannot check the links of the archive')}`,
    `if [ -n "$bad" ]; then bad=$(printf '%s\\n' "$bad" | head -n 1); ${refuseEntry}; fi`,
    `if [ "$unpacked" = no ]; then ${fail('cannot unpack the archive')}; fi`,
    '}',
  ].join('\n')
}
