/**
 * `npm run image`: the local Node.js base image (built once, then cached), then the operator
 * image from the project's Dockerfile with buildah; prints the image's size and digest.
 * Full command output goes to a log file; the terminal shows only which stage and step runs.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBaseImage } from './base-image.ts';
import { imageLogDir, operatorImageRef, readImageInputs } from './config.ts';
import { imageSummary, megabytes } from './image-store.ts';
import { buildOperatorImage } from './operator-image.ts';
import { say } from './run-logged.ts';
import { ensureTools } from './tools.ts';

export interface BuiltImage {
  ref: string;
  baseRef: string;
  baseCached: boolean;
  digest: string;
  sizeBytes: number;
  seconds: number;
  logFile: string;
}

export async function buildImage(): Promise<BuiltImage> {
  const started = Date.now();
  const inputs = readImageInputs();
  const logDir = imageLogDir();
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, `image-${new Date().toISOString().replaceAll(':', '')}.log`);
  say('image', `full output in ${logFile}`);
  await ensureTools(['buildah', 'podman', 'runc', 'mmdebstrap'], logFile);
  const base = await ensureBaseImage(inputs, logFile);
  const ref = operatorImageRef(inputs);
  say('operator', `building ${ref} from Dockerfile on ${base.ref}`);
  await buildOperatorImage(base.ref, ref, logFile);
  const summary = await imageSummary(ref);
  return {
    ref,
    baseRef: base.ref,
    baseCached: base.cached,
    digest: summary.digest,
    sizeBytes: summary.sizeBytes,
    seconds: Math.round((Date.now() - started) / 1000),
    logFile,
  };
}

if (import.meta.main) {
  try {
    const built = await buildImage();
    process.stdout.write(
      [
        '',
        `image:  ${built.ref}`,
        `digest: ${built.digest}`,
        `size:   ${megabytes(built.sizeBytes)}`,
        `base:   ${built.baseRef}${built.baseCached ? ' (cached)' : ''}`,
        `took:   ${built.seconds}s`,
        `run it: podman --runtime runc --cgroup-manager cgroupfs run --rm --network=host --read-only \\`,
        `          --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 ${built.ref} --help`,
        '',
      ].join('\n'),
    );
  } catch (error) {
    process.stderr.write(`npm run image failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
