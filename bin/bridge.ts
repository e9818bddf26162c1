#!/usr/bin/env node
// mesos-cni-plugin: bridge
import { main } from '../lib/plugins/main.js';
await main('bridge');
