#!/usr/bin/env node
// mesos-cni-plugin: bridge
import { bridge, hostLocal } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
// In-process: the bridge and its IPAM; any other delegate is exec'd.
await main('bridge', { bridge, 'host-local': hostLocal });
