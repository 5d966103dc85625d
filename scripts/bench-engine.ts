// Engine benchmark: rolls v2 over an in-memory fleet of 1k, 10k and 100k hosts with
// zero-latency adapters (no drain, attach or install time; settle `{ delay: 0 }`), so
// what is measured is the engine's own cost plus the in-memory adapters' and a real
// file journal's. Batch = 1% of the fleet.
//
// Each run is a fresh child process (scripts/bench-engine-child.ts), so peak RSS is that
// scenario's own. Each scenario runs RUNS times; the individual runs go to stderr, the
// median line to stdout: every field is the median of that field over the runs.
//
//   pnpm bench                     all sizes, 3 runs each
//   pnpm bench --sizes=1000,10000 --runs=5
//   pnpm bench --strict            exit 1 when a performance target is missed
//
// Targets: 10k targets under 1 s CPU and under 150 MB peak RSS; 100k at most 12x the
// CPU of 10k. A run that does not end `succeeded` with every host on v2 fails the bench.
import { spawnSync } from 'node:child_process'
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

interface Line {
  targets: number
  batch: number
  wall_ms: number
  cpu_ms: number
  peak_rss_mb: number
  journal_bytes: number
}

const args = process.argv.slice(2)
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const sizes = (flag('sizes') ?? '1000,10000,100000').split(',').map(Number)
const runs = Number(flag('runs') ?? 3)
const strict = args.includes('--strict')
// The child runs as plain JavaScript, bundled from the sources the way a user's build would
// ship them: no TypeScript loader in the measured process (tsx alone adds ~50 MB of RSS).
const child = fileURLToPath(new URL('../node_modules/.cache/rolling-bench/child.mjs', import.meta.url))
await build({
  entryPoints: [fileURLToPath(new URL('./bench-engine-child.ts', import.meta.url))],
  outfile: child,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@org/source'],
  // undici is CommonJS and requires node builtins: give the ESM bundle a real require().
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
})

function runOnce(targets: number, batch: number): Line {
  const out = spawnSync(process.execPath, [child, String(targets), String(batch)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  })
  if (out.status !== 0) {
    process.stderr.write(out.stderr)
    throw new Error(`[bench] the ${targets}-target run failed (exit ${out.status ?? out.signal})`)
  }
  // Child warnings (e.g. MaxListenersExceededWarning) are findings too: pass them on once.
  const warnings = out.stderr.split('\n').filter((l) => l.includes('Warning:'))
  for (const w of new Set(warnings)) process.stderr.write(`  child: ${w}\n`)
  return JSON.parse(out.stdout.trim().split('\n').pop() as string) as Line
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

{
  // The floor under every peak_rss_mb: node and the engine's modules, nothing run.
  const out = spawnSync(process.execPath, [child, '--baseline'], { encoding: 'utf8' })
  process.stderr.write(`  harness ${out.stdout.trim()}\n`)
}

const medians = new Map<number, Line>()
let failed = false
for (const targets of sizes) {
  const batch = Math.max(1, Math.ceil(targets / 100))
  const lines: Line[] = []
  try {
    for (let i = 0; i < runs; i++) {
      const line = runOnce(targets, batch)
      process.stderr.write(`  run ${i + 1}/${runs}: ${JSON.stringify(line)}\n`)
      lines.push(line)
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    failed = true
    continue
  }
  const pick = (key: keyof Line) => median(lines.map((l) => l[key]))
  const line: Line = {
    targets,
    batch,
    wall_ms: pick('wall_ms'),
    cpu_ms: pick('cpu_ms'),
    peak_rss_mb: pick('peak_rss_mb'),
    journal_bytes: pick('journal_bytes'),
  }
  medians.set(targets, line)
  console.log(JSON.stringify(line))
}

const k10 = medians.get(10_000)
const k100 = medians.get(100_000)
const summary: Record<string, unknown> = {}
const checks: boolean[] = []
if (k10) {
  summary.cpu_10k_under_1s = k10.cpu_ms < 1000
  summary.rss_10k_under_150mb = k10.peak_rss_mb < 150
  checks.push(k10.cpu_ms < 1000, k10.peak_rss_mb < 150)
}
if (k10 && k100) {
  const ratio = Math.round((k100.cpu_ms / k10.cpu_ms) * 100) / 100
  summary.cpu_ratio_100k_10k = ratio
  summary.ratio_at_most_12x = ratio <= 12
  checks.push(ratio <= 12)
}
summary.targets_hold = checks.length > 0 && checks.every(Boolean) && !failed
console.log(JSON.stringify({ summary }))
if (failed) process.exit(1)
if (strict && !summary.targets_hold) process.exit(1)
