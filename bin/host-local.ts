#!/usr/bin/env node
// mesos-cni-plugin: host-local
import { main } from '../lib/plugins/main.js';
await main('host-local');
