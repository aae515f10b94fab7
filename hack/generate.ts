/**
 * Regenerates the checked-in artefacts that come from code (the CRDs, the API reference, the Grafana
 * dashboard). `npm run generate`. Each CRD goes to the kustomize base and to the Helm chart's
 * crds/ directory; the same dashboard to config/prometheus and the chart's dashboards/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CRD_PATH, MEMBER_CLUSTER_CRD_PATH, memberClusterCrdYaml, tenantCrdYaml } from '../src/api/crd.ts';
import { API_REFERENCE_PATH, apiReferenceMarkdown } from '../src/api/reference.ts';
import { DASHBOARD_PATHS, dashboardJson } from './dashboard/dashboard.ts';

/** The Helm chart's copy of each CRD (Helm installs everything in `crds/` before the templates). */
const chartCopy = (path: string) => path.replace('config/crd/bases/', 'charts/tenant-operator/crds/');

const root = new URL('..', import.meta.url).pathname;
for (const [path, yaml] of [
  [CRD_PATH, tenantCrdYaml()],
  [MEMBER_CLUSTER_CRD_PATH, memberClusterCrdYaml()],
] as const) {
  for (const target of [path, chartCopy(path)]) {
    await mkdir(dirname(root + target), { recursive: true });
    await writeFile(root + target, yaml);
    console.log(`wrote ${target}`);
  }
}
await writeFile(root + API_REFERENCE_PATH, apiReferenceMarkdown());
console.log(`wrote ${API_REFERENCE_PATH}`);
const dashboard = dashboardJson();
for (const path of DASHBOARD_PATHS) {
  await mkdir(dirname(root + path), { recursive: true });
  await writeFile(root + path, dashboard);
  console.log(`wrote ${path}`);
}
