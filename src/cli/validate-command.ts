/** `tenant-operator validate -f FILE`: every problem with its field path; exit 1 on any. */
import { loadTenants } from '../api/load.ts';
import { formatIssue } from '../api/validate.ts';
import { type Output, readInput } from './io.ts';

export async function validateCommand(file: string, io: Output): Promise<number> {
  const text = await readInput(file);
  const source = file === '-' ? '<stdin>' : file;
  const documents = loadTenants(text, source);
  if (documents.length === 0) {
    io.err(`${source}: no Tenant found (the input is empty)\n`);
    return 1;
  }
  let problems = 0;
  for (const doc of documents) {
    const label = documents.length > 1 ? `${source} (document ${doc.index}, line ${doc.line})` : source;
    if (doc.result.ok) {
      io.out(`${label}: Tenant ${doc.result.tenant.metadata.name} is valid\n`);
      continue;
    }
    for (const issue of doc.result.issues) {
      problems++;
      io.err(`${label}: ${formatIssue(issue)}\n`);
    }
  }
  return problems === 0 ? 0 : 1;
}
