// Public API of @org/rolling-local-fleet: the local fleet (hosts, load balancer, artifacts,
// executor, recipe) used by the demo, the end-to-end tests and the benchmarks, plus its
// parts on their own: hosts, builds, the deploy recipe, the Node load balancer and a load generator.
// The AWS-shaped fleet is `@org/rolling-local-fleet/aws`, so this entry loads no AWS SDK.
export { startFleet, readCurrent, type Fleet, type FleetOptions } from './fleet.js'
export { startHosts, sharedFreePort, type FleetHost, type Hosts, type HostsOptions } from './hosts.js'
export { buildRelease, APP_FILE, type BuildReleaseOptions, type Release, type ReleaseOptions } from './build.js'
export { fleetRecipe, endAppCommand, restartCommand, type FleetRecipeOptions } from './recipe.js'
export { Supervisor, STOPPED_FILE, UNHEALTHY_FILE, PID_FILE, RELEASE_FILE, type AppProcess, type SupervisorOptions } from './supervisor.js'
export { startNodeLoadBalancer, type NodeLoadBalancer, type NodeLoadBalancerOptions, type BackendStats } from './node-lb.js'
export { startLoad, summarize, type Load, type LoadOptions, type LoadReport, type LoadSample } from './load.js'
export { haproxyAvailable, type HaproxyModule } from './haproxy.js'
export { startLoadProcess, type LoadProcess, type Window } from './load-process.js'
