#!/usr/bin/env node
// mesos-cni-plugin: dcos-l4lb
import { dcosL4lb, DELEGATES } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('dcos-l4lb', { ...DELEGATES, 'dcos-l4lb': dcosL4lb });
