#!/usr/bin/env node
// mesos-cni-plugin: dcos-l4lb
import { main } from '../lib/plugins/main.js';
await main('dcos-l4lb');
