/**
 * The objects `config/member/` holds (SPEC §10.5), read from the files a user would apply with
 * `kubectl apply -k config/member`, so `cluster join` applies exactly those. They ship beside the
 * code: `config/` in the npm package, `/app/config/member` in the image.
 */
import { readFile } from 'node:fs/promises';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube/objects.ts';

export const MEMBER_DIR = new URL('../../config/member/', import.meta.url);
export const MEMBER_NAMESPACE = 'neurallog-system';
export const MEMBER_SERVICE_ACCOUNT = 'neurallog-operator-member';
export const MEMBER_TOKEN_SECRET = 'neurallog-operator-member-token';

export class MemberManifestsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MemberManifestsError';
  }
}

/** The manifests in the order the kustomization lists them, labelled as kustomize labels them. */
export async function memberManifests(dir: URL = MEMBER_DIR): Promise<KubeObject[]> {
  let kustomization: { resources?: string[]; labels?: Array<{ pairs?: Record<string, string> }> };
  try {
    kustomization = parse(await readFile(new URL('kustomization.yaml', dir), 'utf8')) as typeof kustomization;
  } catch (error) {
    throw new MemberManifestsError(
      `cannot read ${new URL('kustomization.yaml', dir).pathname}: run tenant-operator from the package or image that ships config/member`,
      { cause: error },
    );
  }
  const labels = Object.assign({}, ...(kustomization.labels ?? []).map((l) => l.pairs ?? {})) as Record<
    string,
    string
  >;
  const objects: KubeObject[] = [];
  for (const file of kustomization.resources ?? []) {
    const text = await readFile(new URL(file, dir), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      obj.metadata.labels = { ...obj.metadata.labels, ...labels };
      objects.push(obj);
    }
  }
  return objects;
}
