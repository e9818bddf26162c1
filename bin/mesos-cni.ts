#!/usr/bin/env node
// The mesos-cni tool: install, exec, demo.
import { main } from '../lib/cli/main.js';
process.exitCode = await main(process.argv.slice(2)).catch((e: Error) => (console.error(`mesos-cni: ${e.message}`), 1));
