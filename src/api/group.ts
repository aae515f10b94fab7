/** The API group and version of the project's custom objects. */
export const GROUP = 'neurallog.io';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;
