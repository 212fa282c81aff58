/**
 * The sha256 of the input model for the manifest, computed in a worker thread
 * while the main thread loads, folds and writes: hashing a 466 MB model is
 * about 0.5 s of CPU that the export itself does not need, so on a machine
 * with a second core it costs no wall time. The worker reads the file through
 * one 4 MiB buffer (sha256FileSync of src/data/sha256.ts, imported by the
 * worker); the main thread never holds the file.
 *
 * When the worker cannot hash (no worker threads, or run from the TypeScript
 * sources, where the .js it imports does not exist), this thread hashes; an
 * unreadable file rejects (it also fails the load, with a proper message,
 * before anyone awaits this).
 */
import { Worker } from 'node:worker_threads';
import { sha256FileSync } from './bundle-dir.js';

/** The hashing module (the one owner of a file's sha256: src/data/sha256.ts), as the worker imports it. */
const SHA256_MODULE = new URL('../data/sha256.js', import.meta.url).href;

// The worker only imports the owner and calls it; dynamic imports only, so the
// code runs whether Node evaluates it as CommonJS or as a module.
const WORKER = `
import('node:worker_threads').then(async ({ parentPort, workerData }) => {
  const m = await import(workerData.module);
  parentPort.postMessage(m.sha256FileSync(workerData.path, { fromDisk: true }));
});
`;

export function sha256FileInBackground(path: string): Promise<string> {
  const here = () => sha256FileSync(path);
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { eval: true, workerData: { module: SHA256_MODULE, path } });
  } catch {
    return Promise.resolve().then(here); // no workers here: hash on this thread
  }
  const done = new Promise<string>((resolveDigest, reject) => {
    worker.once('message', (d: string) => resolveDigest(d));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the hashing worker exited with code ${code}`));
    });
  }).catch(here); // the worker could not hash (e.g. run from the TypeScript sources, where no .js exists): this thread does; an unreadable file throws here too
  done.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
  return done;
}
