// The account page's notifications: which changes the participant hears of (alert rules) and
// where (webhook, Telegram, e-mail), the incidents still open and the delivery log. Saving sends
// the whole form (PUT /api/v1/participants/{id}/alerts); a refusal shows the server's message.

import { api, call, type Schemas } from "../api/client";
import { cell, field, fill, h, message, table } from "../dom";
import { utc } from "../format";
import { errorText } from "../page";

const CHANNELS = ["webhook", "telegram", "email"] as const;
type Channel = (typeof CHANNELS)[number];

/** Each rule kind: what it watches, and its threshold's unit (null: it has none). */
export const RULES: { kind: string; label: string; unit: string | null; initial: number }[] = [
  { kind: "worker_offline", label: "A worker goes unheard of", unit: "minutes", initial: 10 },
  { kind: "worker_temperature", label: "A GPU runs hot", unit: "°C", initial: 85 },
  { kind: "worker_error_rate", label: "A worker's errors exceed (last 15 minutes)", unit: "% of requests", initial: 5 },
  { kind: "participant_silent", label: "None of my workers is heard of", unit: "minutes", initial: 30 },
  { kind: "payout", label: "A payout is sent or fails", unit: null, initial: 0 },
];

export interface RuleChoice { kind: string; on: boolean; threshold: string; channels: Channel[] }
export interface ChannelChoice { kind: Channel; on: boolean; webhookUrl: string }

/** The request body the form's choices make: the rules switched on, the channels used. */
export function alertSettingsBody(rules: RuleChoice[], channels: ChannelChoice[]): {
  rules: Schemas["AlertRule"][]; channels: Schemas["NotificationChannel"][];
} {
  return {
    rules: rules.filter((r) => r.on).map((r) => ({ kind: r.kind, threshold: Number(r.threshold || 0), channels: r.channels })),
    channels: channels.filter((c) => c.on || c.webhookUrl)
      .map((c) => ({ kind: c.kind, enabled: c.on, webhook_url: c.kind === "webhook" ? c.webhookUrl : "",
                     webhook_secret: "", disabled_reason: "", consecutive_failures: 0 })),  // output only: ignored
  };
}

function checkbox(checked: boolean, label: string): [HTMLInputElement, HTMLLabelElement] {
  const box = h("input", { type: "checkbox", checked });
  return [box, h("label", { class: "check" }, box, ` ${label}`)];
}

export async function notifications(participantId: number, target: HTMLElement): Promise<void> {
  const path = { params: { path: { participant_id: participantId } } };
  const saved = await call(api.GET("/api/v1/participants/{participant_id}/alerts", path));
  const channelOf = (kind: string) => (saved.channels ?? []).find((c) => c.kind === kind);
  const ruleOf = (kind: string) => (saved.rules ?? []).find((r) => r.kind === kind);

  const channelControls = CHANNELS.map((kind) => {
    const current = channelOf(kind);
    const [box, label] = checkbox(current?.enabled ?? false, `Use ${kind === "email" ? "e-mail" : kind}`);
    const url = h("input", { type: "url", value: current?.webhook_url ?? "", placeholder: "https://…", class: "wide" });
    const notes = [
      current?.disabled_reason ? message(`Disabled by the pool: ${current.disabled_reason}`, "error") : null,
      kind === "webhook" && current?.webhook_secret
        ? h("p", {}, "Signing secret (verify X-Computepool-Signature with it): ", h("code", {}, current.webhook_secret)) : null,
    ];
    return { kind, box, url, element: h("fieldset", {}, h("legend", {}, kind === "email" ? "E-mail" : kind[0].toUpperCase() + kind.slice(1)),
      label, kind === "webhook" ? field("Webhook URL", url) : null, ...notes) };
  });

  const ruleControls = RULES.map((rule) => {
    const current = ruleOf(rule.kind);
    const [box, label] = checkbox(current !== undefined, rule.label);
    const threshold = h("input", { inputmode: "decimal", class: "narrow", value: String(current?.threshold ?? rule.initial) });
    const where = CHANNELS.map((kind) => checkbox((current?.channels ?? ["webhook"]).includes(kind), `by ${kind}`));
    return { kind: rule.kind, box, threshold, where, element: h("fieldset", {}, h("legend", {}, rule.label),
      label, rule.unit ? field(`Threshold (${rule.unit})`, threshold) : null,
      h("div", { class: "choices", role: "group", "aria-label": `Where to tell: ${rule.label}` }, where.map(([, l]) => l))) };
  });

  const outcome = h("div");
  const form = h("form", {
    class: "stacked",
    onsubmit: async (event: Event) => {
      event.preventDefault();
      const body = alertSettingsBody(
        ruleControls.map((r) => ({ kind: r.kind, on: r.box.checked, threshold: r.threshold.value,
                                   channels: CHANNELS.filter((_, i) => r.where[i][0].checked) })),
        channelControls.map((c) => ({ kind: c.kind, on: c.box.checked, webhookUrl: c.url.value.trim() })));
      try {
        await call(api.PUT("/api/v1/participants/{participant_id}/alerts", { ...path, body }));
        await notifications(participantId, target);
        target.prepend(message("Notification settings saved.", "success"));
      } catch (error) {
        fill(outcome, message(errorText(error), "error"));
      }
    },
  }, h("h3", {}, "Where"), channelControls.map((c) => c.element),
     h("h3", {}, "When"), ruleControls.map((r) => r.element),
     h("button", { type: "submit" }, "Save notification settings"), outcome);

  const open = await call(api.GET("/api/v1/participants/{participant_id}/incidents", {
    params: { path: { participant_id: participantId }, query: { open_only: true, limit: 20 } } }));
  const log = await call(api.GET("/api/v1/participants/{participant_id}/notifications", {
    params: { path: { participant_id: participantId }, query: { limit: 20 } } }));
  fill(target, form,
    (open.incidents ?? []).length
      ? table("Open incidents", ["Rule", "What was seen", "Since (UTC)"], (open.incidents ?? []).map((i) =>
        h("tr", {}, h("th", { scope: "row" }, i.rule ?? ""), cell(i.summary ?? ""), cell(utc(i.opened_at)))))
      : h("p", {}, "No open incidents."),
    (log.notifications ?? []).length
      ? table("Last 20 notifications", ["Sent (UTC)", "Channel", "What", "State", "Attempts", "Last error"],
        (log.notifications ?? []).map((n) => h("tr", {}, h("th", { scope: "row" }, utc(n.created_at)), cell(n.channel ?? ""),
          cell(n.title ?? ""), cell(n.status ?? ""), cell(String(n.attempts ?? 0)), cell(n.last_error ?? ""))))
      : h("p", {}, "No notifications sent yet."));
}
