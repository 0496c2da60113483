// The participant's workers: status and GPU figures kept live from the event stream (each
// heartbeat), the price coefficient and active flag editable, and per worker its aggregates and
// charts over the stored samples.

import { api, call, type Schemas } from "../api/client";
import { lineChart, type Point } from "../charts";
import { cell, field, fill, h, message, table } from "../dom";
import { ago, celsius, gigabytes, percent, plural, statusLabel, ton, watts } from "../format";
import { LiveFeed, liveUrl, type PoolEvent } from "../live";
import { errorText, type PageContext } from "../page";

type Worker = Schemas["Worker"];
const WINDOWS = [[1, "1 hour"], [24, "24 hours"], [168, "7 days"], [720, "30 days"]] as const;

/** The figures of a worker.metrics event written into its row (null: the miner sent none). */
function liveFigures(row: HTMLTableRowElement, data: Record<string, unknown>, at: string): void {
  const number = (name: string) => (typeof data[name] === "number" ? (data[name] as number) : null);
  const set = (column: string, text: string) => {
    const target = row.querySelector<HTMLElement>(`[data-column="${column}"]`);
    if (target) target.textContent = text;
  };
  set("status", statusLabel(String(data.status)));
  row.dataset.status = String(data.status);
  set("gpu", percent(number("gpu_utilization")));
  set("memory", gigabytes(number("gpu_memory_used_gb")));
  set("temperature", celsius(number("gpu_temperature_celsius")));
  set("power", watts(number("gpu_power_watts")));
  const seen = row.querySelector("time");
  if (seen) {
    seen.dateTime = at;
    seen.textContent = ago(at);
  }
}

function workerRow(worker: Worker, context: PageContext, select: (worker: Worker) => void): HTMLTableRowElement {
  const reported = worker.latest_gpu_reported;
  const name = `${worker.worker_name} #${worker.instance_number}`;
  const coefficient = h("input", { type: "number", min: 0.000001, max: 1000, step: "any", value: worker.price_coefficient,
                                   class: "narrow", "aria-label": `Price coefficient of ${name}` });
  const saved = h("span", { class: "saved", role: "status" });
  const active = h("input", { type: "checkbox", checked: worker.is_active, "aria-label": `${name} active in the pool` });
  let stored = { price: worker.price_coefficient, active: worker.is_active }; // as the server has it
  const update = async (body: { is_active?: boolean; price_coefficient?: number }) => {
    saved.textContent = "saving…";
    try {
      const changed = await call(api.PATCH("/api/v1/workers/{worker_id}", { params: { path: { worker_id: worker.id } }, body }));
      stored = { price: changed.price_coefficient, active: changed.is_active };
      saved.textContent = "saved";
    } catch (error) {
      saved.textContent = "not saved";
      context.report(error);
    }
    coefficient.value = String(stored.price);
    active.checked = stored.active;
  };
  active.addEventListener("change", () => void update({ is_active: active.checked }));
  const priceForm = h("form", {
    class: "inline",
    onsubmit: (event: Event) => {
      event.preventDefault();
      void update({ price_coefficient: Number(coefficient.value) });
    },
  }, coefficient, h("button", { type: "submit", class: "small" }, "Save"), saved);
  return h("tr", { "data-worker-id": worker.id, "data-status": worker.latest_status },
    h("th", { scope: "row" }, h("button", { type: "button", class: "link", onclick: () => select(worker) }, name)),
    h("td", { "data-column": "status" }, statusLabel(worker.latest_status)),
    h("td", { "data-column": "gpu" }, reported ? percent(worker.latest_gpu_utilization) : "—"),
    h("td", { "data-column": "memory" }, reported ? gigabytes(worker.latest_gpu_memory_used_gb) : "—"),
    h("td", { "data-column": "temperature" }, reported ? celsius(worker.latest_gpu_temperature_celsius) : "—"),
    h("td", { "data-column": "power" }, watts(worker.latest_gpu_power_watts)),
    cell(ton(worker.latest_revenue_nanoton)),
    cell(h("time", { datetime: worker.latest_seen_at ?? "" }, ago(worker.latest_seen_at))),
    cell(priceForm),
    cell(active));
}

async function details(worker: Worker, target: HTMLElement, hours: number): Promise<void> {
  const [stats, metrics] = await Promise.all([
    call(api.GET("/api/v1/workers/{worker_id}/stats", { params: { path: { worker_id: worker.id } } })),
    call(api.GET("/api/v1/workers/{worker_id}/metrics", { params: { path: { worker_id: worker.id }, query: { hours } } })),
  ]);
  const windows = [stats.last_24h, stats.last_7d, stats.last_30d].filter((w) => w !== undefined);
  const to = Date.now(), from = to - hours * 3_600_000;
  const series = (pick: (sample: Schemas["WorkerSample"]) => number | undefined): (Point | null)[] =>
    (metrics.samples ?? []).map((sample) => {
      const value = pick(sample);
      return value === undefined || value === null ? null : { at: new Date(sample.sampled_at!).getTime(), value };
    });
  const chooser = h("select", {}, WINDOWS.map(([value, label]) =>
    h("option", { value, selected: value === hours }, `last ${label}`)));
  chooser.addEventListener("change", () => void details(worker, target, Number(chooser.value)));
  fill(target,
    h("h2", { id: "worker-details", tabindex: -1 }, `${worker.worker_name} #${worker.instance_number}`),
    table("Aggregates over the stored samples", ["Window", "Samples", "Uptime", "Average GPU", "Peak GPU", "Requests", "Errors", "Revenue"],
      windows.map((w) => h("tr", {},
        h("th", { scope: "row" }, w.hours === 24 ? "last 24 h" : `last ${w.hours / 24} days`),
        cell(String(w.samples)), cell(percent(w.uptime_ratio * 100)), cell(percent(w.avg_gpu_utilization)),
        cell(percent(w.peak_gpu_utilization)), cell(`${w.requests} requests`), cell(`${w.errors} errors`), cell(ton(w.revenue_nanoton))))),
    field("Chart window", chooser),
    h("p", {}, `${plural(metrics.samples?.length ?? 0, "sample")} in the last ${hours} h (at most one a minute is kept).`),
    h("div", { class: "charts" },
      h("figure", {}, h("figcaption", {}, `GPU utilisation, % (last ${hours} h)`),
        lineChart("GPU utilisation", "%", series((s) => s.gpu_utilization), from, to, true)),
      h("figure", {}, h("figcaption", {}, `GPU memory in use, GB (last ${hours} h)`),
        lineChart("GPU memory", "GB", series((s) => s.gpu_memory_used_gb), from, to)),
      h("figure", {}, h("figcaption", {}, `GPU temperature, °C (last ${hours} h)`),
        lineChart("GPU temperature", "°C", series((s) => s.gpu_temperature_celsius), from, to))));
}

export async function workers(context: PageContext): Promise<void> {
  const { main, participantId, session } = context;
  const list = await call(api.GET("/api/v1/workers", {
    params: { query: { limit: 1000, ...(participantId !== null ? { participant_id: participantId } : {}) } } }));
  const detail = h("section", { "aria-live": "polite", class: "details" });
  const select = (worker: Worker) => {
    fill(detail, message("Loading…"));
    details(worker, detail, 24).then(() => detail.querySelector<HTMLElement>("h2")?.focus(),
      (error) => fill(detail, message(errorText(error), "error")));
  };
  const rows = list.map((worker) => workerRow(worker, context, select));
  const byId = new Map(rows.map((row, index) => [list[index].id, row]));
  const state = h("span", { class: "feed-state", "data-testid": "workers-feed" }, "(connecting…)");
  main.append(
    h("p", {}, "Figures are each worker's latest heartbeat; they change here as heartbeats arrive. ", state),
    list.length
      ? h("div", { class: "scroll" }, table(plural(list.length, "worker"),
          ["Worker", "Status", "GPU utilisation (%)", "GPU memory (GB)", "GPU temperature (°C)", "GPU power (W)",
           "Revenue (TON, latest sample)", "Last heartbeat", "Price coefficient (× price table)", "Active"], rows))
      : h("p", {}, "No workers yet: register a miner with this wallet (see the README, “Running a miner”)."),
    detail);

  const feed = new LiveFeed<PoolEvent>(
    liveUrl(location.origin, "/ws/events", session.credential, { types: "worker.metrics,worker.status_changed" }),
    (event) => {
      const data = event.data ?? {};
      const row = byId.get(Number(data.worker_id));
      if (!row) return;
      if (event.type === "worker.metrics") liveFigures(row, data, event.at);
      else if (event.type === "worker.status_changed") {
        row.dataset.status = String(data.new);
        const status = row.querySelector('[data-column="status"]');
        if (status) status.textContent = statusLabel(String(data.new));
      }
    },
    (feedState, reason) => {
      state.textContent = feedState === "live" ? "(live)" : `(${feedState}${reason ? `: ${reason}` : ""})`;
      if (feedState === "refused") context.report(new Error(`The live feed was refused: ${reason}`));
    }).start();
  const clock = setInterval(() => main.querySelectorAll<HTMLTimeElement>("td time").forEach((time) => {
    if (time.dateTime) time.textContent = ago(time.dateTime);
  }), 5000);
  context.onLeave(() => {
    feed.stop();
    clearInterval(clock);
  });
}
