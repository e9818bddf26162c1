#!/usr/bin/env node
// mesos-cni-plugin: contrail-cni-plugin
import { contrail } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('contrail-cni-plugin', { 'contrail-cni-plugin': contrail });
