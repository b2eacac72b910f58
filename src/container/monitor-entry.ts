/** The entry point of dist/monitor.cjs: a container's monitor process (see monitor-main.ts). */
import { monitorProcess, parseMonitorArgs } from './monitor-main.js';

void monitorProcess(parseMonitorArgs(process.argv.slice(2)));
