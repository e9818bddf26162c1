#!/usr/bin/env node
// mesos-cni-plugin: contrail-cni-plugin
import { main } from '../lib/plugins/main.js';
await main('contrail-cni-plugin');
