// The CNI protocol: environment, configs, results and their conversion, errors, the plugin main
// loop and delegation.
export * from './version.js';
export * from './errors.js';
export * from './env.js';
export * from './config.js';
export * from './result.js';
export * from './plugin.js';
export * from './log.js';
export { handle, runPlugin, type Outcome, type HandleOptions } from './skel.js';
export { createDelegator, findInPath, execPlugin, interpret, PLUGIN_MARKER, type Delegator, type DelegateOptions } from './invoke.js';
