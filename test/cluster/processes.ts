// Long-running component processes: started detached in their own process
// group (so the CLI can exit and leave them running), logging to files, and
// stopped by signalling the whole group.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { waitFor } from './wait.ts';

export interface ProcessRecord {
  name: string;
  pid: number;
  /** Process group id: equal to pid, as each process leads its own group. */
  pgid: number;
  command: string;
  args: string[];
  logFile: string;
  startedAt: string;
}

export function startDetached(options: {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}): ProcessRecord {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      detached: true, // setsid(): own session and process group, no controlling terminal
      stdio: ['ignore', fd, fd],
      cwd: options.cwd,
      env: options.env ?? process.env,
    });
    // A failed exec is reported asynchronously; the health checks notice it.
    child.on('error', () => {});
    if (child.pid === undefined) {
      throw new Error(`could not start ${options.name}: ${options.command}`);
    }
    child.unref();
    return {
      name: options.name,
      pid: child.pid,
      pgid: child.pid,
      command: options.command,
      args: options.args,
      logFile: options.logFile,
      startedAt: new Date().toISOString(),
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the recorded process is still running and is still the program we
 * started (a recycled pid running something else does not count).
 */
export function isRunning(record: Pick<ProcessRecord, 'pid' | 'command'>): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const argv0 = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === record.command;
  } catch {
    return false;
  }
}

/**
 * Whether any member of the process group is still running. Zombies do not
 * count: the processes are re-parented to pid 1 once the CLI exits, and an
 * init that reaps lazily would otherwise make every stop wait for it.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  return groupMembers(pgid).some((member) => member.state !== 'Z' && member.state !== 'X');
}

interface ProcStat {
  pid: number;
  state: string;
}

function groupMembers(pgid: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const pid of readdirNumeric('/proc')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After "pid (comm) ": state, ppid, pgrp, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push({ pid: Number(pid), state: fields[0] ?? '' });
    } catch {
      // went away while listing
    }
  }
  return members;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * SIGTERM the process group, then SIGKILL whatever is left after `graceMs`; with `kill`, SIGKILL
 * at once (a crash: no chance to flush or shut down).
 */
export async function stopGroup(record: ProcessRecord, graceMs = 10_000, kill = false): Promise<void> {
  if (!groupAlive(record.pgid)) return;
  // Only signal a group whose leader is still ours, or whose leader is gone
  // (then the group id cannot have been reused by an unrelated leader).
  if (!isRunning(record) && leaderExists(record.pid)) return;
  if (kill) {
    signalGroup(record.pgid, 'SIGKILL');
    await waitFor(() => !groupAlive(record.pgid), {
      timeoutMs: 5_000,
      intervalMs: 50,
      description: `${record.name} (pgid ${record.pgid}) to exit after SIGKILL`,
    });
    return;
  }
  signalGroup(record.pgid, 'SIGTERM');
  try {
    await waitFor(() => !groupAlive(record.pgid), {
      timeoutMs: graceMs,
      intervalMs: 100,
      description: `${record.name} (pgid ${record.pgid}) to exit after SIGTERM`,
    });
  } catch {
    signalGroup(record.pgid, 'SIGKILL');
    await waitFor(() => !groupAlive(record.pgid), {
      timeoutMs: 5_000,
      intervalMs: 100,
      description: `${record.name} (pgid ${record.pgid}) to exit after SIGKILL`,
    });
  }
}

function leaderExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The last `maxBytes` of a log file, for error messages. */
export async function tailLog(file: string, maxBytes = 4000): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/** Resident set size of a process group (all its members), in bytes (Linux). */
export function groupRssBytes(pgid: number): number {
  if (process.platform !== 'linux') return 0;
  let total = 0;
  for (const member of groupMembers(pgid)) {
    try {
      const status = readFileSync(`/proc/${member.pid}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (match?.[1] !== undefined) total += Number(match[1]) * 1024;
    } catch {
      // process went away
    }
  }
  return total;
}

function readdirNumeric(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^\d+$/.test(name));
}
