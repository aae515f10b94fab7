import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolvedTenant } from './fixtures.test-util.ts';
import {
  podPlacement,
  podTemplateAnnotations,
  podTemplateLabels,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  restrictedProfileViolations,
} from './pod-security.ts';

const compliantPod = () => ({
  securityContext: restrictedPodSecurityContext(999),
  containers: [{ name: 'c', securityContext: restrictedContainerSecurityContext() }],
  volumes: [{ name: 'tmp', emptyDir: {} }],
});

describe('restricted security contexts', () => {
  it('pod context: fixed non-root ids, fsGroup, RuntimeDefault seccomp', () => {
    assert.deepEqual(restrictedPodSecurityContext(999), {
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.throws(() => restrictedPodSecurityContext(0), RangeError);
  });

  it('container context: no escalation, no capabilities, read-only root', () => {
    assert.deepEqual(restrictedContainerSecurityContext(), {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
  });

  it('returns fresh objects each call', () => {
    const a = restrictedContainerSecurityContext();
    a.capabilities.drop.pop();
    assert.deepEqual(restrictedContainerSecurityContext().capabilities.drop, ['ALL']);
  });
});

describe('restrictedProfileViolations', () => {
  it('accepts a compliant pod', () => {
    assert.deepEqual(restrictedProfileViolations(compliantPod()), []);
  });

  it('reports each kind of violation', () => {
    const pod = {
      hostNetwork: true,
      securityContext: { runAsUser: 0 },
      containers: [
        {
          name: 'bad',
          securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN'] } },
          ports: [{ containerPort: 80, hostPort: 80 }],
        },
      ],
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
    };
    const problems = restrictedProfileViolations(pod);
    for (const expected of [
      'hostNetwork must not be true',
      'securityContext.runAsUser must not be 0',
      'volume host: type hostPath is not allowed',
      'container bad: privileged must not be true',
      'container bad: allowPrivilegeEscalation must be false',
      'container bad: capabilities.drop must include ALL',
      'container bad: capability NET_ADMIN must not be added',
      'container bad: runAsNonRoot must be true',
      'container bad: seccompProfile.type must be RuntimeDefault or Localhost',
      'container bad: hostPort must not be set',
    ]) {
      assert.ok(problems.includes(expected), `${expected} in ${JSON.stringify(problems)}`);
    }
  });
});

describe('pod template helpers', () => {
  it("labels: the user's podLabels, the operator's labels win", () => {
    const t = resolvedTenant({ server: { podLabels: { team: 'a', 'app.kubernetes.io/component': 'evil' } } });
    const labels = podTemplateLabels(t, 'server', t.server);
    assert.equal(labels.team, 'a');
    assert.equal(labels['app.kubernetes.io/component'], 'server');
  });

  it('annotations: undefined when none, ours win', () => {
    assert.equal(podTemplateAnnotations({}), undefined);
    assert.deepEqual(podTemplateAnnotations({ podAnnotations: { a: '1', b: '2' } }, { b: 'ours' }), {
      a: '1',
      b: 'ours',
    });
  });

  it('placement: copies only what is set, without sharing objects', () => {
    assert.deepEqual(podPlacement({}), {});
    const nodeSelector = { disk: 'ssd' };
    const out = podPlacement({ nodeSelector, podLabels: { x: 'y' } });
    assert.deepEqual(out, { nodeSelector: { disk: 'ssd' } });
    assert.notEqual(out.nodeSelector, nodeSelector);
  });
});
