// Percentiles (nearest rank) and small formatting helpers for benchmark summaries.

export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export function percentile(sortedValues: readonly number[], p: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedValues.length);
  return sortedValues[Math.min(sortedValues.length, Math.max(1, rank)) - 1]!;
}

export function distribution(values: readonly number[], digits = 3): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const round = (x: number) => Number(x.toFixed(digits));
  return {
    n: s.length,
    min: round(s[0] ?? Number.NaN),
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    max: round(s[s.length - 1] ?? Number.NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)),
  };
}

export function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}
