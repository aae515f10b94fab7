// Sums up a V8 heap snapshot (the .heapsnapshot JSON) by what holds the memory: self size by node
// type, objects by constructor name, strings by what they look like, and the strings that are
// held in most copies (equal values of up to 200 characters not shared). Self sizes only: no dominator tree.
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
    node_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Bucket {
  count: number;
  mib: number;
}

const STRING_KINDS: Array<[string, RegExp]> = [
  ['uid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/],
  ['number-like (resourceVersion, quantity)', /^[0-9.]+[A-Za-z]{0,2}$/],
  ['timestamp', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/],
  ['metrics text', /^(# (HELP|TYPE) )?[a-z_]+(\{[^}]*\})? /],
  ['JSON text', /^[[{]"/],
  ['tenant-named (contains a tenant name)', /heap-\d+/],
];

function stringKind(value: string): string {
  for (const [kind, pattern] of STRING_KINDS) if (pattern.test(value)) return kind;
  return 'other';
}

/** Count and self size in bytes, per key. */
type Tally = Map<string, { count: number; bytes: number }>;

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 100) / 100;

function top(map: Tally, n: number): Record<string, Bucket> {
  return Object.fromEntries(
    [...map.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, n)
      .map(([k, v]) => [k, { count: v.count, mib: mib(v.bytes) }]),
  );
}

function add(map: Tally, key: string, bytes: number): void {
  const b = map.get(key);
  if (b) {
    b.count++;
    b.bytes += bytes;
  } else map.set(key, { count: 1, bytes });
}

export async function summarizeSnapshot(path: string) {
  const snap = JSON.parse(await readFile(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const TYPE = fields.indexOf('type');
  const NAME = fields.indexOf('name');
  const SIZE = fields.indexOf('self_size');
  const EDGES = fields.indexOf('edge_count');
  const edgeFields = snap.snapshot.meta.edge_fields;
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const edgeWidth = edgeFields.length;
  const EDGE_TYPE = edgeFields.indexOf('type');
  const EDGE_NAME = edgeFields.indexOf('name_or_index');
  const propertyType = edgeTypes.indexOf('property');
  const byType: Tally = new Map();
  const objects: Tally = new Map();
  const shapes: Tally = new Map();
  const strings: Tally = new Map();
  const copies: Tally = new Map();
  let total = 0;
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + TYPE]!]!;
    const name = snap.strings[snap.nodes[i + NAME]!]!;
    const size = snap.nodes[i + SIZE]!;
    total += size;
    add(byType, type, size);
    const edgeCount = snap.nodes[i + EDGES]!;
    if (type === 'object' && name === 'Object') {
      // A plain object is known by its first property names (metadata, a condition, a container…).
      const keys: string[] = [];
      for (let e = edge; e < edge + edgeCount * edgeWidth && keys.length < 4; e += edgeWidth)
        if (snap.edges[e + EDGE_TYPE] === propertyType) keys.push(snap.strings[snap.edges[e + EDGE_NAME]!]!);
      add(shapes, `{${keys.join(', ')}}`, size);
    }
    edge += edgeCount * edgeWidth;
    if (type === 'object' || type === 'closure' || type === 'array' || type === 'native' || type === 'hidden')
      add(objects, `${type} ${name.slice(0, 60)}`, size);
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
      add(strings, stringKind(name), size);
      if (type === 'string' && name.length <= 200) add(copies, name, size);
    }
  }
  for (const [k, v] of copies) if (v.count < 2) copies.delete(k);
  return {
    snapshot: path,
    selfTotalMiB: mib(total),
    byType: top(byType, 20),
    objectsByConstructor: top(objects, 30),
    plainObjectsByFirstKeys: top(shapes, 30),
    stringsByKind: top(strings, 10),
    mostCopiedStrings: top(copies, 25),
  };
}
