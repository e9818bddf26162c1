#!/usr/bin/env node
// mesos-cni-plugin: macvtap
import { main } from '../lib/plugins/main.js';
await main('macvtap');
