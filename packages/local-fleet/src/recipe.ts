// The deploy recipe of the local fleet, as real shell commands run in each host's folder
// (`releases/<version>/`, a `current` symlink, `app.pid`): the same steps a recipe for a
// real server would take, so the engine is tested against a filesystem and processes.
// The build is a path on the host (file store) or a URL it downloads (S3's presigned URLs).
import type { ArtifactLocation, DeployRecipe, ExecRequest, StepArgs } from '@org/rolling-core'
import { RollingError, ValidationError, sh, shellQuote } from '@org/rolling-core'
import { checkMs, curlConfig, pipeText, unpackChecked } from '@org/rolling-core/adapter'
import { PID_FILE, RELEASE_FILE, STOPPED_FILE } from './supervisor.js'

export interface FleetRecipeOptions {
  /** Releases kept on each host after a deploy (`current` and `previous` are never removed). @default 3 */
  keep?: number
  /** How long a restart or stop waits for the old process to exit. @default 15_000 */
  stopTimeoutMs?: number
  /**
   * How a host downloads a build given as a URL: `curl`, or `node` (its built-in fetch, for
   * hosts without curl); `auto` uses curl when the host has it.
   * @default 'auto'
   */
  download?: 'auto' | 'curl' | 'node'
  /** Longest download of a build given as a URL. @default 120_000 */
  downloadTimeoutMs?: number
}

// The node fallback: argv is [node, url, file, timeout ms]. Prints the HTTP status, never the
// URL (a presigned URL is a credential until it expires).
const NODE_DOWNLOAD =
  'const [f,t]=process.argv.slice(1);const u=(await new Response(process.stdin).text()).trim();const r=await fetch(u,{signal:AbortSignal.timeout(Number(t))});' +
  "if(!r.ok){console.error('download failed: HTTP '+r.status);process.exit(22)}" +
  "await (await import('node:fs/promises')).writeFile(f,Buffer.from(await r.arrayBuffer()))"

/**
 * SIGTERM a host's app and wait until it is gone (the supervisor then starts `current`
 * again); run in the host folder. A zombie still answers `kill -0`, hence the look at its
 * state in /proc. Any recipe's restart step on the local fleet (releaseRecipe's included).
 */
export function endAppCommand(stopTimeoutMs = 15_000): string {
  return (
    sh`if [ -f ${PID_FILE} ]; then pid=$(cat ${PID_FILE}); kill -TERM "$pid" 2>/dev/null || true; i=0; ` +
    `while kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 /proc/"$pid"/stat 2>/dev/null)" != Z ]; do i=$((i+1)); ` +
    sh`if [ "$i" -gt ${Math.ceil(stopTimeoutMs / 50)} ]; then echo "app (pid $pid) still running ${Math.round(stopTimeoutMs)} ms after SIGTERM" >&2; exit 1; fi; sleep 0.05; done; fi`
  )
}

/** The local fleet's restart: clear the stop marker, end the app; the supervisor starts `current`. */
export function restartCommand(stopTimeoutMs = 15_000): string {
  return `${sh`rm -f ${STOPPED_FILE}`} && ${endAppCommand(stopTimeoutMs)}`
}

export function fleetRecipe(options: FleetRecipeOptions = {}): DeployRecipe {
  const keep = options.keep ?? 3
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000
  const download = options.download ?? 'auto'
  const downloadTimeoutMs = options.downloadTimeoutMs ?? 120_000
  if (!Number.isInteger(keep) || keep < 1) throw new ValidationError('keep', `expected an integer >= 1, got ${keep}`)
  checkMs('stopTimeoutMs', stopTimeoutMs, { min: 1 }) // the core's check: also refuses one above Node's timer ceiling
  if (!['auto', 'curl', 'node'].includes(download)) throw new ValidationError('download', `expected 'auto', 'curl' or 'node', got ${JSON.stringify(download)}`)
  checkMs('downloadTimeoutMs', downloadTimeoutMs, { min: 1 })

  const endApp = endAppCommand(stopTimeoutMs)
  const restart = restartCommand(stopTimeoutMs)

  /** Downloads `url` into `file` (a shell word: quoted, or a quoted variable). */
  const fetchTo = (url: string, file: string): string => {
    // The URL (a presigned signature) reaches curl/node on stdin, never in argv where `ps` shows it.
    const curl = `${pipeText(curlConfig(url))}${sh`curl -fsS --max-time ${Math.ceil(downloadTimeoutMs / 1000)} -K - -o`} ${file}`
    const node = `${pipeText(url)}${sh`node --input-type=module -e ${NODE_DOWNLOAD}`} ${file} ${Math.round(downloadTimeoutMs)}`
    if (download === 'curl') return curl
    if (download === 'node') return node
    return `if command -v curl >/dev/null 2>&1; then ${curl}; else ${node}; fi`
  }

  /**
   * Checks the build's sha256 on the host, on the bytes it will unpack, then unpacks it into
   * a fresh temp folder renamed to `releases/<v>`, so a release is whole or absent; entries
   * that could reach outside the release (links out, hard links, devices, setuid) are refused
   * before the rename, with the same checks as the SSH release recipe. Skipped
   * when that release is already there. A URL is first downloaded next to the temp folder.
   */
  const install = (version: string, location: ArtifactLocation): string => {
    const release = `releases/${version}`
    const file = location.kind === 'path' ? shellQuote(location.path) : '"$tmp.tgz"'
    // Never the URL in a message: it carries its signature.
    const shown = location.kind === 'path' ? location.path : `the download of ${version}`
    return (
      sh`mkdir -p releases && if [ ! -f ${release}/release.json ]; then ` +
      sh`tmp=$(mktemp -d releases/.unpack-XXXXXX) && trap 'rm -rf "$tmp" "$tmp.tgz"' EXIT && ` +
      (location.kind === 'url' ? `${fetchTo(location.url, file)} && ` : '') +
      `got=$(sha256sum < ${file} | cut -d' ' -f1) && { [ "$got" = ${shellQuote(location.sha256)} ] || ` +
      sh`{ echo "sha256 mismatch for ${shown}: expected ${location.sha256}, got $got" >&2; exit 1; }; } && ` +
      `${unpackChecked({ file, dir: '"$tmp"', label: version })} && ${sh`rm -rf ${release} && mv -T "$tmp" ${release}; fi && touch ${release}`}`
    )
  }

  /** The command, with a URL location masked wherever the command is shown (events, errors). */
  const request = (command: string, location: ArtifactLocation): string | ExecRequest =>
    location.kind === 'url' ? { command, secrets: [location.url] } : command

  return {
    // While the host is still in service: check the bytes and unpack them, so the time out
    // of service is only the switch and the restart.
    async prepare({ artifact, location, exec }) {
      await exec(request(install(artifact.version, location), location))
    },

    async deploy({ artifact, location, exec }) {
      const release = `releases/${artifact.version}`
      // One command while the host is out of service (each shell start costs ~15 ms): the
      // install again (a no-op after prepare; resume may enter at the deploy step), then the
      // switch, then the restart. `previous` remembers what to roll back to; a re-run
      // (resume) must not overwrite it.
      await exec(
        request(
          `${install(artifact.version, location)} && ` +
            sh`cur=$(readlink current || true); if [ -n "$cur" ] && [ "$cur" != ${release} ]; then ` +
            sh`ln -sfn "$cur" previous.new && mv -T previous.new previous; fi && ln -sfn ${release} current.new && mv -T current.new current && ` +
            restart,
          location,
        ),
      )
      await exec(
        sh`cur=$(readlink current); prev=$(readlink previous || true); ls -1t releases | tail -n +${keep + 1} | while read -r d; do ` +
          sh`[ "releases/$d" = "$cur" ] || [ "releases/$d" = "$prev" ] || rm -rf "releases/$d"; done`,
      )
    },

    async stop({ exec }) {
      await exec(`${sh`touch ${STOPPED_FILE}`} && ${endApp}`)
    },

    // Idempotent for resume: only switches back while `current` is still the new build.
    async rollback({ artifact, exec }: StepArgs) {
      const release = `releases/${artifact.version}`
      await exec(
        sh`if [ "$(readlink current)" = ${release} ]; then prev=$(readlink previous) && [ -f "$prev/release.json" ] || ` +
          sh`{ echo "no previous release to roll back to from ${release}" >&2; exit 1; }; ` +
          sh`ln -sfn "$prev" current.new && mv -T current.new current; fi`,
      )
      // Restarted only when the app is down or runs another release than `current`, so a
      // second run of this step does not bounce an app that is already rolled back.
      await exec(`${sh`if [ ! -f ${PID_FILE} ] || [ "$(cat ${RELEASE_FILE} 2>/dev/null)" != "$(readlink current)" ]; then`} ${restart}; fi`)
    },

    async version({ exec, target }) {
      const { stdout } = await exec('cat current/release.json')
      try {
        const release = JSON.parse(stdout) as { version?: unknown; builtAt?: unknown }
        if (typeof release.version !== 'string') throw new Error('no version field')
        return { version: release.version, ...(typeof release.builtAt === 'string' ? { builtAt: release.builtAt } : {}) }
      } catch (error) {
        throw new RollingError('ADAPTER', `[rolling:local-fleet] unreadable current/release.json on ${target.id}: ${String(error)}`, { cause: error })
      }
    },
  }
}
