// Revenue and jobs over the overview's windows, from what the API returns: the last hour and the
// last 24 hours are rolling windows summed from the ledger's earning entries (each is one paid
// job); 7 and 30 days are whole UTC days from the daily earnings (today included), because a
// rolling month of entries could be too many to read page by page.

export interface EarningEntry {
  reason: string;
  amount_nanoton: string;
  created_at?: string; // RFC 3339; always set by the server (the schema marks timestamps optional)
}

const time = (entry: EarningEntry) => (entry.created_at ? Date.parse(entry.created_at) : 0);

export interface EarningDay {
  date: string; // YYYY-MM-DD, UTC
  earning_nanoton: string;
  jobs: number;
}

export interface WindowTotal {
  label: string; // the window, as the page writes it
  nanoton: bigint;
  jobs: number;
  complete: boolean; // false: the entries read did not reach back to the window's start (an "at least")
}

export const HOUR_MS = 3_600_000;

/** Earnings (reason "earning") in the `hours` before `now`. `entries` are newest first, as the API
 * lists them; `exhausted` says the list ended (no older entries exist). */
export function rolling(entries: EarningEntry[], now: Date, hours: number, exhausted: boolean): WindowTotal {
  const start = now.getTime() - hours * HOUR_MS;
  let nanoton = 0n;
  let jobs = 0;
  for (const entry of entries) {
    if (time(entry) < start) break;
    if (entry.reason !== "earning") continue;
    nanoton += BigInt(entry.amount_nanoton);
    jobs += 1;
  }
  const oldest = entries.at(-1);
  const reached = exhausted || (oldest !== undefined && time(oldest) < start);
  return { label: hours === 1 ? "last hour" : `last ${hours} h`, nanoton, jobs, complete: reached };
}

/** The UTC date `days - 1` days before `now`'s: the first day of a window of `days` days. */
export function firstDay(now: Date, days: number): string {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  return start.toISOString().slice(0, 10);
}

/** Earnings of the last `days` UTC days, today included. */
export function daily(days: EarningDay[], now: Date, count: number): WindowTotal {
  const from = firstDay(now, count);
  let nanoton = 0n;
  let jobs = 0;
  for (const day of days) {
    if (day.date < from) continue;
    nanoton += BigInt(day.earning_nanoton);
    jobs += day.jobs;
  }
  return { label: `last ${count} days, UTC, today included`, nanoton, jobs, complete: true };
}

/** Whether the pool is earning right now: anything earned in the last hour. */
export function earningNow(lastHour: WindowTotal): boolean {
  return lastHour.nanoton > 0n;
}
