/** Regenerates the checked-in artefacts that come from code (the CRD). `npm run generate`. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CRD_PATH, tenantCrdYaml } from '../src/api/crd.ts';

const root = new URL('..', import.meta.url).pathname;
for (const path of [CRD_PATH]) {
  await mkdir(dirname(root + path), { recursive: true });
  await writeFile(root + path, tenantCrdYaml());
  console.log(`wrote ${path}`);
}
