// mesos-cni's public library API: namespaces, netlink, iptables.
export * as netns from './netns/index.js';
export * as netlink from './netlink/index.js';
export * as iptables from './iptables/index.js';
export * from './native/errors.js';
