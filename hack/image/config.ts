// Names and places of the image build: the pinned inputs (hack/image/versions.env and the `node`
// devDependency of package-lock.json), the image references, and where build logs go.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));
export const imageDir: string = join(repoRoot, 'hack', 'image');
export const imageVersionsFile: string = join(imageDir, 'versions.env');

type Env = Record<string, string | undefined>;

export interface ImageInputs {
  debianSuite: string;
  npmVersion: string;
  /** Node.js version of the `node` devDependency. */
  nodeVersion: string;
  /** Its lockfile integrity, which names the exact binary package. */
  nodeIntegrity: string;
  /** The project's version (package.json), the operator image's tag. */
  projectVersion: string;
}

interface LockEntry {
  version?: string;
  integrity?: string;
}

/** Reads versions.env and the lockfile; a variable set in the environment wins. */
export function readImageInputs(env: Env = process.env): ImageInputs {
  const values = new Map<string, string>();
  for (const raw of readFileSync(imageVersionsFile, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], match[2].trim());
  }
  const pick = (key: string): string => {
    const value = env[key] || values.get(key);
    if (!value) throw new Error(`${key} is not set in ${imageVersionsFile}`);
    return value;
  };
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const nodePackage = lock.packages['node_modules/node'];
  if (!nodePackage?.version || !nodePackage.integrity) {
    throw new Error('package-lock.json pins no `node` devDependency; the base image takes Node.js from it');
  }
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return {
    debianSuite: pick('DEBIAN_SUITE'),
    npmVersion: pick('NPM_VERSION'),
    nodeVersion: nodePackage.version,
    nodeIntegrity: nodePackage.integrity,
    projectVersion: pkg.version,
  };
}

/** The operator image `npm run image` builds (and the image test runs). */
export function operatorImageRef(inputs: ImageInputs = readImageInputs()): string {
  return `localhost/neurallog/tenant-operator:${inputs.projectVersion}`;
}

/** Where the build logs of one run go (`$NEURALLOG_CACHE_DIR`-style, outside the repository). */
export function imageLogDir(env: Env = process.env): string {
  const base =
    env['NEURALLOG_CACHE_DIR'] ||
    join(env['XDG_CACHE_HOME'] || join(env['HOME'] ?? '/tmp', '.cache'), 'neurallog-operator');
  return join(base, 'image-logs');
}
