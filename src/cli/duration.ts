/** Go-style durations for flags ("90s", "10m", "1h30m", "500ms"), as Kubernetes tooling spells them. */

export class InvalidDurationError extends Error {
  constructor(flag: string, value: string) {
    super(`${flag}: "${value}" is not a duration; use a number with a unit, e.g. 30s, 10m or 1h`);
    this.name = 'InvalidDurationError';
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(flag: string, value: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value)
    throw new InvalidDurationError(flag, value);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * UNITS[unit!]!, 0);
}
