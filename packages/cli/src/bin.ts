#!/usr/bin/env node
// The `rolling` executable: runs `main` on the process's arguments and streams, and exits
// with the code it returns (see `rolling --help` for their meaning).
import { main } from './main.js'
import { processIo } from './io.js'
import { shortenAwsNodeWarning } from './warnings.js'

// A closed terminal sends SIGHUP, whose default ends the process, hosts out of service and
// all. A rollout outlives its terminal instead (as under nohup): what it would print there
// is dropped (io.ts), its journal records the end; Ctrl-C and SIGTERM still abort it.
process.on('SIGHUP', () => {})
const io = processIo()
shortenAwsNodeWarning(io.stderr)
const code = await main(process.argv.slice(2), io)
process.exitCode = code
// The process ends by itself once idle. An adapter that leaves a socket or a timer open
// would keep it running after the rollout ended: give it a moment, then exit anyway.
setTimeout(() => process.exit(code), 2000).unref()
