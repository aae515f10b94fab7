/** `tenant-operator run`: the controller process (SPEC §7). */
import { pino } from 'pino';
import { resolveAuthUrl } from '../auth/index.ts';
import { type RunningManager, startManager } from '../operator/manager.ts';
import { installSignalHandlers } from '../runtime/signals.ts';
import { parseDuration } from './duration.ts';

export interface RunFlags {
  kubeconfig?: string;
  context?: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace?: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  logLevel: string;
  concurrency: number;
  resyncPeriod: string;
  authUrl?: string;
  authTokenFile?: string;
  authDeregisterTimeout: string;
  memberProbeInterval: string;
  memberRequestTimeout: string;
  memberCleanupTimeout: string;
  operatorNamespace?: string;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

function positiveDuration(flag: string, value: string): number {
  const ms = parseDuration(flag, value);
  if (ms <= 0) throw new FlagError(`${flag}: must be longer than 0, got ${value}`);
  return ms;
}

export async function runCommand(flags: RunFlags): Promise<number> {
  if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
    throw new FlagError(`--log-level: "${flags.logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  if (!Number.isInteger(flags.concurrency) || flags.concurrency < 1) {
    throw new FlagError(`--concurrency: must be a whole number of at least 1, got ${flags.concurrency}`);
  }
  // No pid/hostname; each controller names itself (`controller: tenant`, `controller: membercluster`).
  const logger = pino({ level: flags.logLevel, base: {} });
  // Signals are handled from the first moment: a SIGTERM while the caches still sync is a clean stop.
  const running: { manager?: RunningManager; stopRequested?: boolean } = {};
  installSignalHandlers({
    shutdown: async () => {
      running.stopRequested = true;
      await running.manager?.shutdown();
    },
    logger,
  });
  const manager = await startManager({
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    leaderElect: flags.leaderElect,
    leaderElectionId: flags.leaderElectionId,
    ...(flags.leaderElectionNamespace ? { leaderElectionNamespace: flags.leaderElectionNamespace } : {}),
    metricsBindAddress: flags.metricsBindAddress,
    healthProbeBindAddress: flags.healthProbeBindAddress,
    concurrency: flags.concurrency,
    resyncPeriodMs: parseDuration('--resync-period', flags.resyncPeriod),
    authUrl: resolveAuthUrl({ flag: flags.authUrl, env: process.env }),
    ...(flags.authTokenFile ? { authTokenFile: flags.authTokenFile } : {}),
    authDeregisterTimeoutMs: parseDuration('--auth-deregister-timeout', flags.authDeregisterTimeout),
    ...(flags.operatorNamespace ? { operatorNamespace: flags.operatorNamespace } : {}),
    memberProbeIntervalMs: positiveDuration('--member-probe-interval', flags.memberProbeInterval),
    memberRequestTimeoutMs: positiveDuration('--member-request-timeout', flags.memberRequestTimeout),
    memberCleanupTimeoutMs: parseDuration('--member-cleanup-timeout', flags.memberCleanupTimeout),
    logger,
  });
  running.manager = manager;
  if (running.stopRequested) await manager.shutdown();
  const { exitCode } = await manager.done;
  // Lost leadership: leave now, with open watches and servers, so no second reconciler runs.
  if (exitCode !== 0) process.exit(exitCode);
  return exitCode;
}
