#!/usr/bin/env node
// mesos-cni-plugin: macvtap
import { hostLocal, macvtap } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
// In-process: macvtap and its IPAM; any other delegate is exec'd.
await main('macvtap', { macvtap, 'host-local': hostLocal });
