// Command line for the local control plane:
//   node test/cluster/cli.ts build    build the pinned binaries into the cache (once per version)
//   node test/cluster/cli.ts up       start the cluster, or reuse the one running; prints KUBECONFIG
//                                     [--nodes N] [--pods-per-node M] [--control-plane-qps Q]
//   node test/cluster/cli.ts status   processes, memory, kubeconfig; exit 1 when not healthy
//   node test/cluster/cli.ts env      shell exports: eval "$(node test/cluster/cli.ts env)"
//   node test/cluster/cli.ts down     stop every process and remove the state dir
import { type UpOptions, currentCluster, down, ensureBuilt, envLines, status, up } from './cluster.ts';

const usage =
  'usage: node test/cluster/cli.ts build|up [--nodes N] [--pods-per-node M] [--control-plane-qps Q]|down|status|env';

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** `--nodes N --pods-per-node M --control-plane-qps Q`, each a whole number ≥ 1. */
function upOptions(args: string[]): UpOptions {
  const flags: Record<string, keyof UpOptions> = {
    '--nodes': 'nodes',
    '--pods-per-node': 'podsPerNode',
    '--control-plane-qps': 'controlPlaneQps',
  };
  const options: UpOptions = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = flags[args[i] ?? ''];
    const value = Number(args[i + 1]);
    if (!key) throw new Error(`unknown option ${args[i]}; ${usage}`);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${args[i]} needs a whole number of at least 1`);
    (options as Record<string, number>)[key] = value;
  }
  return options;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  switch (command) {
    case 'build': {
      const bins = await ensureBuilt();
      process.stdout.write(`${bins.kubeApiserver}\n`);
      return 0;
    }
    case 'up': {
      const cluster = await up(upOptions(argv.slice(1)));
      process.stdout.write(`${cluster.kubeconfigPath}\n`);
      return 0;
    }
    case 'down': {
      const stopped = await down();
      process.stderr.write(stopped ? '[cluster] stopped and removed\n' : '[cluster] no cluster to stop\n');
      return 0;
    }
    case 'env': {
      const cluster = await currentCluster();
      if (!cluster) {
        process.stderr.write('[cluster] no healthy cluster running; run `up` first\n');
        return 1;
      }
      process.stdout.write(`${envLines(cluster).join('\n')}\n`);
      return 0;
    }
    case 'status': {
      const s = await status();
      if (!s.state) {
        process.stdout.write(`no cluster in ${s.stateDir}\n`);
        return 1;
      }
      const lines = [
        `state dir:   ${s.stateDir}`,
        `healthy:     ${s.healthy}`,
        `server:      ${s.state.server}`,
        `kubeconfig:  ${s.state.kubeconfigPath}`,
        `versions:    kubernetes ${s.state.versions.kubernetes}, etcd ${s.state.versions.etcd}, kwok ${s.state.versions.kwok}`,
        `started:     ${s.state.createdAt}${s.state.startupSeconds === undefined ? '' : ` (ready in ${s.state.startupSeconds} s)`}`,
        'processes:',
        ...s.processes.map(
          (p) =>
            `  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${p.running ? 'running' : 'DEAD   '} ` +
            `rss ${mib(p.rssBytes).padStart(8)}  log ${p.logFile}`,
        ),
        `total rss:   ${mib(s.totalRssBytes)}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return s.healthy ? 0 : 1;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `[cluster] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
