#!/usr/bin/env node
// The overlay master daemon (docs/overlay-master.md).
import { overlayMasterMain } from '../lib/overlay/master/main.js';
await overlayMasterMain(process.argv.slice(2)).then((code) => (process.exitCode = code), (e: Error) => (console.error(`mesos-overlay-master: ${e.message}`), (process.exitCode = 1)));
