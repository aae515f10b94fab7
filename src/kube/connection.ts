/**
 * Everything needed to talk to one API server: its URL, the TLS material and the credentials.
 * Built from one context of a kubeconfig document (or from the in-cluster service account);
 * consumed by the HTTP edge in rest.ts.
 */
import fs from 'node:fs';
import { type Credentials, basicAuth, noCredentials, staticToken, tokenFile } from './credentials.ts';
import { execCredentials } from './exec-credentials.ts';
import type { KubeconfigCluster, KubeconfigDocument, KubeconfigUser } from './kubeconfig-document.ts';
import { KubeconfigInvalidError, KubeconfigRefusedError } from './kubeconfig-errors.ts';

export interface KubeTls {
  /** PEM of the CA(s) to trust; the system roots when absent. */
  ca?: string;
  cert?: string;
  key?: string;
  /** `insecure-skip-tls-verify`: no check of the server's certificate. */
  insecureSkipTlsVerify: boolean;
  serverName?: string;
}

export interface KubeConnection {
  server: string;
  tls: KubeTls;
  credentials: Credentials;
  /** The context's namespace, if any. */
  namespace: string | undefined;
  /** The context it came from, for logs. */
  context: string;
}

export interface ConnectionOptions {
  /** Use this context instead of `current-context` (`--context`). */
  context?: string;
  /**
   * A kubeconfig from a Secret: no file paths and no exec plugins (see docs/design.md,
   * "Kubeconfigs from Secrets").
   */
  untrusted?: boolean;
}

/** A connection without a kubeconfig, e.g. for tests against a plain HTTP stand-in. */
export function simpleConnection(server: string, credentials: Credentials = noCredentials): KubeConnection {
  return {
    server,
    tls: { insecureSkipTlsVerify: false },
    credentials,
    namespace: undefined,
    context: 'direct',
  };
}

export function connectionFromDocument(
  doc: KubeconfigDocument,
  options: ConnectionOptions = {},
): KubeConnection {
  const { origin } = doc;
  const contextName = options.context || doc.currentContext;
  if (!contextName) {
    throw new KubeconfigInvalidError(
      origin,
      'it sets no current-context; run `kubectl config use-context <name>`, add `current-context:` or pass --context',
      { field: 'current-context' },
    );
  }
  const contextIndex = doc.contexts.findIndex((c) => c.name === contextName);
  const context = doc.contexts[contextIndex]?.value;
  if (!context) {
    const known = doc.contexts.map((c) => c.name).join(', ') || 'none';
    throw new KubeconfigInvalidError(
      origin,
      `${options.context ? `the context "${contextName}" (--context)` : `its current-context "${contextName}"`} ` +
        `is not defined under contexts: (defined: ${known})`,
      { field: options.context ? 'contexts' : 'current-context' },
    );
  }
  const clusterIndex = doc.clusters.findIndex((c) => c.name === context.cluster);
  const cluster = doc.clusters[clusterIndex]?.value;
  if (!cluster) {
    throw new KubeconfigInvalidError(
      origin,
      `context "${contextName}" names cluster "${context.cluster}", which is not defined under clusters:`,
      { field: `contexts[${contextIndex}].context.cluster` },
    );
  }
  const userIndex = doc.users.findIndex((u) => u.name === context.user);
  const user = doc.users[userIndex]?.value;
  if (!user) {
    throw new KubeconfigInvalidError(
      origin,
      `context "${contextName}" names user "${context.user}", which is not defined under users:`,
      { field: `contexts[${contextIndex}].context.user` },
    );
  }
  const clusterField = `clusters[${clusterIndex}].cluster`;
  const userField = `users[${userIndex}].user`;
  if (options.untrusted) refuseUntrusted(origin, cluster, user, clusterField, userField);
  const server = checkServer(origin, cluster.server, `${clusterField}.server`);
  if (cluster.proxyUrl) {
    throw new KubeconfigInvalidError(
      origin,
      `${clusterField}.proxy-url is not supported; reach the API server directly`,
      { field: `${clusterField}.proxy-url` },
    );
  }
  const read = (file: string, field: string) => readPem(origin, file, field);
  const data = (value: string, field: string) => decodeData(origin, value, field);
  const tls: KubeTls = { insecureSkipTlsVerify: cluster.insecureSkipTlsVerify ?? false };
  if (cluster.certificateAuthorityData) {
    tls.ca = data(cluster.certificateAuthorityData, `${clusterField}.certificate-authority-data`);
  } else if (cluster.certificateAuthority) {
    tls.ca = read(cluster.certificateAuthority, `${clusterField}.certificate-authority`);
  }
  if (cluster.tlsServerName) tls.serverName = cluster.tlsServerName;
  if (user.clientCertificateData) {
    tls.cert = data(user.clientCertificateData, `${userField}.client-certificate-data`);
  } else if (user.clientCertificate) {
    tls.cert = read(user.clientCertificate, `${userField}.client-certificate`);
  }
  if (user.clientKeyData) tls.key = data(user.clientKeyData, `${userField}.client-key-data`);
  else if (user.clientKey) tls.key = read(user.clientKey, `${userField}.client-key`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'client-certificate(-data)' : 'client-key(-data)';
    throw new KubeconfigInvalidError(
      origin,
      `${userField} has a client certificate or key without its ${missing}`,
      {
        field: `${userField}.${missing.replace('(-data)', '')}`,
      },
    );
  }
  const credentials = credentialsFor(origin, user, userField, server, cluster);
  return { server, tls, credentials, namespace: context.namespace, context: contextName };
}

function credentialsFor(
  origin: string,
  user: KubeconfigUser,
  userField: string,
  server: string,
  cluster: KubeconfigCluster,
): Credentials {
  if (user.authProvider) {
    throw new KubeconfigInvalidError(
      origin,
      `${userField}.auth-provider (${user.authProvider}) is not supported; use an exec credential plugin (users[].user.exec)`,
      { field: `${userField}.auth-provider` },
    );
  }
  if (user.token) return staticToken(user.token);
  if (user.tokenFile) return tokenFile(user.tokenFile, { origin, field: `${userField}.tokenFile` });
  if (user.exec) {
    return execCredentials(user.exec, {
      cluster: {
        server,
        ...(cluster.certificateAuthorityData
          ? { 'certificate-authority-data': cluster.certificateAuthorityData }
          : {}),
        ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
      },
    });
  }
  if (user.username !== undefined || user.password !== undefined) {
    if (!user.username || user.password === undefined) {
      throw new KubeconfigInvalidError(origin, `${userField} needs both username and password`, {
        field: `${userField}.${user.username ? 'password' : 'username'}`,
      });
    }
    return basicAuth(user.username, user.password);
  }
  return noCredentials;
}

function refuseUntrusted(
  origin: string,
  cluster: KubeconfigCluster,
  user: KubeconfigUser,
  clusterField: string,
  userField: string,
): void {
  const files = 'a kubeconfig from a Secret must carry its material inline (the *-data fields, token)';
  if (cluster.certificateAuthority)
    throw new KubeconfigRefusedError(origin, `${clusterField}.certificate-authority`, files);
  if (user.clientCertificate)
    throw new KubeconfigRefusedError(origin, `${userField}.client-certificate`, files);
  if (user.clientKey) throw new KubeconfigRefusedError(origin, `${userField}.client-key`, files);
  if (user.tokenFile) throw new KubeconfigRefusedError(origin, `${userField}.tokenFile`, files);
  if (user.exec) {
    throw new KubeconfigRefusedError(
      origin,
      `${userField}.exec`,
      'the operator never runs a program named by a Secret; put a token or client certificate in it instead',
    );
  }
}

function checkServer(origin: string, server: string, field: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    throw new KubeconfigInvalidError(origin, `${field} "${server}" is not a URL`, { cause: err, field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigInvalidError(origin, `${field} "${server}" must be an https:// (or http://) URL`, {
      field,
    });
  }
  return server.replace(/\/+$/, '');
}

function readPem(origin: string, file: string, field: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeconfigInvalidError(origin, `${field}: ${file} cannot be read`, { cause: err, field });
  }
}

function decodeData(origin: string, value: string, field: string): string {
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new KubeconfigInvalidError(origin, `${field} is not base64`, { field });
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}
