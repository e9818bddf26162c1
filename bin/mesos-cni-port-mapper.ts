#!/usr/bin/env node
// mesos-cni-plugin: mesos-cni-port-mapper
import { BRIDGE_CHAIN, portMapper } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('mesos-cni-port-mapper', { ...BRIDGE_CHAIN, 'mesos-cni-port-mapper': portMapper });
