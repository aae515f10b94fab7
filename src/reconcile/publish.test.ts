import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, TenantStatus } from '../api/status.ts';
import { carryForward } from './publish.ts';

const condition = (type: string, status: Condition['status'] = 'True'): Condition => ({
  type,
  status,
  reason: type,
  message: '',
  lastTransitionTime: '2030-01-01T00:00:00Z',
});

describe('carryForward', () => {
  it('keeps the placement and the conditions a derived status does not own', () => {
    const previous: TenantStatus = {
      phase: 'Running',
      placement: { clusterName: 'prod-1', reason: 'pinned', time: '2030-01-01T00:00:00Z' },
      conditions: [condition('Ready'), condition('Scheduled')],
    };
    const derived: TenantStatus = { phase: 'Degraded', conditions: [condition('Ready', 'False')] };
    assert.deepEqual(carryForward(previous, derived), {
      phase: 'Degraded',
      placement: previous.placement,
      conditions: [condition('Ready', 'False'), condition('Scheduled')],
    });
  });

  it('changes nothing when there is nothing to carry', () => {
    const derived: TenantStatus = { phase: 'Running', conditions: [condition('Ready')] };
    assert.equal(
      carryForward({ phase: 'Pending', conditions: [condition('Ready', 'False')] }, derived),
      derived,
    );
    assert.equal(carryForward(undefined, derived), derived);
  });
});
