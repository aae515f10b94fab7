/**
 * Kubernetes resource quantities ("500m", "1.5Gi", "2e3", 4).
 *
 * client-node's `quantityToScalar` rejects decimal values with binary suffixes ("1.5Gi"),
 * so the project parses the documented grammar itself.
 */

/** The API server's own grammar for a quantity (sign excluded: the operator never accepts negative amounts). */
export const QUANTITY_PATTERN =
  '^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

const QUANTITY_REGEX = new RegExp(QUANTITY_PATTERN);

const SUFFIX_MULTIPLIERS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export type Quantity = string | number;

export class InvalidQuantityError extends Error {
  readonly quantity: unknown;
  constructor(quantity: unknown) {
    super(
      `${JSON.stringify(quantity)} is not a Kubernetes quantity: use a non-negative number with an optional suffix, e.g. 500m, 2, 128Mi, 1Gi`,
    );
    this.name = 'InvalidQuantityError';
    this.quantity = quantity;
  }
}

export function isQuantity(value: unknown): value is Quantity {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0;
  return typeof value === 'string' && QUANTITY_REGEX.test(value);
}

/** The quantity in base units (cores for cpu, bytes for memory and storage). */
export function parseQuantity(value: Quantity): number {
  if (typeof value === 'number') {
    if (!isQuantity(value)) throw new InvalidQuantityError(value);
    return value;
  }
  if (!QUANTITY_REGEX.test(value)) throw new InvalidQuantityError(value);
  const match = /^([0-9.]+)(.*)$/.exec(value);
  const digits = match?.[1] ?? '';
  const suffix = match?.[2] ?? '';
  const base = Number(digits);
  if (/^[eE]/.test(suffix)) return tidy(base * 10 ** Number(suffix.slice(1)));
  const multiplier = SUFFIX_MULTIPLIERS[suffix];
  if (multiplier === undefined) throw new InvalidQuantityError(value);
  return tidy(base * multiplier);
}

/** Drops binary floating-point noise ("2.3000000000000003") from decimal amounts. */
function tidy(n: number): number {
  return Number(n.toPrecision(15));
}

/** Whole bytes, rounding up as the API server does for fractional byte amounts. */
export function quantityToBytes(value: Quantity): number {
  return Math.ceil(parseQuantity(value) - 1e-9);
}
