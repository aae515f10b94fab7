/**
 * The `neurallog.io/desired-hash` annotation: a short hash of an object as rendered. The controller
 * compares desired and live objects field by field (desired ⊆ live), which cannot see a field the
 * spec no longer asks for (a removed `podAnnotations` key is simply absent from the desired
 * object); a changed hash tells it to apply again, and server-side apply prunes what was dropped.
 * The Redis Secret carries none: it is never rewritten, and a hash of it would be a hash of the
 * password.
 */
import { createHash } from 'node:crypto';
import { ANNOTATION_DESIRED_HASH, type RenderedObject } from './meta.ts';
import { isCreateOnly } from './redis.ts';

export function desiredHash(obj: RenderedObject): string {
  return createHash('sha256').update(JSON.stringify(obj), 'utf8').digest('hex').slice(0, 16);
}

export function withDesiredHash(obj: RenderedObject): RenderedObject {
  if (isCreateOnly(obj)) return obj;
  const annotations = { ...obj.metadata.annotations, [ANNOTATION_DESIRED_HASH]: desiredHash(obj) };
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}
