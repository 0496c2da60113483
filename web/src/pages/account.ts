// The signed-in account: wallet and session, the payout threshold, API keys (an admin's to make
// and revoke), and where notification preferences will be (the API has them; this page not yet).

import { api, call, type Schemas } from "../api/client";
import { cell, field, figure, fill, h, message, table } from "../dom";
import { parseTon, ton, utc } from "../format";
import { errorText, type PageContext } from "../page";

async function apiKeys(context: PageContext, target: HTMLElement): Promise<void> {
  const found = await call(api.GET("/v1/admin/api-keys"));
  const keys = (found.api_keys ?? []) as Schemas["ApiKey"][];
  const role = h("select", {}, ["client", "miner", "admin"].map((r) => h("option", { value: r }, r)));
  const owner = h("input", { type: "number", min: 1, value: context.participantId ?? "", class: "narrow" });
  const label = h("input", { maxlength: 64 });
  const made = h("div");
  const form = h("form", {
    onsubmit: async (event: Event) => {
      event.preventDefault();
      try {
        const created = await call(api.POST("/v1/admin/api-keys", {
          body: { role: role.value, participant_id: Number(owner.value || 0), label: label.value } }));
        await apiKeys(context, target);
        target.prepend(message(`New ${created.api_key?.role} key (shown once, copy it now): ${created.key}`, "success"));
      } catch (error) {
        fill(made, message(errorText(error), "error"));
      }
    },
  }, field("Role", role), field("Participant id", owner, "Whose the key acts for (client and miner keys)"),
     field("Label", label), h("button", { type: "submit" }, "Create key"), made);
  fill(target,
    keys.length ? table("API keys", ["Key", "Role", "Participant", "Label", "Created (UTC)", "Revoked (UTC)", ""],
      keys.map((key) => h("tr", {}, h("th", { scope: "row" }, h("code", {}, `${key.prefix}…`)), cell(key.role),
        cell(key.participant_id ? String(key.participant_id) : "—"), cell(key.label), cell(utc(key.created_at)),
        cell(key.revoked_at ? utc(key.revoked_at) : "active"),
        cell(key.revoked_at ? null : h("button", { type: "button", class: "small secondary", onclick: async () => {
          try {
            await call(api.DELETE("/v1/admin/api-keys/{api_key_id}", { params: { path: { api_key_id: key.id } } }));
            await apiKeys(context, target);
          } catch (error) {
            context.report(error);
          }
        } }, `Revoke ${key.prefix}…`)))))
      : h("p", {}, "No API keys yet."),
    h("h3", {}, "New key"), form);
}

export async function account(context: PageContext): Promise<void> {
  const { main, session, participantId } = context;
  const keysSection = h("div");
  main.append(h("section", { "aria-labelledby": "who" }, h("h2", { id: "who" }, "Signed in"),
    h("dl", { class: "figures" },
      figure("Wallet", session.wallet || "none: an admin API key", undefined, "wallet"),
      figure("Role", session.role),
      figure("Participant", participantId !== null ? `#${participantId}` : "none chosen"),
      figure("Session ends", session.expiresAt ? utc(session.expiresAt) : "an API key does not expire; it can be revoked"))));

  if (participantId !== null) {
    const participant = await call(api.GET("/api/v1/participants/{participant_id}", { params: { path: { participant_id: participantId } } }));
    const threshold = h("input", { inputmode: "decimal", value: ton(participant.payout_threshold_nanoton).replace(/ TON$/, "").replace(/,/g, ""), class: "narrow" });
    const changed = h("div");
    main.append(h("section", { "aria-labelledby": "threshold" }, h("h2", { id: "threshold" }, "Payout threshold"),
      h("p", {}, "A payout run pays you once you are owed at least this much. It cannot be below the pool's minimum; 0 goes back to it."),
      h("form", {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const nanoton = parseTon(threshold.value);
          if (nanoton === null) {
            fill(changed, message("Write the threshold in TON, with at most 9 decimals.", "error"));
            return;
          }
          try {
            const updated = await call(api.PATCH("/api/v1/participants/{participant_id}/payout-threshold", {
              params: { path: { participant_id: participantId } }, body: { payout_threshold_nanoton: nanoton.toString() } }));
            fill(changed, message(`Payouts now start at ${ton(updated.payout_threshold_nanoton)}.`, "success"));
          } catch (error) {
            fill(changed, message(errorText(error), "error"));
          }
        },
      }, field("Threshold (TON)", threshold), h("button", { type: "submit" }, "Save threshold"), changed)));
  }

  main.append(
    h("section", { "aria-labelledby": "notifications" }, h("h2", { id: "notifications" }, "Notifications"),
      message("Not available here yet: alert rules and notification channels are set through the API " +
              `(GET and PUT /api/v1/participants/${participantId ?? "{id}"}/alerts); this page does not edit them yet.`)),
    h("section", { "aria-labelledby": "keys" }, h("h2", { id: "keys" }, "API keys"), keysSection));
  if (session.role === "admin") await apiKeys(context, keysSection);
  else fill(keysSection, h("p", {}, "API keys for programs (the SDK, the CLI, miners) are made by the pool's admin; ask them for a client or miner key for your participant."));
}
