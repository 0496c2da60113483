import { describe, expect, it } from "vitest";
import { daily, earningNow, firstDay, rolling, type EarningEntry } from "../src/windows";

const now = new Date("2025-03-10T12:00:00Z");
const entry = (minutesAgo: number, amount: number, reason = "earning"): EarningEntry => ({
  reason, amount_nanoton: String(amount), created_at: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
});

describe("rolling windows", () => {
  const entries = [entry(5, 100), entry(30, 5, "reserve"), entry(59, 20), entry(61, 1000), entry(60 * 23, 7), entry(60 * 25, 9)];

  it("sums the earnings inside the window, newest first, and counts each as a job", () => {
    expect(rolling(entries, now, 1, false)).toEqual({ label: "last hour", nanoton: 120n, jobs: 2, complete: true });
    expect(rolling(entries, now, 24, false)).toEqual({ label: "last 24 h", nanoton: 1127n, jobs: 4, complete: true });
  });
  it("says 'at least' when the entries read stop inside the window", () => {
    const partial = entries.slice(0, 3);
    expect(rolling(partial, now, 24, false).complete).toBe(false);
    expect(rolling(partial, now, 24, true).complete).toBe(true); // the list ended: nothing older exists
  });
  it("is not earning with nothing in the last hour", () => {
    expect(earningNow(rolling([entry(90, 5)], now, 1, true))).toBe(false);
    expect(earningNow(rolling(entries, now, 1, true))).toBe(true);
  });
});

describe("daily windows", () => {
  it("counts whole UTC days, today included", () => {
    expect(firstDay(now, 7)).toBe("2025-03-04");
    expect(firstDay(now, 30)).toBe("2025-02-09");
    expect(firstDay(new Date("2025-03-01T00:30:00Z"), 2)).toBe("2025-02-28");
    const days = [
      { date: "2025-03-10", earning_nanoton: "10", jobs: 1 },
      { date: "2025-03-04", earning_nanoton: "20", jobs: 2 },
      { date: "2025-03-03", earning_nanoton: "40", jobs: 4 },
      { date: "2025-02-08", earning_nanoton: "80", jobs: 8 }, // the day before the 30 days
    ];
    expect(daily(days, now, 7)).toMatchObject({ nanoton: 30n, jobs: 3 });
    expect(daily(days, now, 30)).toMatchObject({ nanoton: 70n, jobs: 7, label: "last 30 days, UTC, today included" });
  });
});
