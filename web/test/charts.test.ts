import { describe, expect, it } from "vitest";
import { linePath, niceTop } from "../src/charts";

describe("linePath", () => {
  it("places time across and value up, and breaks at a missing sample", () => {
    const points = [{ at: 0, value: 0 }, { at: 50, value: 50 }, null, { at: 100, value: 100 }];
    expect(linePath(points, 0, 100, 100, 200, 100)).toBe("M0.0,100.0L100.0,50.0M200.0,0.0");
  });
  it("clamps values to the chart", () => {
    expect(linePath([{ at: 0, value: 150 }, { at: 10, value: -5 }], 0, 10, 100, 10, 10)).toBe("M0.0,0.0L10.0,10.0");
  });
});

describe("niceTop", () => {
  it("rounds the largest value up; percentages top at 100", () => {
    expect(niceTop([12.5, 40.5], false)).toBe(50);
    expect(niceTop([310], false)).toBe(400);
    expect(niceTop([], false)).toBe(1);
    expect(niceTop([5], true)).toBe(100);
  });
});
