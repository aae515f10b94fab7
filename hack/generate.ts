/**
 * Regenerates the checked-in artefacts that come from code (the CRD, the API reference, the Grafana
 * dashboard). `npm run generate`. The same CRD goes to the kustomize base and to the Helm chart's
 * crds/ directory; the same dashboard to config/prometheus and the chart's dashboards/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CRD_PATH, tenantCrdYaml } from '../src/api/crd.ts';
import { API_REFERENCE_PATH, apiReferenceMarkdown } from '../src/api/reference.ts';
import { DASHBOARD_PATHS, dashboardJson } from './dashboard/dashboard.ts';

/** The Helm chart's copy of the CRD (Helm installs everything in `crds/` before the templates). */
const CHART_CRD_PATH = 'charts/tenant-operator/crds/neurallog.io_tenants.yaml';

const root = new URL('..', import.meta.url).pathname;
const yaml = tenantCrdYaml();
for (const path of [CRD_PATH, CHART_CRD_PATH]) {
  await mkdir(dirname(root + path), { recursive: true });
  await writeFile(root + path, yaml);
  console.log(`wrote ${path}`);
}
await writeFile(root + API_REFERENCE_PATH, apiReferenceMarkdown());
console.log(`wrote ${API_REFERENCE_PATH}`);
const dashboard = dashboardJson();
for (const path of DASHBOARD_PATHS) {
  await mkdir(dirname(root + path), { recursive: true });
  await writeFile(root + path, dashboard);
  console.log(`wrote ${path}`);
}
