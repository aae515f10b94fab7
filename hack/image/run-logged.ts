// Runs one build command with its full output in a log file and only its progress lines on the
// terminal: which stage, which step of how many, and the time since the build began.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** A build command failed; the message names its log file and ends with its last lines. */
export class BuildStepError extends Error {
  override readonly name = 'BuildStepError';
  readonly logFile: string;

  constructor(message: string, logFile: string, options?: ErrorOptions) {
    super(message, options);
    this.logFile = logFile;
  }
}

export interface RunLoggedOptions {
  /** Shown before every progress line, e.g. `base` or `operator`. */
  stage: string;
  logFile: string;
  /** The progress text of an output line, or undefined for a line that only goes to the log. */
  progress: (line: string) => string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const startedAt = Date.now();

export function say(stage: string, text: string): void {
  const clock = new Date().toISOString().slice(11, 19);
  const elapsed = Math.round((Date.now() - startedAt) / 1000);
  process.stdout.write(`[image ${clock} +${elapsed}s] ${stage}: ${text}\n`);
}

export async function runLogged(command: string, args: string[], options: RunLoggedOptions): Promise<void> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const onLine = (line: string): void => {
    log.write(`${line}\n`);
    const shown = options.progress(line);
    if (shown !== undefined) say(options.stage, shown);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const result = await new Promise<{ code: number | null; signal: string | null; error?: Error }>(
    (resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    },
  );
  await new Promise<void>((resolve) => log.end(resolve));
  if (result.code === 0) return;
  const tail = (await readFile(options.logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-30);
  const how = result.error
    ? `could not be started (${result.error.message}; is it installed?)`
    : `failed (${result.code === null ? `signal ${result.signal}` : `exit ${result.code}`})`;
  throw new BuildStepError(
    `${options.stage}: ${command} ${how}. Full output: ${options.logFile}\n${tail.join('\n')}`,
    options.logFile,
    result.error ? { cause: result.error } : undefined,
  );
}

/** Output of a short query command (no progress, no log), e.g. `buildah images`. */
export async function capture(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', () => resolve({ code: 127, stdout: '' }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}
