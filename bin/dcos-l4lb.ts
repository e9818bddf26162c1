#!/usr/bin/env node
// mesos-cni-plugin: dcos-l4lb
import { BRIDGE_CHAIN, dcosL4lb, portMapper } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('dcos-l4lb', { ...BRIDGE_CHAIN, 'mesos-cni-port-mapper': portMapper, 'dcos-l4lb': dcosL4lb });
