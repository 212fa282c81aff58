/**
 * The sha256 of the input model for the manifest, computed in a worker thread
 * while the main thread loads, folds and writes: hashing a 466 MB model is
 * about 0.5 s of CPU that the export itself does not need, so on a machine
 * with a second core it costs no wall time. The worker reads the file through
 * one 4 MiB buffer; the main thread never holds the file.
 *
 * The promise rejects with the worker's error (an unreadable file also fails
 * the load, with a proper message, before anyone awaits this).
 */
import { Worker } from 'node:worker_threads';
import { sha256FileSync } from './bundle-dir.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const h = createHash('sha256');
const buf = Buffer.allocUnsafe(1 << 22);
const fd = openSync(workerData, 'r');
try {
  for (let pos = 0; ; ) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
} finally {
  closeSync(fd);
}
parentPort.postMessage(h.digest('hex'));
`;

export function sha256FileInBackground(path: string): Promise<string> {
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { eval: true, workerData: path });
  } catch {
    return Promise.resolve().then(() => sha256FileSync(path)); // no workers here: hash on this thread
  }
  const done = new Promise<string>((resolveDigest, reject) => {
    worker.once('message', (d: string) => resolveDigest(d));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the hashing worker exited with code ${code}`));
    });
  });
  done.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
  return done;
}
