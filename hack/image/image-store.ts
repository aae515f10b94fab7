// What the local container storage holds: whether an image exists, and its size and digest.
import { capture } from './run-logged.ts';

export interface ImageSummary {
  ref: string;
  id: string;
  /** Digest of the image manifest (sha256:...). */
  digest: string;
  /** Unpacked size in bytes, as `podman images` reports it. */
  sizeBytes: number;
}

export async function imageExists(ref: string): Promise<boolean> {
  return (
    (await capture('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', ref])).code === 0
  );
}

export async function imageSummary(ref: string): Promise<ImageSummary> {
  const { code, stdout } = await capture('podman', [
    'image',
    'inspect',
    '--format',
    '{{.Id}} {{.Digest}} {{.Size}}',
    ref,
  ]);
  const [id, digest, size] = stdout.trim().split(/\s+/);
  if (code !== 0 || !id || !digest || !size) {
    throw new Error(`image ${ref} is not in the local container storage; build it with \`npm run image\``);
  }
  return { ref, id, digest, sizeBytes: Number(size) };
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
