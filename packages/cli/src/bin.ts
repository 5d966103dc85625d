#!/usr/bin/env node
// The `rolling` executable: runs `main` on the process's arguments and streams, and exits
// with the code it returns (see `rolling --help` for their meaning).
import { main } from './main.js'
import { processIo } from './io.js'

const code = await main(process.argv.slice(2), processIo())
process.exitCode = code
// The process ends by itself once idle. An adapter that leaves a socket or a timer open
// would keep it running after the rollout ended: give it a moment, then exit anyway.
setTimeout(() => process.exit(code), 2000).unref()
