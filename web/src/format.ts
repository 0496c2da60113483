// How numbers are written: every figure with its unit; money exact (BigInt nanotons, never a float).

const NANO = 1_000_000_000n;

/** nanotons (an int64 as the API prints it: a decimal string) -> "1.5 TON", exact, no trailing zeros. */
export function ton(nanoton: string | number | bigint | undefined | null): string {
  if (nanoton === undefined || nanoton === null || nanoton === "") return "—";
  const value = BigInt(nanoton);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const whole = (magnitude / NANO).toLocaleString("en-US");
  const fraction = (magnitude % NANO).toString().padStart(9, "0").replace(/0+$/, "");
  return `${negative ? "−" : ""}${whole}${fraction ? "." + fraction : ""} TON`;
}

/** A decimal TON amount typed by a person -> nanotons, exactly; null when it is not one. */
export function parseTon(text: string): bigint | null {
  const match = /^\s*(\d+)(?:\.(\d{1,9}))?\s*$/.exec(text);
  if (!match) return null;
  return BigInt(match[1]) * NANO + BigInt((match[2] ?? "").padEnd(9, "0"));
}

function unit(value: number | null | undefined, suffix: string, digits: number): string {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : `${value.toFixed(digits)} ${suffix}`;
}

export const percent = (value: number | null | undefined) => unit(value, "%", 1);
export const gigabytes = (value: number | null | undefined) => unit(value, "GB", 1);
export const celsius = (value: number | null | undefined) => unit(value, "°C", 0);
export const watts = (value: number | null | undefined) => unit(value, "W", 0);
export const usd = (value: number | null | undefined) => unit(value, "USD", 2);

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago"; "never" without a time. */
export function ago(iso: string | undefined | null, now: Date = new Date()): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** An RFC 3339 time in UTC, to the second: "2025-01-15 10:30:00 UTC". */
export function utc(iso: string | undefined | null): string {
  if (!iso) return "—";
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** "healthy" -> "Healthy"; the worker statuses the API uses, written for people. */
export function statusLabel(status: string): string {
  return status ? status[0].toUpperCase() + status.slice(1) : "Unknown";
}

/** "1 job", "2 jobs". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
