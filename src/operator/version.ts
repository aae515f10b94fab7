/** The operator's version, as in package.json (read once; the image ships package.json beside dist/). */
import { readFileSync } from 'node:fs';

export const OPERATOR_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
