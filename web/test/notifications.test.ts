import { describe, expect, it } from "vitest";
import { alertSettingsBody, RULES } from "../src/pages/notifications";

describe("alertSettingsBody", () => {
  it("sends the rules switched on with their thresholds and channels, and the channels in use", () => {
    const body = alertSettingsBody(
      [{ kind: "worker_offline", on: true, threshold: "12.5", channels: ["webhook", "email"] },
       { kind: "payout", on: false, threshold: "0", channels: ["webhook"] }],
      [{ kind: "webhook", on: true, webhookUrl: "https://hooks.example.org/x" },
       { kind: "telegram", on: false, webhookUrl: "" },
       { kind: "email", on: true, webhookUrl: "" }]);
    expect(body.rules).toEqual([{ kind: "worker_offline", threshold: 12.5, channels: ["webhook", "email"] }]);
    expect(body.channels.map((c) => [c.kind, c.enabled, c.webhook_url])).toEqual([
      ["webhook", true, "https://hooks.example.org/x"], ["email", true, ""]]);
  });
  it("keeps a webhook switched off but still named, so its secret survives the save", () => {
    const body = alertSettingsBody([], [{ kind: "webhook", on: false, webhookUrl: "https://hooks.example.org/x" }]);
    expect(body.channels.map((c) => [c.kind, c.enabled])).toEqual([["webhook", false]]);
  });
  it("offers every rule the server knows, each with its unit", () => {
    expect(RULES.map((r) => r.kind)).toEqual(
      ["worker_offline", "worker_temperature", "worker_error_rate", "participant_silent", "payout"]);
    expect(RULES.find((r) => r.kind === "payout")?.unit).toBeNull();
  });
});
