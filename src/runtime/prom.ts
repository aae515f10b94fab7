/**
 * prom-client's Registry, Counter, Gauge and Histogram, loaded from their own modules rather than
 * from the package index. The index also loads the default process metrics, Summary, the push
 * gateway and the cluster aggregator: about 17 MiB of resident memory at start-up that the
 * operator has no use for (docs/design.md, "Idle memory"). The types are the package's own, and
 * prom.test.ts checks these are the very classes the index exports.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = load('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = load('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = load('prom-client/lib/histogram') as typeof PromClient.Histogram;

export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
