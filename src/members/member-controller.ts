/**
 * Keeps each MemberCluster's `Ready` condition true to the cluster (SPEC §10.1): one client per
 * member, built from its kubeconfig Secret and rebuilt when the Secret changes (a rotated token is
 * used without a restart), probed every `probeIntervalMs` with a deadline of its own, so a member
 * that does not answer holds up neither the others nor the tenant workers. The permission check
 * (one SelfSubjectAccessReview per permission) runs on a new client and while a member is not
 * Ready, not on every probe; a status is written only when it changes.
 *
 * Without the MemberCluster CRD (an operator upgraded before its CRDs) the member cache keeps
 * retrying in the background and the operator serves its own cluster as before.
 */
import type { Logger } from 'pino';
import { type MemberCluster, kubeconfigSecretOf } from '../api/member-cluster.ts';
import type { KubeObject, MemberStatusWriter } from '../kube/objects.ts';
import { KubeApiError, KubeConnectionError, type KubeRest, isConflict } from '../kube/rest.ts';
import { MEMBER_CLUSTER_TYPE, collectionPath, objectPath } from '../kube/resources.ts';
import { KubeWatchSource } from '../kube/watch-source.ts';
import { Controller } from '../runtime/controller.ts';
import { Informer } from '../runtime/informer.ts';
import { type Priority, WorkQueue } from '../runtime/queue.ts';
import { type ChildCaches, createChildCaches } from '../operator/caches.ts';
import { createRecentWrites, withRecentWrites } from '../operator/recent-writes.ts';
import { type KubeWriter, createKubeWriter } from '../kube/objects.ts';
import { LABEL_TENANT } from '../render/meta.ts';
import type { TenantCluster } from '../reconcile/ports.ts';
import type { PendingCleanup } from '../reconcile/member-deletion.ts';
import { ANNOTATION_TENANT_UID } from '../reconcile/ownership.ts';
import {
  type MemberClient,
  type SecretRef,
  memberClientFromSecret,
  secretFingerprint,
} from './member-connection.ts';
import { memberStatusPatch } from './member-status.ts';
import { type MemberHealth, probeMember } from './probe.ts';

/** A request to a member that was just found gone was not sent. */
export class MemberUnreachableError extends Error {
  constructor(member: string) {
    super(
      `member cluster ${member} stopped answering; the request was not sent and is retried once it is Ready again`,
    );
    this.name = 'MemberUnreachableError';
  }
}

export type MemberClusterObject = KubeObject & Pick<MemberCluster, 'spec' | 'status'>;

export interface MemberControllerOptions {
  /** The management cluster: MemberClusters, their Secrets, and the member without a Secret. */
  rest: KubeRest;
  writer: MemberStatusWriter;
  logger: Logger;
  /** Where a `kubeconfigSecretRef` without a namespace points. */
  operatorNamespace: string;
  userAgent: string;
  probeIntervalMs: number;
  /** Deadline of every request to a member. */
  requestTimeoutMs: number;
  /** Told the health of a member after each probe; `undefined` when the member is gone. */
  onHealth?(member: string, health: MemberHealth | undefined): void;
  /** Told of any change of any MemberCluster (tenants waiting for a member look again). */
  onMembersChanged?(): void;
  /** A probe found a member Ready where it was not, or the other way round (its tenants look again). */
  onReadyChanged?(member: string, ready: boolean): void;
  /** Tenants placed on a member, for its `status.tenants`. */
  tenantsOn?(member: string): number;
  /** The Tenant whose tenant id is `id` (children on members carry the id, not an owner reference). */
  tenantNameForId?(id: string): string | undefined;
  /** A tenant needs a reconcile: one of its objects on a member changed. */
  enqueueTenant?(name: string, priority: Priority): void;
  /** A tenant's ResourceQuota on a member changed or went away (the quota metrics). */
  quotaChanged?(tenantId: string, quota: KubeObject | undefined): void;
  now?: () => Date;
}

/** A member's caches and writer, as the reconciler is handed them. */
interface MemberTenantCluster {
  caches: ChildCaches;
  cluster: TenantCluster;
}

/** How a tenant on a member can be reached now. */
export type MemberReach =
  { kind: 'ready'; cluster: TenantCluster } | { kind: 'unreachable'; message: string } | { kind: 'unknown' };

interface MemberState {
  tenants?: MemberTenantCluster;
  secretKey?: string;
  secretInformer?: Informer<KubeObject>;
  client?: Extract<MemberClient, { ok: true }>;
  /** The fingerprint whose permissions were verified. */
  verified?: string;
  ready?: boolean;
  /** The readiness last told to `onReadyChanged` (a failing write sets `ready` before any probe). */
  announced?: boolean;
  /** Why it is not Ready and since when, as this process found it (its status may not say so yet). */
  down?: { message: string; since: string };
}

const LOCAL = 'management-cluster';
/** Keeps a MemberCluster while tenants are placed on it (or namespaces wait to be cleaned up there). */
export const MEMBER_FINALIZER = 'neurallog.io/finalizer';
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class MemberController {
  readonly #options: MemberControllerOptions;
  readonly #queue = new WorkQueue<string>();
  readonly #members: Informer<MemberClusterObject>;
  readonly #state = new Map<string, MemberState>();
  readonly #controller: Controller<string>;
  #unavailable = false;
  #stopped = false;

  constructor(options: MemberControllerOptions) {
    this.#options = options;
    this.#members = new Informer<MemberClusterObject>({
      name: 'memberclusters',
      logger: options.logger,
      resyncPeriodMs: 0,
      source: new KubeWatchSource<MemberClusterObject>({
        rest: options.rest,
        path: collectionPath(MEMBER_CLUSTER_TYPE),
        userAgent: options.userAgent,
      }),
      handlers: {
        onAdd: (mc) => {
          this.#queue.add(mc.metadata.name, 'normal');
          options.onMembersChanged?.();
        },
        onUpdate: (old, mc) => {
          if (old.metadata.generation !== mc.metadata.generation) this.#queue.add(mc.metadata.name, 'high');
          options.onMembersChanged?.();
        },
        onDelete: (mc) => {
          this.#queue.add(mc.metadata.name, 'high');
          options.onMembersChanged?.();
        },
      },
    });
    this.#controller = new Controller<string>({
      name: 'membercluster',
      keyField: 'member',
      queue: this.#queue,
      logger: options.logger,
      // Probes wait on the network; two at once keep one slow member from delaying the next.
      concurrency: 2,
      reconcile: (name) => this.#reconcile(name),
    });
  }

  /** Starts the member cache (every replica, so a standby is warm). */
  startCache(): void {
    this.#members.start();
    void this.#checkApi();
  }

  /**
   * Whether the MemberCluster API can be used at all: without its CRD (404) or without the RBAC
   * to list it (403) the operator serves its own cluster only, rather than holding every new
   * tenant until a cache that cannot sync has synced.
   */
  async #checkApi(): Promise<void> {
    for (
      let delayMs = 1_000;
      !this.#stopped && !this.#members.hasSynced();
      delayMs = Math.min(delayMs * 2, 30_000)
    ) {
      try {
        await this.#options.rest.request('GET', collectionPath(MEMBER_CLUSTER_TYPE), { query: { limit: 1 } });
        return; // the API is there: the cache will sync
      } catch (error) {
        if (error instanceof KubeApiError && (error.status === 404 || error.status === 403)) {
          this.#unavailable = true;
          this.#options.logger.warn(
            { status: error.status },
            error.status === 404
              ? 'the MemberCluster CRD is not installed: tenants live on this cluster only (kubectl apply -k config/crd to use member clusters)'
              : 'the operator may not list MemberClusters: tenants live on this cluster only (apply config/rbac to use member clusters)',
          );
          return;
        }
        // Not known yet (the API server restarting, say): ask again, tenants waiting meanwhile.
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  /**
   * The MemberClusters, or undefined while their cache loads. Empty when the API is not there
   * (see #checkApi) until the cache does sync.
   */
  membersIfKnown(): MemberClusterObject[] | undefined {
    if (this.#members.hasSynced()) return this.#members.list();
    return this.#unavailable ? [] : undefined;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** Starts probing and writing status (the leader only). */
  startProbing(): void {
    this.#controller.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#controller.stop({ drain: false });
    await this.#members.stop();
    for (const [name] of this.#state) await this.#forget(name);
  }

  /** Looks at member `name` again soon (its tenant count changed). */
  refresh(name: string): void {
    this.#queue.add(name, 'normal');
  }

  members(): MemberClusterObject[] {
    return this.#members.list();
  }

  /**
   * Where a tenant on member `name` (one reached through its kubeconfig Secret) can be written
   * now: its caches and writer once the member is Ready and they have synced; otherwise why not,
   * without a request to it, so a member that does not answer holds up no worker.
   */
  reach(name: string): MemberReach {
    const state = this.#state.get(name);
    if (!state || state.ready === undefined) return { kind: 'unknown' };
    const mc = this.#members.get(name);
    const readyCondition = mc?.status?.conditions?.find((c) => c.type === 'Ready');
    if (!state.ready || !state.client || state.client.rest === this.#options.rest) {
      // What this process found first: the cached status may still say Ready. The time the status
      // records is kept when it has one: it survives a restart of the operator.
      const recorded = readyCondition && readyCondition.status !== 'True' ? readyCondition : undefined;
      return {
        kind: 'unreachable',
        message: state.down?.message ?? recorded?.message ?? `${name} is not Ready`,
        ...(recorded || state.down ? { since: recorded?.lastTransitionTime ?? state.down!.since } : {}),
      };
    }
    if (!state.tenants) state.tenants = this.#tenantCluster(name, state, state.client.rest);
    // Loading is not a fault: its tenants wait a moment, their status untouched.
    if (!state.tenants.caches.hasSynced()) return { kind: 'unknown' };
    return { kind: 'ready', cluster: state.tenants.cluster };
  }

  /** While deleted with tenants left: a `Terminating` condition saying how many, written when it changes. */
  async #writeTerminating(
    name: string,
    mc: MemberClusterObject,
    tenants: number,
    pending: number,
  ): Promise<MemberClusterObject> {
    const message =
      tenants > 0
        ? `deletion waits for ${tenants} tenant${tenants === 1 ? '' : 's'} placed here${pending > 0 ? ` and ${pending} pending namespace cleanup${pending === 1 ? '' : 's'}` : ''}: delete the tenants first (a tenant is never moved to another member)`
        : `deletion waits for ${pending} pending namespace cleanup${pending === 1 ? '' : 's'} (status.pendingCleanup), done when the member answers again: bring it back, or remove the entries with kubectl edit membercluster ${name} --subresource=status to leave those namespaces behind`;
    const before = mc.status?.conditions?.find((c) => c.type === 'Terminating');
    if (before?.message === message) return mc;
    const condition = {
      type: 'Terminating',
      status: 'True' as const,
      reason: 'TenantsRemain',
      message,
      lastTransitionTime: before?.lastTransitionTime ?? rfc3339(this.#options.now?.() ?? new Date()),
    };
    const written = await this.#options.writer.patchMemberClusterStatus(name, {
      conditions: [...(mc.status?.conditions ?? []).filter((c) => c.type !== 'Terminating'), condition],
    });
    return { ...mc, status: (written as MemberClusterObject).status };
  }

  /**
   * Records a namespace to delete on `name` when it answers again (its `status.pendingCleanup`),
   * once per Tenant uid.
   */
  async deferCleanup(name: string, entry: PendingCleanup): Promise<void> {
    await this.#updatePendingCleanup(name, (current) =>
      current.some((c) => c.uid === entry.uid) ? undefined : [...current, entry],
    );
  }

  /**
   * Changes `status.pendingCleanup` of `name` from the API server's copy, guarded by its
   * resourceVersion and retried on a conflict, so concurrent deletions never lose an entry.
   * `change` returns undefined when there is nothing to write.
   */
  async #updatePendingCleanup(
    name: string,
    change: (current: PendingCleanup[]) => PendingCleanup[] | undefined,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const live = await this.#options.rest.request<MemberClusterObject>(
        'GET',
        objectPath(MEMBER_CLUSTER_TYPE, name),
      );
      const next = change(live.status?.pendingCleanup ?? []);
      if (next === undefined) return;
      try {
        await this.#options.writer.patchMemberClusterStatus(
          name,
          { pendingCleanup: next.length > 0 ? next : null },
          live.metadata.resourceVersion,
        );
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= 5) throw error;
      }
    }
  }

  /**
   * Carries out the pending cleanups of a member that answers: each namespace is deleted only if
   * it still carries the deleted Tenant's uid; one that is gone, or not that Tenant's, is dropped.
   */
  async #cleanUp(name: string, mc: MemberClusterObject, rest: KubeRest): Promise<void> {
    const pending = mc.status?.pendingCleanup ?? [];
    if (pending.length === 0) return;
    const writer = createKubeWriter(rest);
    const done = new Set<string>();
    for (const entry of pending) {
      try {
        const ns = await writer.get({ kind: 'Namespace', name: entry.namespace });
        if (
          ns &&
          ns.metadata.annotations?.[ANNOTATION_TENANT_UID] === entry.uid &&
          !ns.metadata.deletionTimestamp
        ) {
          await writer.delete(
            { kind: 'Namespace', name: entry.namespace },
            ns.metadata.uid ? { uid: ns.metadata.uid } : {},
          );
          this.#options.logger.info(
            { member: name, namespace: entry.namespace, tenant: entry.tenant },
            'deleted the namespace of a tenant deleted while its member was unreachable',
          );
        }
        done.add(entry.uid);
      } catch (error) {
        this.#options.logger.warn(
          { member: name, namespace: entry.namespace, err: error },
          'pending cleanup failed; will retry',
        );
      }
    }
    if (done.size > 0)
      await this.#updatePendingCleanup(name, (current) => current.filter((c) => !done.has(c.uid)));
  }

  #tenantCluster(name: string, state: MemberState, rest: KubeRest): MemberTenantCluster {
    const recent = createRecentWrites();
    const caches = createChildCaches({
      rest,
      logger: this.#options.logger.child({ member: name }),
      recent,
      userAgent: this.#options.userAgent,
      tenantNameFor: (obj) => {
        const id = obj.metadata.labels?.[LABEL_TENANT];
        return id ? this.#options.tenantNameForId?.(id) : undefined;
      },
      enqueue: (tenant, priority) => this.#options.enqueueTenant?.(tenant, priority),
      ...(this.#options.quotaChanged ? { quotaChanged: this.#options.quotaChanged } : {}),
    });
    caches.start();
    const view = withRecentWrites(
      {
        tenant: () => undefined,
        children: (id) => caches.children(id),
        namespace: (n) => caches.namespace(n),
      },
      this.#failFast(name, state, createKubeWriter(rest)),
      recent,
    );
    return {
      caches,
      cluster: { name, observed: view.observed, writer: view.writer, ownership: 'annotation' },
    };
  }

  /**
   * A member's writer that stops at its first sign of the member being gone: that request's
   * failure marks the member not Ready and probes it at once, and every later request fails at
   * once, so a reconcile never spends a request deadline per object on a member that went dark.
   */
  #failFast(name: string, state: MemberState, writer: KubeWriter): KubeWriter {
    const guard =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (state.ready === false) throw new MemberUnreachableError(name);
        try {
          return await call(...args);
        } catch (error) {
          if (
            error instanceof KubeConnectionError ||
            (error instanceof Error && error.name === 'TimeoutError')
          ) {
            state.ready = false;
            state.down ??= {
              message: `${name} stopped answering: ${(error as Error).message}`,
              since: rfc3339(this.#now()),
            };
            this.refresh(name);
          }
          throw error;
        }
      };
    return {
      apply: guard((obj) => writer.apply(obj)),
      jsonPatch: guard((ref, ops) => writer.jsonPatch(ref, ops)),
      create: guard((obj) => writer.create(obj)),
      delete: guard((ref, options) => writer.delete(ref, options)),
      get: guard((ref, options) => writer.get(ref, options)),
      list: guard((kind, namespace, options) => writer.list(kind, namespace, options)),
      patchTenantStatus: guard((n, st, rv) => writer.patchTenantStatus(n, st, rv)),
      setTenantFinalizers: guard((n, f, rv) => writer.setTenantFinalizers(n, f, rv)),
    } as KubeWriter;
  }

  async #forget(name: string): Promise<void> {
    const state = this.#state.get(name);
    if (!state) return;
    this.#state.delete(name);
    await state.tenants?.caches.stop();
    await state.secretInformer?.stop();
    if (state.client && state.client.rest !== this.#options.rest) await state.client.rest.close();
    this.#options.onHealth?.(name, undefined);
  }

  /** The Secret informer for `ref`, replacing one for another Secret. */
  async #secretInformer(name: string, state: MemberState, ref: SecretRef): Promise<Informer<KubeObject>> {
    const key = `${ref.namespace}/${ref.name}`;
    if (state.secretInformer && state.secretKey === key) return state.secretInformer;
    await state.secretInformer?.stop();
    const informer = new Informer<KubeObject>({
      name: `secret ${key}`,
      logger: this.#options.logger,
      resyncPeriodMs: 0,
      source: new KubeWatchSource<KubeObject>({
        rest: this.#options.rest,
        path: `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`,
        fieldSelector: `metadata.name=${ref.name}`,
        userAgent: this.#options.userAgent,
      }),
      handlers: {
        onAdd: () => this.#queue.add(name, 'high'),
        onUpdate: () => this.#queue.add(name, 'high'),
        onDelete: () => this.#queue.add(name, 'high'),
      },
    });
    state.secretInformer = informer;
    state.secretKey = key;
    informer.start();
    return informer;
  }

  /** Closes the member's client and its caches; detached first, so no one picks them up meanwhile. */
  async #dropClient(state: MemberState): Promise<void> {
    const { client, tenants } = state;
    delete state.client;
    delete state.tenants;
    await tenants?.caches.stop();
    if (client && client.rest !== this.#options.rest) await client.rest.close();
  }

  /** The member's client, or why there is none. */
  async #client(
    name: string,
    mc: MemberClusterObject,
    state: MemberState,
  ): Promise<MemberClient | 'waiting'> {
    const ref = kubeconfigSecretOf(mc, this.#options.operatorNamespace);
    if (!ref) {
      await state.secretInformer?.stop();
      delete state.secretInformer;
      delete state.secretKey;
      await this.#dropClient(state);
      return { ok: true, rest: this.#options.rest, fingerprint: LOCAL };
    }
    const informer = await this.#secretInformer(name, state, ref);
    if (!informer.hasSynced()) return 'waiting';
    // The informer watches this one Secret (a field selector on its name).
    const secret = informer.list()[0];
    if (state.client && state.client.fingerprint === secretFingerprint(ref, secret)) return state.client;
    const client = memberClientFromSecret(ref, secret, {
      member: name,
      timeoutMs: this.#options.requestTimeoutMs,
      userAgent: this.#options.userAgent,
    });
    await this.#dropClient(state);
    if (client.ok) state.client = client;
    return client;
  }

  async #reconcile(name: string): Promise<{ requeueAfterMs?: number }> {
    let mc = this.#members.get(name);
    if (!mc) {
      await this.#forget(name);
      return {};
    }
    const finalizers = mc.metadata.finalizers ?? [];
    if (mc.metadata.deletionTimestamp) {
      if (!finalizers.includes(MEMBER_FINALIZER)) {
        await this.#forget(name);
        return {};
      }
      const remaining = this.#options.tenantsOn?.(name) ?? 0;
      const pending = mc.status?.pendingCleanup?.length ?? 0;
      if (remaining === 0 && pending === 0) {
        await this.#forget(name);
        await this.#options.writer.setMemberClusterFinalizers(
          name,
          finalizers.filter((f) => f !== MEMBER_FINALIZER),
          mc.metadata.resourceVersion ?? '',
        );
        this.#options.logger.info({ member: name }, 'member cluster released: no tenant is placed there');
        return {};
      }
      mc = await this.#writeTerminating(name, mc, remaining, pending);
      // Its tenants still live there: keep probing it so that they can be deleted.
    } else if (!finalizers.includes(MEMBER_FINALIZER)) {
      await this.#options.writer.setMemberClusterFinalizers(
        name,
        [...finalizers, MEMBER_FINALIZER],
        mc.metadata.resourceVersion ?? '',
      );
    }
    let state = this.#state.get(name);
    if (!state) this.#state.set(name, (state = {}));
    const client = await this.#client(name, mc, state);
    if (client === 'waiting') return { requeueAfterMs: 500 };
    let health: MemberHealth;
    if (!client.ok) {
      health = { ready: false, reason: 'CredentialsInvalid', message: client.message };
    } else {
      health = await probeMember(client.rest, {
        member: name,
        checkPermissions: state.verified !== client.fingerprint || state.ready !== true,
        timeoutMs: this.#options.requestTimeoutMs,
      });
      if (health.ready) state.verified = client.fingerprint;
    }
    if (state.announced !== health.ready) {
      this.#options.logger.info(
        {
          member: name,
          ready: health.ready,
          ...(health.ready ? {} : { reason: health.reason, message: health.message }),
        },
        health.ready ? 'member cluster is Ready' : 'member cluster is not Ready',
      );
    }
    state.ready = health.ready;
    if (health.ready) delete state.down;
    else state.down = { message: health.message, since: state.down?.since ?? rfc3339(this.#now()) };
    this.#options.onHealth?.(name, health);
    if (state.announced !== health.ready) {
      state.announced = health.ready;
      this.#options.onReadyChanged?.(name, health.ready);
    }
    if (health.ready && client.ok) await this.#cleanUp(name, mc, client.rest);
    const patch = memberStatusPatch({
      current: mc.status,
      health,
      ...(this.#options.tenantsOn ? { tenants: this.#options.tenantsOn(name) } : {}),
      generation: mc.metadata.generation,
      now: rfc3339(this.#options.now?.() ?? new Date()),
    });
    if (patch) await this.#options.writer.patchMemberClusterStatus(name, patch as Record<string, unknown>);
    return { requeueAfterMs: this.#options.probeIntervalMs };
  }
}
