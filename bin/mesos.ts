#!/usr/bin/env node
// mesos-cni-plugin: mesos
import { main } from '../lib/plugins/main.js';
await main('mesos');
