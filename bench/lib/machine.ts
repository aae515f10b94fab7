// What the figures were measured on: cores, memory, load, versions.
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { readVersions } from '../../test/cluster/config.ts';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memTotalGiB: number;
  /** Output of `free -g`, as printed. */
  freeG: string;
  node: string;
  kubernetes: string;
  etcd: string;
  kwok: string;
  /** The commit measured, with `+dirty` when the working tree had changes. */
  commit: string;
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const versions = readVersions();
  return {
    nproc: Number(run('nproc', [])) || availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotalGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    freeG: run('free', ['-g']),
    node: process.version,
    kubernetes: versions.kubernetes,
    etcd: versions.etcd,
    kwok: versions.kwok,
    commit: `${run('git', ['rev-parse', '--short', 'HEAD']) || 'unknown'}${run('git', ['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : ''}`,
  };
}

/** 1-, 5- and 15-minute load averages, as `uptime` shows them. */
export function loadAverages(): { at: string; load1: number; load5: number; load15: number } {
  const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
  return {
    at: new Date().toISOString(),
    load1: Number(load1.toFixed(2)),
    load5: Number(load5.toFixed(2)),
    load15: Number(load15.toFixed(2)),
  };
}
