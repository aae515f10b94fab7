// The Redis files the product renders for a tenant, laid out in a temp dir so a real redis-server
// can run them: only the port, the bind address and the two paths are changed, each a whole line
// that must appear exactly once; every other byte is the rendered file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RenderedObject } from '../../src/render/meta.ts';
import { REDIS_AUTH_PATH, REDIS_CONFIG_FILE, REDIS_DATA_DIR } from '../../src/render/redis-conf.ts';
import { REDIS_PORT } from '../../src/render/meta.ts';

export interface RenderedRedis {
  redisConf: string;
  authConf: string;
  password: string;
  /** The container's start script (pod 0 runs the config alone, the others add --replicaof). */
  startScript: string;
}

function only(objects: RenderedObject[], kind: string, suffix: string): RenderedObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one ${kind} *${suffix}, found ${found.length}`);
  return found[0]!;
}

export function renderedRedis(objects: RenderedObject[]): RenderedRedis {
  const configMap = only(objects, 'ConfigMap', '-redis-config') as RenderedObject & {
    data: Record<string, string>;
  };
  const secret = only(objects, 'Secret', '-redis-auth') as RenderedObject & {
    stringData: Record<string, string>;
  };
  const statefulSet = only(objects, 'StatefulSet', '-redis') as RenderedObject & {
    spec: { template: { spec: { containers: Array<{ command: string[] }> } } };
  };
  const command = statefulSet.spec.template.spec.containers[0]!.command;
  return {
    redisConf: configMap.data[REDIS_CONFIG_FILE]!,
    authConf: secret.stringData['auth.conf']!,
    password: secret.stringData.password!,
    startScript: command[command.length - 1]!,
  };
}

function replaceLine(text: string, from: string, to: string): string {
  const lines = text.split('\n');
  const hits = lines.filter((l) => l === from).length;
  if (hits !== 1) throw new Error(`expected the line "${from}" once in redis.conf, found it ${hits} times`);
  return lines.map((l) => (l === from ? to : l)).join('\n');
}

export interface LocalRedisFiles {
  configPath: string;
  dataDir: string;
}

/** Writes redis.conf and auth.conf under `dir` for a server on 127.0.0.1:`port`. */
export async function writeLocalRedisFiles(
  rendered: RenderedRedis,
  dir: string,
  port: number,
): Promise<LocalRedisFiles> {
  const dataDir = join(dir, 'data');
  const authPath = join(dir, 'auth', 'auth.conf');
  await mkdir(dataDir, { recursive: true });
  await mkdir(join(dir, 'auth'), { recursive: true });
  await writeFile(authPath, rendered.authConf, { mode: 0o440 });
  let conf = rendered.redisConf;
  conf = replaceLine(conf, `port ${REDIS_PORT}`, `port ${port}`);
  conf = replaceLine(conf, 'bind 0.0.0.0', 'bind 127.0.0.1');
  conf = replaceLine(conf, `dir ${REDIS_DATA_DIR}`, `dir ${dataDir}`);
  conf = replaceLine(conf, `include ${REDIS_AUTH_PATH}`, `include ${authPath}`);
  const configPath = join(dir, REDIS_CONFIG_FILE);
  await writeFile(configPath, conf);
  return { configPath, dataDir };
}

/**
 * The arguments a replica pod passes after its config file, from the start script, pointed at
 * the local primary: `--replicaof <pod 0's DNS name> 6379` becomes `--replicaof 127.0.0.1 <port>`.
 */
export function replicaArguments(
  rendered: RenderedRedis,
  primaryHost: string,
  primaryPort: number,
): string[] {
  const lines = rendered.startScript.split('\n').filter((l) => l.startsWith('exec redis-server '));
  const replicaLine = lines.find((l) => l.includes('--replicaof'));
  if (!replicaLine) throw new Error(`no replica start line in:\n${rendered.startScript}`);
  const words = replicaLine.split(' ').slice(3);
  if (
    words.length !== 3 ||
    words[0] !== '--replicaof' ||
    words[1] !== primaryHost ||
    words[2] !== String(REDIS_PORT)
  ) {
    throw new Error(`unexpected replica arguments: ${words.join(' ')}`);
  }
  return ['--replicaof', '127.0.0.1', String(primaryPort)];
}
