// Starts a ChildWorker, prints its pid, then waits forever (the test kills us with SIGKILL).
import { ChildWorker } from '../../../src/parity/child.js';

const w = await ChildWorker.start('export const handlers = { async pid() { return process.pid; } };', { name: 'orphan-test' });
process.stdout.write(`${await w.call<number>('pid')}\n`);
setInterval(() => {}, 1000);
