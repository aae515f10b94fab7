/**
 * A member's API client, built from the kubeconfig in its Secret (SPEC §10.1). The kubeconfig must
 * be self-contained (no files, no exec plugins: `kubeConfigFromText`). A problem with the Secret
 * is a `CredentialsInvalid` health, never an exception, so the member's status says what to fix.
 */
import type { KubeObject } from '../kube/objects.ts';
import { kubeConfigFromText } from '../kube/client-config.ts';
import { type KubeRest, createKubeRest } from '../kube/rest.ts';

export interface SecretRef {
  name: string;
  namespace: string;
  key: string;
}

export type MemberClient =
  | {
      ok: true;
      rest: KubeRest;
      /** Changes when the Secret does: the client is rebuilt. */ fingerprint: string;
    }
  | { ok: false; message: string };

export interface MemberClientOptions {
  member: string;
  /** Deadline of every request to the member. */
  timeoutMs: number;
  userAgent: string;
}

const where = (ref: SecretRef) => `Secret ${ref.namespace}/${ref.name}`;

/** The fingerprint a client built from `secret` would have; equal means nothing changed. */
export function secretFingerprint(ref: SecretRef, secret: KubeObject | undefined): string {
  return secret ? `${secret.metadata.uid}/${secret.metadata.resourceVersion}/${ref.key}` : 'absent';
}

export function memberClientFromSecret(
  ref: SecretRef,
  secret: KubeObject | undefined,
  options: MemberClientOptions,
): MemberClient {
  if (!secret) {
    return {
      ok: false,
      message: `${where(ref)} does not exist: create it with the member's kubeconfig under key ${ref.key} (tenant-operator cluster join does), or fix spec.kubeconfigSecretRef`,
    };
  }
  const data = ((secret as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
  const encoded = data[ref.key];
  if (encoded === undefined) {
    const keys = Object.keys(data);
    return {
      ok: false,
      message: `${where(ref)} has no key ${ref.key} (${keys.length > 0 ? `it has ${keys.join(', ')}` : 'it is empty'}): set spec.kubeconfigSecretRef.key or store the kubeconfig under ${ref.key}`,
    };
  }
  try {
    const text = Buffer.from(encoded, 'base64').toString('utf8');
    const connection = kubeConfigFromText(text, `${where(ref)} key ${ref.key}`);
    return {
      ok: true,
      rest: createKubeRest(connection, { timeoutMs: options.timeoutMs, userAgent: options.userAgent }),
      fingerprint: secretFingerprint(ref, secret),
    };
  } catch (error) {
    return {
      ok: false,
      message: `${where(ref)} key ${ref.key} is not a usable kubeconfig: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
