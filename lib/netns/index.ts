// Network namespace helpers and namespaced sysctl.
export { Netns, NETNS_RUN_DIR, netnsPath, add, del, open, isNetns, current } from './netns.js';
export * as sysctl from './sysctl.js';
export { execInNetns, which, type ExecOptions, type ExecResult } from './exec.js';
