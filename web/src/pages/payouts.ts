// What the pool owes the participant and what it has paid: the balance, the history, the
// summary by month, and the yearly tax report as the API makes it (CSV).

import { api, call } from "../api/client";
import { cell, field, figure, fill, h, message, table } from "../dom";
import { plural, statusLabel, ton, usd, utc } from "../format";
import type { PageContext } from "../page";

/** The file name a Content-Disposition header gives, or `fallback`. */
export function attachmentName(header: string | null, fallback: string): string {
  const match = /filename="?([^";]+)"?/i.exec(header ?? "");
  return match ? match[1] : fallback;
}

async function downloadTaxReport(participantId: number, year: number, status: HTMLElement): Promise<void> {
  const outcome = await api.GET("/api/v1/payouts/export/tax-report", {
    params: { query: { participant_id: participantId, year } }, parseAs: "blob" });
  const blob = await call(Promise.resolve(outcome));
  const name = attachmentName(outcome.response.headers.get("Content-Disposition"), `tax-report-${participantId}-${year}.csv`);
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  fill(status, message(`Downloaded ${name} (${blob.size} bytes).`, "success"));
}

export async function payouts(context: PageContext): Promise<void> {
  const { main, participantId } = context;
  if (participantId === null) {
    main.append(h("p", {}, "Choose a participant above to see its payouts."));
    return;
  }
  const [participant, summary, list] = await Promise.all([
    call(api.GET("/api/v1/participants/{participant_id}", { params: { path: { participant_id: participantId } } })),
    call(api.GET("/api/v1/payouts/participant/{participant_id}/summary", { params: { path: { participant_id: participantId } } })),
    call(api.GET("/api/v1/payouts", { params: { query: { participant_id: participantId, limit: 100 } } })),
  ]);
  const thisYear = new Date().getUTCFullYear();
  const year = h("select", {}, Array.from({ length: 6 }, (_, i) => h("option", { value: thisYear - i }, String(thisYear - i))));
  const downloaded = h("div");
  const taxForm = h("form", {
    onsubmit: (event: Event) => {
      event.preventDefault();
      downloadTaxReport(participantId, Number(year.value), downloaded).catch((error) => context.report(error));
    },
  }, field("Tax year", year, "Payouts by transaction time, in UTC"), h("button", { type: "submit", "data-testid": "tax-report" }, "Download tax report (CSV)"), downloaded);

  main.append(
    h("section", { "aria-labelledby": "owed" }, h("h2", { id: "owed" }, "Balance"),
      h("dl", { class: "figures" },
        figure("Owed to you", ton(participant.owed_nanoton), "now, not yet in a payout", "owed"),
        figure("Reserved by payouts in flight", ton(participant.reserved_nanoton), "now"),
        figure("Paid by payout runs", ton(participant.paid_nanoton), "all time"),
        figure("Paid when owed reaches", ton(participant.payout_threshold_nanoton), "your threshold (Account page)"))),
    h("section", { "aria-labelledby": "summary" }, h("h2", { id: "summary" }, "Summary"),
      h("dl", { class: "figures" },
        figure("Payouts", String(summary.total_payouts), "all time"),
        figure("Total paid", ton(summary.total_nanoton), "all time"),
        figure("Total paid in USD", usd(summary.total_usd), "all time, at each payout's rate"),
        figure("First and last", `${utc(summary.first_payout_at)} – ${utc(summary.last_payout_at)}`)),
      (summary.by_month ?? []).length
        ? table("By month (UTC)", ["Month", "Payouts", "TON", "USD"], (summary.by_month ?? []).map((month) =>
            h("tr", {}, h("th", { scope: "row" }, month.month), cell(String(month.count)), cell(ton(month.total_nanoton)), cell(usd(month.total_usd)))))
        : null),
    h("section", { "aria-labelledby": "history" }, h("h2", { id: "history" }, "History"),
      list.length
        ? h("div", { class: "scroll" }, table(`The latest ${plural(list.length, "payout")}, newest first`,
            ["Transaction time (UTC)", "Amount (TON)", "Amount (USD)", "Status", "Period (UTC)", "Transaction"],
            list.map((payout) => h("tr", {},
              h("th", { scope: "row" }, utc(payout.transaction_time)), cell(ton(payout.amount_nanoton)), cell(usd(payout.amount_usd)),
              cell(statusLabel(payout.status)), cell(`${utc(payout.period_start)} – ${utc(payout.period_end)}`),
              cell(h("code", { title: payout.transaction_hash }, payout.transaction_hash ? `${payout.transaction_hash.slice(0, 12)}…` : "not sent yet"))))))
        : message("No payouts yet.")),
    h("section", { "aria-labelledby": "tax" }, h("h2", { id: "tax" }, "Tax report"),
      h("p", {}, "One CSV per year: every payout with its date, amount in TON and USD, and transaction."), taxForm));
}
