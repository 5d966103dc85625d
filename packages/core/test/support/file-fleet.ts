// A fleet whose state lives on disk, so it survives the crash of the process
// running a rollout: host folders written by real commands (local executor),
// real HTTP `_status` servers on 127.0.0.x, and a load balancer kept in a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import type { AdapterContext, LoadBalancer, Target } from '@org/rolling-core'
import { RollingError, sh, type DeployRecipe } from '@org/rolling-core'
import { throwIfAborted } from '@org/rolling-core/adapter'

export interface FleetLayout {
  root: string
  targets: Target[]
}

/** A load balancer whose in-service set is a JSON file (written atomically). */
export function fileLoadBalancer(layout: FleetLayout): LoadBalancer & { inService(id: string): boolean } {
  const file = join(layout.root, 'lb.json')
  const read = (): string[] => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : layout.targets.map((t) => t.id))
  const write = (ids: string[]) => {
    writeFileSync(`${file}.tmp`, JSON.stringify(ids))
    renameSync(`${file}.tmp`, file)
  }
  const known = (targets: readonly Target[]) => {
    for (const t of targets) if (!layout.targets.some((k) => k.id === t.id)) throw new RollingError('ADAPTER', `[rolling:file-lb] unknown target ${t.id}`)
  }
  return {
    name: 'file-lb',
    inService: (id) => read().includes(id),
    async discover(ctx: AdapterContext) {
      throwIfAborted(ctx.signal)
      const ids = new Set(read())
      return layout.targets.filter((t) => ids.has(t.id))
    },
    async detach(targets, ctx) {
      throwIfAborted(ctx.signal)
      known(targets)
      const out = new Set(targets.map((t) => t.id))
      write(read().filter((id) => !out.has(id)))
    },
    async attach(targets, ctx) {
      throwIfAborted(ctx.signal)
      known(targets)
      write([...new Set([...read(), ...targets.map((t) => t.id)])])
    },
  }
}

export function hostDir(layout: FleetLayout, id: string): string {
  return join(layout.root, 'hosts', id)
}

/** Installs the artifact into the host folder, then switches its VERSION file atomically. */
export const fileRecipe: DeployRecipe = {
  async deploy({ artifact, location, exec }) {
    if (location.kind !== 'path') throw new Error('file recipe needs a path location')
    await exec(sh`mkdir -p releases && cp ${location.path} releases/${artifact.version}.tgz`)
    await exec(sh`printf %s ${artifact.version} > VERSION.tmp && mv VERSION.tmp VERSION`)
  },
  async stop({ exec }) {
    await exec('rm -f VERSION')
  },
}

export function makeLayout(root: string, size: number, basePort: number): FleetLayout {
  const targets: Target[] = []
  for (let i = 0; i < size; i++) {
    const id = `host-${i + 1}`
    targets.push({ id, address: `127.0.0.${i + 2}`, port: basePort })
    mkdirSync(join(root, 'hosts', id), { recursive: true })
    writeFileSync(join(root, 'hosts', id, 'VERSION'), 'v1')
  }
  return { root, targets }
}

/** Starts one `_status` server per host, answering the version in its VERSION file. */
export async function startStatusServers(layout: FleetLayout): Promise<{ close(): Promise<void> }> {
  const servers: Server[] = []
  for (const target of layout.targets) {
    const server = createServer((req, res) => {
      const file = join(hostDir(layout, target.id), 'VERSION')
      if (req.url !== '/_status' || !existsSync(file)) {
        res.writeHead(503).end('{"status":"down"}')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: readFileSync(file, 'utf8') }))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(target.port, target.address, resolve)
    })
    servers.push(server)
  }
  return {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
    },
  }
}
