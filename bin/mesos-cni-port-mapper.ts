#!/usr/bin/env node
// mesos-cni-plugin: mesos-cni-port-mapper
import { DELEGATES } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('mesos-cni-port-mapper', DELEGATES);
