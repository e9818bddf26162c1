#!/usr/bin/env node
// mesos-cni-plugin: bridge
import { BRIDGE_CHAIN } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
// In-process: the bridge and its IPAM; any other delegate is exec'd.
await main('bridge', BRIDGE_CHAIN);
