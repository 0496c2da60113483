// The pool as it changes: the server's WebSockets /ws/events and /ws/metrics through Envoy (one
// JSON message per frame, the same as EventService sends over gRPC). A browser cannot put headers
// on a WebSocket, so the credential rides in the query, as the server allows (api/live.py).

import type { Credential } from "./api/client";

/** One event (EventService.WatchEvents): the first of every stream is "events.subscribed". */
export interface PoolEvent {
  type: string;
  at: string;
  participant_id?: number;
  data?: Record<string, unknown>; // absent when empty (events.subscribed)
}

/** One worker's latest figures in a metrics snapshot. */
export interface WorkerFigures {
  worker_id: number;
  participant_id: number;
  status: string;
  gpu_utilization?: number;
  gpu_memory_used_gb?: number;
  gpu_temperature_celsius?: number;
  gpu_power_watts?: number;
  revenue_nanoton: string;
}

/** A snapshot of the pool (EventService.WatchPoolMetrics), every `interval` seconds. */
export interface PoolMetrics {
  at: string;
  workers_active: number;
  workers_healthy: number;
  gpu_utilization_mean?: number;
  active_jobs: Record<string, string>;
  registered_miners: number;
  workers: WorkerFigures[];
}

export type FeedState = "connecting" | "live" | "reconnecting" | "refused";

/** Close codes after which trying again cannot help (api/live.py): a bad parameter, a refused credential. */
const FINAL_CLOSE_CODES = new Set([4400, 4401]);

/** The socket URL on this page's origin, with the credential and parameters in the query. */
export function liveUrl(origin: string, path: string, credential: Credential,
                        parameters: Record<string, string> = {}): string {
  const url = new URL(path, origin.replace(/^http/, "ws"));
  url.searchParams.set(credential.kind === "session" ? "session_token" : "api_key", credential.secret);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.toString();
}

/** Seconds to wait before reconnect attempt `attempt` (0-based): 0.5 s doubling, at most 30 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(30, 0.5 * 2 ** attempt);
}

/** A socket kept open: reconnects after a drop (with backoff) until stopped or finally refused. */
export class LiveFeed<T> {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly url: string, private readonly onMessage: (message: T) => void,
              private readonly onState: (state: FeedState, reason?: string) => void) {}

  start(): this {
    this.stopped = false;
    this.open();
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, "page closed");
    this.socket = null;
  }

  private open(): void {
    this.onState(this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.onState("live");
    };
    socket.onmessage = (event) => this.onMessage(JSON.parse(String(event.data)) as T);
    socket.onclose = (event) => {
      if (this.stopped || socket !== this.socket) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.onState("refused", event.reason || `closed with code ${event.code}`);
        return;
      }
      this.onState("reconnecting", event.reason || undefined);
      this.timer = setTimeout(() => this.open(), reconnectDelay(this.attempt++) * 1000);
    };
  }
}

/** One line for the activity feed, in words. */
export function describe(event: PoolEvent): string {
  const d = event.data ?? {};
  switch (event.type) {
    case "events.subscribed":
      return "Live feed connected";
    case "events.lost":
      return `Missed ${d.count} events (the feed fell behind): figures are being re-read`;
    case "worker.status_changed":
      return `Worker ${d.worker_id}: ${d.old} → ${d.new}${d.reason === "silent" ? " (no heartbeat)" : ""}`;
    case "worker.metrics": {
      const gpu = typeof d.gpu_utilization === "number" ? `, GPU ${d.gpu_utilization.toFixed(1)} %` : "";
      return `Worker ${d.worker_id} heartbeat: ${d.status}${gpu}, ${d.running_jobs ?? 0} jobs running`;
    }
    case "job.status_changed":
      return `Job ${String(d.job_id).slice(0, 8)}… (${d.job_type}): ${d.status}`;
    case "miner.registered":
      return `Miner registered worker ${d.worker_id} (${d.worker_name} #${d.instance_number})`;
    default:
      return event.type;
  }
}
