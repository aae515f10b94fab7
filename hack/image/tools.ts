// The container tools the image build needs, from Debian's packages: installed with apt-get when
// missing (as root, the way a fresh Debian machine gets them), or a clear error when that is not possible.
import { capture, runLogged, say } from './run-logged.ts';

/** Command name → Debian package. runc: crun fails on cgroup set-ups like this machine's. */
export const CONTAINER_TOOLS: Readonly<Record<string, string>> = {
  buildah: 'buildah',
  podman: 'podman',
  runc: 'runc',
  mmdebstrap: 'mmdebstrap',
};

export class ToolsUnavailableError extends Error {
  override readonly name = 'ToolsUnavailableError';
}

export async function missingTools(commands: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const command of commands) {
    const { code } = await capture('sh', ['-c', `command -v ${command}`]);
    if (code !== 0) missing.push(command);
  }
  return missing;
}

/** Installs the Debian packages of missing `commands`; throws ToolsUnavailableError if it cannot. */
export async function ensureTools(commands: readonly string[], logFile: string): Promise<void> {
  const missing = await missingTools(commands);
  if (missing.length === 0) return;
  const packages = missing.map((c) => CONTAINER_TOOLS[c] ?? c);
  const canApt = (await missingTools(['apt-get'])).length === 0 && process.getuid?.() === 0;
  if (!canApt) {
    throw new ToolsUnavailableError(
      `missing ${missing.join(', ')}: install the Debian packages ${packages.join(' ')} ` +
        '(apt-get install needs root and apt-get)',
    );
  }
  say('tools', `installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const progress = (line: string) => (/^(Get|Setting up|E:)/.test(line) ? line.slice(0, 100) : undefined);
  await runLogged('apt-get', ['update'], { stage: 'tools', logFile, env, progress: () => undefined });
  await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
    stage: 'tools',
    logFile,
    env,
    progress,
  });
}
