// "Is it alive, is it earning?" at a glance: the participant's workers right now (live), revenue
// and jobs over the last hour, 24 hours, 7 and 30 days, and the pool's activity as it happens.

import { api, call, type Schemas } from "../api/client";
import { figure, fill, h, table, cell } from "../dom";
import { plural, ton } from "../format";
import { describe, LiveFeed, liveUrl, type FeedState, type PoolEvent, type PoolMetrics } from "../live";
import type { PageContext } from "../page";
import { daily, earningNow, rolling, HOUR_MS, type WindowTotal } from "../windows";

const FEED_LENGTH = 50;
const MAX_PAGES = 5; // of 1,000 ledger entries, to sum the rolling 24 hours

async function recentEarnings(participantId: number, now: Date) {
  const entries: Schemas["BalanceChange"][] = [];
  let token = "";
  for (let page = 0; page < MAX_PAGES; page++) {
    const found = await call(api.GET("/api/v1/participants/{participant_id}/balance-changes", {
      params: { path: { participant_id: participantId }, query: { limit: 1000, ...(token ? { page_token: token } : {}) } },
    }));
    entries.push(...(found.changes ?? []));
    token = found.next_page_token ?? "";
    const oldest = entries.at(-1);
    if (!token || (oldest?.created_at && Date.parse(oldest.created_at) < now.getTime() - 24 * HOUR_MS)) break;
  }
  return { entries, exhausted: !token };
}

function windowRow(total: WindowTotal): HTMLTableRowElement {
  const atLeast = total.complete ? "" : "at least ";
  return h("tr", { "data-window": total.label },
    h("th", { scope: "row" }, total.label), cell(atLeast + ton(total.nanoton)), cell(atLeast + plural(total.jobs, "job")));
}

export async function overview(context: PageContext): Promise<void> {
  const { main, participantId, session } = context;
  const now = new Date();
  const rightNow = h("dl", { class: "figures", "aria-live": "polite" }, figure("Alive", "waiting for the live figures…"));
  const feedState = h("span", { class: "feed-state" }, "connecting…");
  const feed = h("ol", { class: "feed", "data-testid": "activity" });
  const windows = h("div");
  main.append(
    h("section", { "aria-labelledby": "now" }, h("h2", { id: "now" }, "Right now"), rightNow),
    h("section", { "aria-labelledby": "windows" }, h("h2", { id: "windows" }, "Revenue and jobs"), windows),
    h("section", { "aria-labelledby": "activity" },
      h("h2", { id: "activity" }, "Live activity ", feedState), feed));

  let lastHour: WindowTotal | null = null;
  if (participantId === null) {
    fill(windows, h("p", {}, "Choose a participant above to see its revenue."));
  } else {
    const [participant, recent, days] = await Promise.all([
      call(api.GET("/api/v1/participants/{participant_id}", { params: { path: { participant_id: participantId } } })),
      recentEarnings(participantId, now),
      call(api.GET("/api/v1/participants/{participant_id}/earnings/daily", {
        params: { path: { participant_id: participantId }, query: { days: 30 } } })),
    ]);
    lastHour = rolling(recent.entries, now, 1, recent.exhausted);
    const totals = [lastHour, rolling(recent.entries, now, 24, recent.exhausted),
                    daily(days.days ?? [], now, 7), daily(days.days ?? [], now, 30)];
    fill(windows,
      table(`Marketplace earnings of participant ${participantId}, as of ${now.toISOString().slice(11, 19)} UTC`,
            ["Window", "Earned (TON)", "Jobs paid"], totals.map(windowRow)),
      h("dl", { class: "figures" },
        figure("Owed to you now", ton(participant.owed_nanoton), "not yet in a payout"),
        figure("Earned ever", ton(participant.earned_nanoton), "all time"),
        figure("Workers", `${participant.active_workers} active of ${participant.total_workers}`, "now")));
  }

  const showMetrics = (metrics: PoolMetrics) => {
    const mine = metrics.workers.filter((w) => participantId === null || w.participant_id === participantId);
    const healthy = mine.filter((w) => w.status === "healthy").length;
    const at = `live, ${metrics.at.slice(11, 19)} UTC`;
    fill(rightNow,
      figure("Alive", healthy > 0 ? `Yes: ${healthy} of ${mine.length} workers healthy` : `No: 0 of ${mine.length} workers healthy`, at, "alive"),
      lastHour ? figure("Earning", earningNow(lastHour) ? `Yes: ${ton(lastHour.nanoton)}` : "No: nothing earned", "last hour", "earning") : null,
      figure("Active workers", String(mine.length), at),
      figure("Jobs running in the pool", String(Object.values(metrics.active_jobs).reduce((sum, n) => sum + Number(n), 0)), at),
      figure("Pool workers healthy", `${metrics.workers_healthy} of ${metrics.workers_active}`, at));
  };
  const stateText = (state: FeedState, reason?: string) => {
    feedState.textContent = state === "live" ? "(live)" : `(${state}${reason ? `: ${reason}` : ""})`;
    if (state === "refused") context.report(new Error(`The live feed was refused: ${reason}`));
  };
  const events = new LiveFeed<PoolEvent>(liveUrl(location.origin, "/ws/events", session.credential), (event) => {
    feed.prepend(h("li", {}, h("time", { datetime: event.at }, event.at.slice(11, 19)), " ", describe(event)));
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild!.remove();
  }, stateText).start();
  const metrics = new LiveFeed<PoolMetrics>(
    liveUrl(location.origin, "/ws/metrics", session.credential, { interval: "5" }), showMetrics, () => undefined).start();
  context.onLeave(() => {
    events.stop();
    metrics.stop();
  });
}
