#!/usr/bin/env node
// mesos-cni-plugin: host-local
import { hostLocal } from '../lib/plugins/loaders.js';
import { main } from '../lib/plugins/main.js';
await main('host-local', { 'host-local': hostLocal });
