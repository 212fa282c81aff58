/**
 * Running the CLI in-process (src/cli/main.ts, no build needed) and capturing
 * what it prints, for the security and fuzz tests.
 */
import { main } from '../../src/cli/main.js';

export interface MainResult {
  readonly code: number;
  readonly stderr: string;
  readonly stdout: string;
}

export async function runMain(...args: string[]): Promise<MainResult> {
  let stderr = '';
  let stdout = '';
  const errWrite = process.stderr.write.bind(process.stderr);
  const outWrite = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  try {
    const code = await main([...args, '--quiet']);
    return { code, stderr, stdout };
  } finally {
    process.stderr.write = errWrite;
    process.stdout.write = outWrite;
  }
}
