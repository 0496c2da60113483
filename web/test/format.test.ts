import { describe, expect, it } from "vitest";
import { ago, parseTon, percent, plural, ton, utc } from "../src/format";

describe("ton", () => {
  it("writes nanotons exactly, without trailing zeros", () => {
    expect(ton("1500000000")).toBe("1.5 TON");
    expect(ton("500")).toBe("0.0000005 TON");
    expect(ton(0n)).toBe("0 TON");
    expect(ton("-2000000001")).toBe("−2.000000001 TON");
  });
  it("keeps amounts past a double's precision exact", () => {
    expect(ton("123456789012345678")).toBe("123,456,789.012345678 TON");
  });
  it("shows a missing amount as a dash", () => {
    expect(ton(undefined)).toBe("—");
  });
});

describe("parseTon", () => {
  it("reads decimal TON into nanotons", () => {
    expect(parseTon("1.5")).toBe(1_500_000_000n);
    expect(parseTon(" 0.000000001 ")).toBe(1n);
    expect(parseTon("0")).toBe(0n);
  });
  it("refuses what is not an amount with at most 9 decimals", () => {
    for (const text of ["", "1.0000000001", "-1", "1e9", "abc", "1,5"]) expect(parseTon(text)).toBeNull();
  });
});

describe("units and times", () => {
  it("gives every figure its unit, or a dash when unknown", () => {
    expect(percent(61.5)).toBe("61.5 %");
    expect(percent(null)).toBe("—");
  });
  it("says how long ago", () => {
    const now = new Date("2025-01-15T12:00:00Z");
    expect(ago("2025-01-15T11:59:48Z", now)).toBe("12 s ago");
    expect(ago("2025-01-15T11:57:00Z", now)).toBe("3 min ago");
    expect(ago("2025-01-15T09:00:00Z", now)).toBe("3 h ago");
    expect(ago("2025-01-11T12:00:00Z", now)).toBe("4 d ago");
    expect(ago(undefined, now)).toBe("never");
  });
  it("writes times in UTC to the second", () => {
    expect(utc("2025-01-15T10:30:00.123Z")).toBe("2025-01-15 10:30:00 UTC");
  });
  it("counts nouns", () => {
    expect(plural(1, "job")).toBe("1 job");
    expect(plural(0, "job")).toBe("0 jobs");
  });
});
