/**
 * Reconciles one Tenant: reads what exists (watch caches), decides (plan.ts, status.ts), writes
 * only what differs, and reports through status, events and metrics.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { type ResolvedTenant, resolveTenant } from '../api/resolve.ts';
import type { Condition, TenantStatus } from '../api/status.ts';
import { validateTenant, formatIssue } from '../api/validate.ts';
import { AuthServiceRejectedError } from '../auth/errors.ts';
import type { EventRecorder, EventType } from '../kube/events.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { isAlreadyExists, isInvalid, KubeApiError } from '../kube/rest.ts';
import { objectKey } from '../kube/resources.ts';
import { render } from '../render/index.ts';
import { FINALIZER, type RenderedObject } from '../render/meta.ts';
import { isCreateOnly } from '../render/redis.ts';
import { PermanentError } from '../runtime/controller.ts';
import { differences } from './compare.ts';
import { describeObject } from './describe.ts';
import { type Action, isOwnedChild, planChildren } from './plan.ts';
import { quotaProblem } from './quota-fit.ts';
import {
  type AuthState,
  type NamespaceState,
  authStateFromStatus,
  deriveStatus,
  nextCondition,
} from './status.ts';

export interface TenantObject extends KubeObject {
  spec?: unknown;
  status?: TenantStatus;
}

export interface ObservedCluster {
  tenant(name: string): TenantObject | undefined;
  /** Every cached object labelled as belonging to tenant `id`. */
  children(id: string): KubeObject[];
  /** The namespace from the cache (only operator-labelled ones are cached). */
  namespace(name: string): KubeObject | undefined;
}

export interface AuthPort {
  register(tenantId: string): Promise<unknown>;
  deregister(tenantId: string): Promise<unknown>;
}

export interface ReconcilerMetrics {
  tenantCreated(): void;
  tenantDeleted(): void;
  driftCorrected(kind: string): void;
}

export interface ReconcilerOptions {
  observed: ObservedCluster;
  writer: KubeWriter;
  events: EventRecorder;
  metrics: ReconcilerMetrics;
  /** Undefined when no Auth service is configured at all. */
  auth: AuthPort;
  authUrl: string;
  authDeregisterTimeoutMs: number;
  logger: Logger;
  now?: () => Date;
  generatePassword?: () => string;
}

export class ChildWriteError extends Error {
  constructor(failures: string[], cause: unknown) {
    super(`could not write ${failures.length} object(s): ${failures.join('; ')}`, { cause });
    this.name = 'ChildWriteError';
  }
}

export class AuthPendingError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AuthPendingError';
  }
}

const RECHECK_AT_ONCE_MS = 1;
const NAMESPACE_RECHECK_MS = 5_000;
const CONFLICT_RECHECK_MS = 60_000;
const DEREGISTER_RETRY_MS = 15_000;

function ownedBy(obj: KubeObject, uid: string | undefined): boolean {
  return uid !== undefined && (obj.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.controller);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `c` with a new status, reason and message (its observedGeneration kept). */
function setCondition(
  c: Condition,
  to: Condition['status'],
  reason: string,
  message: string,
  at: Date,
): Condition {
  return nextCondition(c, c.type, { status: to, reason, message }, at, c.observedGeneration);
}

/** Where deregistration stands while a Tenant is deleted. */
type DeregistrationOutcome = 'pending' | 'deregistered' | 'gaveUp';

const DEREGISTRATION_GAVE_UP = 'DeregistrationTimedOut';

function gaveUpDeregistering(status: TenantStatus | undefined): boolean {
  return (status?.conditions ?? []).some(
    (c) => c.type === 'AuthRegistered' && c.reason === DEREGISTRATION_GAVE_UP,
  );
}

/** Status of a Tenant being deleted: Terminating, not Ready, and the Auth outcome once known. */
function terminatingStatus(
  status: TenantStatus | undefined,
  outcome: DeregistrationOutcome,
  at: Date,
): TenantStatus {
  return {
    ...(status ?? {}),
    phase: 'Terminating',
    conditions: (status?.conditions ?? []).map((c) => {
      if (c.type === 'Ready') return setCondition(c, 'False', 'Terminating', 'Tenant is being deleted', at);
      if (c.type !== 'AuthRegistered') return c;
      if (outcome === 'deregistered')
        return setCondition(c, 'False', 'Deregistered', 'Tenant was removed from the Auth service', at);
      if (outcome === 'gaveUp')
        return setCondition(
          c,
          'Unknown',
          DEREGISTRATION_GAVE_UP,
          'Deregistration did not succeed before --auth-deregister-timeout; the tenant may still be registered with the Auth service',
          at,
        );
      return c;
    }),
  };
}

/**
 * Status of a Tenant whose spec fails validation (a rule the CRD schema cannot express, or a CRD
 * older than the operator): Failed, Ready=False/InvalidSpec naming the fields. What was observed
 * before (components, endpoints, other conditions) is kept as it was: nothing is touched.
 */
function invalidSpecStatus(
  status: TenantStatus | undefined,
  generation: number | undefined,
  message: string,
  at: Date,
): TenantStatus {
  const others = (status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  const before = status?.conditions?.find((c) => c.type === 'Ready');
  const ready = nextCondition(
    before,
    'Ready',
    { status: 'False', reason: 'InvalidSpec', message },
    at,
    generation,
  );
  return {
    ...(status ?? {}),
    phase: 'Failed',
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [ready, ...others],
  };
}

export function createReconciler(options: ReconcilerOptions) {
  const { observed, writer, events, metrics, logger } = options;
  const now = options.now ?? (() => new Date());
  const generatePassword = options.generatePassword ?? (() => randomBytes(32).toString('base64url'));

  function event(t: TenantObject, type: EventType, reason: string, message: string): Promise<void> {
    return events.record(
      { name: t.metadata.name, ...(t.metadata.uid ? { uid: t.metadata.uid } : {}) },
      type,
      reason,
      message,
    );
  }

  async function lookupNamespace(name: string): Promise<KubeObject | undefined> {
    return observed.namespace(name) ?? (await writer.get({ kind: 'Namespace', name }));
  }

  /**
   * Writes status only when it differs; emits events for the transitions worth telling. Returns
   * the Tenant as written (its resourceVersion moved), or undefined when nothing was written.
   */
  async function publishStatus(t: TenantObject, status: TenantStatus): Promise<KubeObject | undefined> {
    const previous = t.status;
    if (isDeepStrictEqual(previous ?? {}, status)) return undefined;
    const patch: Record<string, unknown> = { ...status };
    for (const key of Object.keys(previous ?? {})) if (!(key in status)) patch[key] = null;
    let written: KubeObject;
    try {
      written = await writer.patchTenantStatus(t.metadata.name, patch);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
    if (status.phase === 'Running' && previous?.phase !== 'Running') {
      await event(t, 'Normal', 'Running', 'Tenant is running');
    }
    const warnings = [
      'NamespaceConflict',
      'QuotaTooSmall',
      'StorageChangeNotApplied',
      'AuthServiceUnavailable',
      'AuthServiceRejected',
    ];
    // One problem often shows in two conditions (Ready and NamespaceReady, say): announce each
    // reason+message once, and only when no condition carried it before.
    const announced = new Set((previous?.conditions ?? []).map((p) => `${p.reason}\u0000${p.message}`));
    for (const c of status.conditions ?? []) {
      if (!warnings.includes(c.reason)) continue;
      const key = `${c.reason}\u0000${c.message}`;
      if (announced.has(key)) continue;
      announced.add(key);
      await event(t, 'Warning', c.reason, c.message);
    }
    return written;
  }

  /**
   * Server-side apply, then make sure the result holds the desired state: apply keeps list
   * entries another manager added (a port someone edited, say), and may even be refused because
   * of them (two ports with one name). Those lists are then replaced whole.
   */
  async function applyFully(object: RenderedObject): Promise<KubeObject> {
    let applied: KubeObject | undefined;
    try {
      applied = await writer.apply(object as KubeObject);
      if (differences(object, applied).length === 0) return applied;
    } catch (error) {
      if (!isInvalid(error)) throw error;
    }
    return writer.replaceLists(object as KubeObject);
  }

  async function executeAction(t: TenantObject, action: Action): Promise<KubeObject | undefined> {
    const what = describeObject(action.object as RenderedObject);
    if (action.type === 'delete') {
      await writer.delete(
        {
          kind: action.object.kind,
          name: action.object.metadata.name,
          namespace: action.object.metadata.namespace,
        },
        action.object.metadata.uid ? { uid: action.object.metadata.uid } : {},
      );
      await event(t, 'Normal', 'Deleted', `Deleted ${what}: no longer desired`);
      return undefined;
    }
    const written =
      action.type === 'create'
        ? await writer.create(action.object as KubeObject)
        : await applyFully(action.object);
    if (action.reason === 'created') {
      await event(t, 'Normal', 'Created', `Created ${what}`);
    } else if (action.reason === 'updated') {
      await event(t, 'Normal', 'Updated', `Updated ${what}`);
    } else {
      metrics.driftCorrected(action.object.kind);
      const detail =
        action.type === 'apply' && action.changed.length > 0
          ? `changed ${action.changed.slice(0, 3).join(', ')}`
          : 'it was missing';
      await event(t, 'Normal', 'DriftCorrected', `Restored ${what} (${detail})`);
    }
    return written;
  }

  async function registerWithAuth(t: TenantObject, r: ResolvedTenant): Promise<AuthState> {
    if (!r.authEnabled) return { state: 'disabled' };
    const known = authStateFromStatus(t.status);
    if (known?.state === 'registered') return known;
    try {
      await options.auth.register(r.id);
      return { state: 'registered' };
    } catch (error) {
      const message = `Registration with the Auth service failed: ${errorMessage(error)}`;
      return error instanceof AuthServiceRejectedError
        ? { state: 'rejected', message }
        : { state: 'unavailable', message };
    }
  }

  async function finalize(t: TenantObject, r: ResolvedTenant | undefined, log: Logger) {
    const finalizers = t.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return {};
    const nsName = r?.namespace;
    const auth: AuthState =
      r?.authEnabled === false
        ? { state: 'disabled' }
        : (authStateFromStatus(t.status) ?? { state: 'pending' });
    let outcome: DeregistrationOutcome = gaveUpDeregistering(t.status)
      ? 'gaveUp'
      : auth.state === 'deregistered'
        ? 'deregistered'
        : 'pending';
    const ns = nsName ? await lookupNamespace(nsName) : undefined;
    // A namespace someone else owns means the tenant id is theirs too (another Tenant with the
    // same spec.tenantId, say): deregistering it would cut them off from the Auth service.
    const idOwnedElsewhere = ns !== undefined && !ownedBy(ns, t.metadata.uid);
    if (r && r.authEnabled && outcome === 'pending' && !idOwnedElsewhere) {
      try {
        await options.auth.deregister(r.id);
        outcome = 'deregistered';
      } catch (error) {
        const elapsed =
          now().getTime() - new Date(t.metadata.deletionTimestamp ?? now().toISOString()).getTime();
        const remaining = options.authDeregisterTimeoutMs - elapsed;
        if (remaining > 0) {
          const message = `Deregistration from the Auth service failed (${errorMessage(error)}); deletion waits for it, at most ${Math.ceil(remaining / 1000)} s more`;
          await publishStatus(t, terminatingStatus(t.status, 'pending', now()));
          await event(t, 'Warning', 'AuthServiceUnavailable', message);
          log.warn({ err: error }, 'deregistration failed; will retry');
          return { requeueAfterMs: Math.min(remaining, DEREGISTER_RETRY_MS) };
        }
        await event(
          t,
          'Warning',
          'AuthDeregistrationTimedOut',
          `Gave up deregistering from the Auth service after ${Math.round(options.authDeregisterTimeoutMs / 1000)} s (${errorMessage(error)}); deleting anyway. Remove tenant ${r.id} from the Auth service by hand`,
        );
        outcome = 'gaveUp';
      }
    }
    const written = await publishStatus(t, terminatingStatus(t.status, outcome, now()));
    if (nsName) {
      if (ns && ownedBy(ns, t.metadata.uid)) {
        if (!ns.metadata.deletionTimestamp) {
          await writer.delete(
            { kind: 'Namespace', name: nsName },
            ns.metadata.uid ? { uid: ns.metadata.uid } : {},
          );
          await event(t, 'Normal', 'Deleting', `Deleting namespace ${nsName}`);
        }
        return { requeueAfterMs: NAMESPACE_RECHECK_MS };
      }
    }
    // The status write just above moved the resourceVersion; the finalizer patch must use the new one.
    await writer.setTenantFinalizers(
      t.metadata.name,
      finalizers.filter((f) => f !== FINALIZER),
      written?.metadata.resourceVersion ?? t.metadata.resourceVersion ?? '',
    );
    metrics.tenantDeleted();
    log.info('tenant deleted');
    return {};
  }

  return async function reconcile(
    name: string,
    ctx: { logger?: Logger } = {},
  ): Promise<{ requeueAfterMs?: number }> {
    const log = ctx.logger ?? logger.child({ tenant: name });
    let t = observed.tenant(name);
    if (!t) return {};
    const validation = validateTenant(t);
    const resolved = validation.ok ? resolveTenant(validation.tenant) : undefined;
    if (t.metadata.deletionTimestamp) return finalize(t, resolved, log);
    if (!validation.ok || !resolved) {
      const message = `spec is invalid: ${validation.ok ? '' : validation.issues.map(formatIssue).join('; ')}`;
      await publishStatus(t, invalidSpecStatus(t.status, t.metadata.generation, message, now()));
      await event(t, 'Warning', 'InvalidSpec', message);
      throw new PermanentError(message);
    }

    if (!(t.metadata.finalizers ?? []).includes(FINALIZER)) {
      const updated = await writer.setTenantFinalizers(
        name,
        [...(t.metadata.finalizers ?? []), FINALIZER],
        t.metadata.resourceVersion ?? '',
      );
      t = { ...t, metadata: { ...t.metadata, ...updated.metadata } };
    }
    const uid = t.metadata.uid;
    const r = resolveTenant({ ...validation.tenant, metadata: { ...validation.tenant.metadata, uid } });
    const generation = t.metadata.generation;
    const specChanged = generation === undefined || generation !== t.status?.observedGeneration;

    const liveNamespace = await lookupNamespace(r.namespace);
    let namespaceState: NamespaceState = 'absent';
    if (liveNamespace) {
      if (!ownedBy(liveNamespace, uid)) namespaceState = 'conflict';
      else if (liveNamespace.metadata.deletionTimestamp) namespaceState = 'terminating';
      else namespaceState = 'ready';
    }
    // A tenant id whose namespace belongs to someone else is not ours to register.
    const auth: AuthState =
      namespaceState !== 'conflict'
        ? await registerWithAuth(t, r)
        : r.authEnabled
          ? (authStateFromStatus(t.status) ?? { state: 'pending' })
          : { state: 'disabled' };
    const base = { tenant: r, generation, previous: t.status, deleting: false, auth, now: now() };
    if (namespaceState === 'conflict' || namespaceState === 'terminating') {
      await publishStatus(
        t,
        deriveStatus({ ...base, namespace: namespaceState, redis: undefined, server: undefined }),
      );
      return { requeueAfterMs: namespaceState === 'conflict' ? CONFLICT_RECHECK_MS : NAMESPACE_RECHECK_MS };
    }

    const desired = render(r, { authUrl: options.authUrl, redisPassword: generatePassword() });
    const live = new Map<string, KubeObject>();
    for (const child of observed.children(r.id)) live.set(objectKey(child), child);
    if (liveNamespace)
      live.set(objectKey({ kind: 'Namespace', metadata: liveNamespace.metadata }), {
        ...liveNamespace,
        kind: 'Namespace',
      });
    const plan = planChildren({ desired, live, specChanged, isCreateOnly, tenantId: r.id });

    const after = new Map(live);
    const failures: string[] = [];
    let firstError: unknown;
    for (const action of plan.actions) {
      const key = objectKey(action.object);
      try {
        if (action.type !== 'delete' && action.reason === 'drift' && action.object.kind !== 'Namespace') {
          // The caches may not have caught up with our own recent writes: ask the API server
          // before calling it drift (and before POSTing a Secret that exists).
          const { kind, metadata } = action.object;
          const current = await writer.get({ kind, name: metadata.name, namespace: metadata.namespace });
          const inPlace =
            current !== undefined &&
            isOwnedChild(current, r.id) &&
            (action.type === 'create' || differences(action.object, current).length === 0);
          if (inPlace) {
            after.set(key, current);
            continue;
          }
        }
        const written = await executeAction(t, action);
        if (written) after.set(key, written);
        else after.delete(key);
        if (action.object.kind === 'Namespace' && action.type === 'create') {
          namespaceState = 'ready';
          if (action.reason === 'created') metrics.tenantCreated();
        }
      } catch (error) {
        if (action.object.kind === 'Namespace' && isAlreadyExists(error)) {
          // Someone made the namespace between our read and our create: re-check ownership.
          // (0 would mean "no requeue" to the controller.)
          return { requeueAfterMs: RECHECK_AT_ONCE_MS };
        }
        firstError ??= error;
        failures.push(`${describeObject(action.object as RenderedObject)}: ${errorMessage(error)}`);
        log.warn({ err: error, object: key }, 'write failed');
        if (action.object.kind === 'Namespace') break;
      }
    }
    if (plan.actions.length > 0)
      log.info({ writes: plan.actions.length, failed: failures.length }, 'applied changes');

    const statefulSet = after.get(`StatefulSet/${r.namespace}/${r.id}-redis`);
    const deployment = after.get(`Deployment/${r.namespace}/${r.id}-server`);
    const status = deriveStatus({
      ...base,
      namespace: namespaceState,
      redis: statefulSet as never,
      server: deployment as never,
      ...(plan.storageChange ? { storageChange: plan.storageChange } : {}),
      ...(quotaProblem(r) ? { quotaProblem: quotaProblem(r) } : {}),
    });
    await publishStatus(t, status);

    if (failures.length > 0) {
      await event(t, 'Warning', 'ApplyFailed', failures.join('; '));
      throw new ChildWriteError(failures, firstError);
    }
    if (auth.state === 'unavailable' || auth.state === 'rejected')
      throw new AuthPendingError(auth.message, undefined);
    return {};
  };
}
