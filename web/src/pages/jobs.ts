// Jobs, as a client sees them: submit one, list them with their status, open one for its
// receipts, and verify a receipt against the coordinator's key.

import { api, call, type Schemas } from "../api/client";
import { cell, field, fill, h, message, table } from "../dom";
import { plural, statusLabel, ton, utc } from "../format";
import { errorText, type PageContext } from "../page";

const JOB_TYPES = ["llm_inference", "embedding", "echo"]; // the default price table; the server names the ones it takes
const STATUSES = ["", "pending", "running", "completed", "failed", "cancelled", "expired"];

/** The parameters text as a JSON object, or the reason it is not one. */
export function parseParameters(text: string): { value?: Record<string, unknown>; problem?: string } {
  try {
    const value: unknown = JSON.parse(text || "{}");
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { problem: "parameters must be a JSON object" };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { problem: `parameters are not JSON: ${(error as Error).message}` };
  }
}

async function receipts(job: Schemas["Job"], target: HTMLElement): Promise<void> {
  const [status, found] = await Promise.all([
    call(api.GET("/v1/client/jobs/{job_id}/status", { params: { path: { job_id: job.id } } })),
    call(api.GET("/v1/client/jobs/{job_id}/receipts", { params: { path: { job_id: job.id } } })),
  ]);
  const rows = (found.receipts ?? []).map((receipt) => {
    const outcome = h("span", { role: "status" });
    const verify = h("button", { type: "button", class: "small", onclick: async () => {
      outcome.textContent = "checking…";
      try {
        const answer = await call(api.POST("/v1/receipts/verify", { body: { receipt: receipt as Schemas["ReceiptInput"] } }));
        outcome.textContent = answer.valid ? "valid: signed by this coordinator" : `not valid: ${answer.reason}`;
      } catch (error) {
        outcome.textContent = errorText(error);
      }
    } }, "Verify");
    return h("tr", {}, h("th", { scope: "row" }, receipt.id), cell(utc(receipt.created_at)), cell(`${receipt.units} units`),
      cell(ton(receipt.charge_nanoton)), cell(`worker ${receipt.worker_id}`), cell(verify, " ", outcome));
  });
  fill(target,
    h("h2", { id: "job-details", tabindex: -1 }, `Job ${job.id}`),
    h("dl", { class: "figures" },
      h("div", { class: "figure" }, h("dt", {}, "Status"), h("dd", { "data-testid": "job-status" }, statusLabel(status.status))),
      h("div", { class: "figure" }, h("dt", {}, "Attempts"), h("dd", {}, String(status.attempts))),
      h("div", { class: "figure" }, h("dt", {}, "Updated"), h("dd", {}, utc(status.updated_at)))),
    status.error_message ? message(status.error_message, "error") : null,
    rows.length ? table("Receipts", ["Receipt", "Issued", "Work", "Charged (TON)", "Ran on", "Signature"], rows)
                : h("p", {}, "No receipt yet: a job has one once it is completed."));
  target.querySelector<HTMLElement>("h2")?.focus();
}

export async function jobs(context: PageContext): Promise<void> {
  const { main } = context;
  const listing = h("div");
  const detail = h("section", { class: "details", "aria-live": "polite" });
  const statusFilter = h("select", {}, STATUSES.map((s) => h("option", { value: s }, s ? statusLabel(s) : "Any status")));

  const refresh = async () => {
    const found = await call(api.GET("/v1/client/jobs", {
      params: { query: { limit: 100, ...(statusFilter.value ? { status: statusFilter.value } : {}) } } }));
    const list = (found.jobs ?? []) as Schemas["Job"][];
    fill(listing, list.length
      ? table(`Your latest ${plural(list.length, "job")}, newest first`, ["Job", "Type", "Status", "Submitted", "Price (TON per unit)"],
          list.map((job) => h("tr", {},
            h("th", { scope: "row" }, h("button", { type: "button", class: "link", onclick: () =>
              receipts(job, detail).catch((error) => fill(detail, message(errorText(error), "error"))) }, job.id)),
            cell(job.job_type), cell(statusLabel(job.status)), cell(utc(job.created_at)), cell(ton(job.unit_price_nanoton)))))
      : h("p", {}, "No jobs yet."));
  };
  statusFilter.addEventListener("change", () => void refresh().catch(context.report));

  const jobType = h("input", { list: "job-types", required: true, value: "llm_inference" });
  const parameters = h("textarea", { rows: 4 }, '{"prompt": "Hello", "max_tokens": 64}');
  const priority = h("input", { type: "number", min: 0, max: 9, value: 0, class: "narrow" });
  const submitted = h("div");
  const form = h("form", {
    onsubmit: async (event: Event) => {
      event.preventDefault();
      const parsed = parseParameters(parameters.value);
      if (parsed.problem) {
        fill(submitted, message(parsed.problem, "error"));
        return;
      }
      try {
        const job = await call(api.POST("/v1/client/jobs", {
          body: { job_type: jobType.value.trim(), parameters: parsed.value as Schemas["SubmitJobRequest"]["parameters"], priority: Number(priority.value) } }));
        fill(submitted, message(`Submitted job ${job.id} (${job.status}).`, "success"));
        await refresh();
      } catch (error) {
        fill(submitted, message(errorText(error), "error"));
      }
    },
  },
    h("datalist", { id: "job-types" }, JOB_TYPES.map((t) => h("option", { value: t }))),
    field("Job type", jobType), field("Parameters (JSON object)", parameters),
    field("Priority", priority, "0 (normal) to 9 (first)"),
    h("button", { type: "submit" }, "Submit job"), submitted);

  main.append(
    h("section", { "aria-labelledby": "submit" }, h("h2", { id: "submit" }, "Submit a job"),
      h("p", {}, "A job is charged to your balance when it completes (units × the job type's price)."), form),
    h("section", { "aria-labelledby": "list" }, h("h2", { id: "list" }, "Your jobs"), field("Show", statusFilter), listing),
    detail);
  await refresh();
}
