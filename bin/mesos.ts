#!/usr/bin/env node
// mesos-cni-plugin: mesos
import { mesos, MESOS_DELEGATES } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('mesos', { ...MESOS_DELEGATES, mesos });
