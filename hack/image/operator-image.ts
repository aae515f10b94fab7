// The project's own Dockerfile, unchanged, built with buildah on the local base image. `--layers`
// keeps each step's result, so a rebuild after a source change reuses the `npm ci` layers.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { repoRoot } from './config.ts';
import { runLogged, say } from './run-logged.ts';

/** The host's CA bundle: Debian's CAs plus any this machine added (a TLS-inspecting proxy's). */
const hostCaBundle = '/etc/ssl/certs/ca-certificates.crt';

/**
 * Bind mounts for the RUN steps only, so that `npm ci` trusts what the host trusts: the host's CA
 * bundle and a global npmrc naming it. Nothing of it is written into a layer, and the Dockerfile
 * stays the one `docker build` uses.
 */
async function hostTrustVolumes(logFile: string): Promise<string[]> {
  if (!existsSync(hostCaBundle)) return [];
  const npmrc = join(dirname(logFile), 'build-npmrc');
  await writeFile(npmrc, 'cafile=/run/host-ca/ca-certificates.crt\n');
  return [
    '--volume',
    `${dirname(hostCaBundle)}:/run/host-ca:ro`,
    '--volume',
    `${npmrc}:/usr/local/etc/npmrc:ro`,
  ];
}

/** `[2/3] STEP 4/6: RUN npm ci ...` (multi-stage) or `STEP 4/6: ...` → a short progress text. */
export function buildahProgress(line: string): string | undefined {
  const step = /^(?:\[(\d+)\/(\d+)\] )?STEP (\d+)\/(\d+): (.*)$/.exec(line);
  if (step) {
    const [, stage, stages, n, of, what = ''] = step;
    const where = stage ? `stage ${stage}/${stages}, step ${n}/${of}` : `step ${n}/${of}`;
    return `${where}: ${what.length > 90 ? `${what.slice(0, 87)}...` : what}`;
  }
  if (/^(COMMIT|Successfully tagged) /.test(line)) return line;
  if (/^(Error|error):? /.test(line)) return line;
  return undefined;
}

export async function buildOperatorImage(baseRef: string, ref: string, logFile: string): Promise<void> {
  const trust = await hostTrustVolumes(logFile);
  let cached = 0;
  if (trust.length > 0) say('operator', `npm in the build trusts the host's CA bundle ${hostCaBundle}`);
  await runLogged(
    'buildah',
    [
      'build',
      ...trust,
      '--layers',
      '--format',
      'oci',
      // npm ci inside the build reaches the npm registry over the host's network.
      '--network',
      'host',
      '--build-arg',
      `NODE_IMAGE=${baseRef}`,
      '--tag',
      ref,
      '--file',
      'Dockerfile',
      '.',
    ],
    {
      stage: 'operator',
      logFile,
      cwd: repoRoot,
      progress: (line) => {
        if (/^--> Using cache /.test(line)) cached += 1;
        return buildahProgress(line);
      },
    },
  );
  if (cached > 0) say('operator', `${cached} steps reused cached layers`);
}
