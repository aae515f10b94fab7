/** `tenant-operator render -f FILE`: every object of SPEC §2 as multi-document YAML. */
import { stringify } from 'yaml';
import { loadTenants } from '../api/load.ts';
import { formatIssue } from '../api/validate.ts';
import { REDIS_PASSWORD_PLACEHOLDER, render } from '../render/index.ts';
import { type Output, readInput } from './io.ts';

export async function renderCommand(file: string, options: { authUrl: string }, io: Output): Promise<number> {
  const text = await readInput(file);
  const source = file === '-' ? '<stdin>' : file;
  const documents = loadTenants(text, source);
  const invalid = documents.filter((d) => !d.result.ok);
  if (documents.length === 0) {
    io.err(`${source}: no Tenant found (the input is empty)\n`);
    return 1;
  }
  if (invalid.length > 0) {
    for (const doc of invalid) {
      if (doc.result.ok) continue;
      for (const issue of doc.result.issues)
        io.err(`${source} (document ${doc.index}): ${formatIssue(issue)}\n`);
    }
    io.err('nothing rendered: fix the problems above (see `tenant-operator validate`)\n');
    return 1;
  }
  const parts: string[] = [
    `# Rendered by tenant-operator. The Redis password shows as "${REDIS_PASSWORD_PLACEHOLDER}":\n` +
      '# the operator generates it once, when it creates the Secret, and never rewrites it.\n' +
      '# ownerReferences appear once the Tenant exists in a cluster (they need its uid).\n',
  ];
  for (const doc of documents) {
    if (!doc.result.ok) continue;
    for (const object of render(doc.result.tenant, { authUrl: options.authUrl })) {
      parts.push(`---\n${stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`);
    }
  }
  io.out(parts.join(''));
  return 0;
}
