import { describe, expect, it } from "vitest";
import { describe as describeEvent, liveUrl, reconnectDelay } from "../src/live";

describe("liveUrl", () => {
  it("opens a WebSocket on the page's origin with the credential in the query", () => {
    expect(liveUrl("https://pool.example:8443", "/ws/events", { kind: "session", secret: "cps_a+b" }, { types: "worker.metrics" }))
      .toBe("wss://pool.example:8443/ws/events?session_token=cps_a%2Bb&types=worker.metrics");
    expect(liveUrl("http://localhost:8000", "/ws/metrics", { kind: "apiKey", secret: "k" }, { interval: "5" }))
      .toBe("ws://localhost:8000/ws/metrics?api_key=k&interval=5");
  });
});

describe("reconnectDelay", () => {
  it("doubles from half a second up to 30 s", () => {
    expect([0, 1, 2, 5, 6, 20].map(reconnectDelay)).toEqual([0.5, 1, 2, 16, 30, 30]);
  });
});

describe("event lines", () => {
  const at = "2025-01-15T10:30:00Z";
  it("says what happened in words", () => {
    expect(describeEvent({ type: "events.subscribed", at })).toBe("Live feed connected");
    expect(describeEvent({ type: "worker.status_changed", at, data: { worker_id: 3, old: "healthy", new: "offline", reason: "silent" } }))
      .toBe("Worker 3: healthy → offline (no heartbeat)");
    expect(describeEvent({ type: "worker.metrics", at, data: { worker_id: 3, status: "healthy", gpu_utilization: 61.5, running_jobs: 2 } }))
      .toBe("Worker 3 heartbeat: healthy, GPU 61.5 %, 2 jobs running");
    expect(describeEvent({ type: "worker.metrics", at, data: { worker_id: 3, status: "healthy", gpu_utilization: null, running_jobs: 0 } }))
      .toBe("Worker 3 heartbeat: healthy, 0 jobs running");
    expect(describeEvent({ type: "something.new", at })).toBe("something.new");
  });
});
