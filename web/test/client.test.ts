import { describe, expect, it } from "vitest";
import { refusal } from "../src/api/client";
import { attachmentName } from "../src/pages/payouts";
import { parseParameters } from "../src/pages/jobs";

describe("refusal", () => {
  it("carries the server's reason and message, and the fields it names", () => {
    const error = refusal(422, { detail: "invalid request", error: { code: "VALIDATION_ERROR", message: "invalid request",
      details: { field_violations: [{ field: "hours", description: "must be 1-720" }] } } });
    expect([error.status, error.code, error.message]).toEqual([422, "VALIDATION_ERROR", "invalid request (hours: must be 1-720)"]);
  });
  it("does not repeat a field the message already names", () => {
    const error = refusal(422, { error: { code: "VALIDATION_ERROR", message: "price_coefficient: has more than 6 decimals",
      details: { field_violations: [{ field: "price_coefficient", description: "has more than 6 decimals" }] } } });
    expect(error.message).toBe("price_coefficient: has more than 6 decimals");
  });
  it("shows a body that is not the API's error shape as it came", () => {
    expect(refusal(429, "local_rate_limited").message).toBe("local_rate_limited");
    expect(refusal(502, "").message).toBe("the server answered HTTP 502");
    expect(refusal(404, { detail: "participant 9 not found" }).code).toBe("HTTP_404");
  });
});

describe("page helpers", () => {
  it("takes the file name from Content-Disposition", () => {
    expect(attachmentName('attachment; filename="tax-report-1-2025.csv"', "x.csv")).toBe("tax-report-1-2025.csv");
    expect(attachmentName(null, "x.csv")).toBe("x.csv");
  });
  it("accepts job parameters only as a JSON object", () => {
    expect(parseParameters('{"prompt": "hi"}')).toEqual({ value: { prompt: "hi" } });
    expect(parseParameters("")).toEqual({ value: {} });
    expect(parseParameters("[1]").problem).toBe("parameters must be a JSON object");
    expect(parseParameters("{").problem).toMatch(/^parameters are not JSON/);
  });
});
