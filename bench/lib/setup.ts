// What a bench run sets up: kwok nodes with room for N tenants, and which build of the CLI runs.
import { join } from 'node:path';
import { repoRoot } from '../../test/cluster/config.ts';

export const PODS_PER_NODE = 110;

/** Server and Redis per tenant, plus a fifth for the changes and headroom. */
export function kwokNodesFor(tenants: number): number {
  return Math.max(3, Math.ceil((2 * tenants * 1.25) / PODS_PER_NODE));
}

/** `src` runs the sources with types stripped at load (as the tests do); `dist` the compiled build. */
export const CLI_ENTRIES: Readonly<Record<string, string>> = {
  src: join(repoRoot, 'src', 'cli', 'main.ts'),
  dist: join(repoRoot, 'dist', 'cli', 'main.js'),
};
