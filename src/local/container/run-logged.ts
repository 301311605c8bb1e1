import { spawn } from 'node:child_process';
import { LineSplitter } from '../../cgi/stderr-lines.ts';

/**
 * Runs a command to completion, handing each output line to onLine; rejects on a non-zero exit
 * with the last lines, so that a failed build or setup explains itself.
 */
export async function runLogged(command: string, args: string[], options: { cwd?: string; onLine?: (line: string) => void } = {}): Promise<void> {
  const tail: string[] = [];
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > 60) tail.shift();
    options.onLine?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    const lines = new LineSplitter(onLine);
    stream.on('data', (chunk: Buffer) => lines.push(chunk));
    stream.on('end', () => lines.flush());
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${[command, ...args].join(' ')} failed (exit ${code}); last lines:\n${tail.join('\n')}`);
}
