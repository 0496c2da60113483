// The dashboard's shell: signs in (TON Connect wallet, or an operator's API key), then shows one
// page at a time, chosen by the URL's hash (#/workers), so the server serves a single index.html.

import "./style.css";
import { field, fill, h, message } from "./dom";
import { errorText, type Page, type PageContext } from "./page";
import { account } from "./pages/account";
import { jobs } from "./pages/jobs";
import { loginPage } from "./pages/login";
import { overview } from "./pages/overview";
import { payouts } from "./pages/payouts";
import { workers } from "./pages/workers";
import { load, logout, type Session } from "./session";
import { disconnectWallet } from "./wallet";

const PAGES: Record<string, { title: string; page: Page }> = {
  overview: { title: "Overview", page: overview },
  workers: { title: "Workers", page: workers },
  jobs: { title: "Jobs", page: jobs },
  payouts: { title: "Payouts", page: payouts },
  account: { title: "Account", page: account },
};
const CHOSEN_PARTICIPANT = "computepool.participant"; // an admin's choice, for this tab

const root = document.getElementById("app")!;
let leaving: (() => void)[] = [];

function route(): string {
  const name = location.hash.replace(/^#\/?/, "").split("?")[0];
  return name in PAGES ? name : "overview";
}

function participantOf(session: Session): number | null {
  if (session.participantId !== null) return session.participantId;
  const chosen = Number(sessionStorage.getItem(CHOSEN_PARTICIPANT));
  return Number.isInteger(chosen) && chosen > 0 ? chosen : null;
}

function participantChooser(session: Session): HTMLElement | null {
  if (session.role !== "admin") return null;
  const input = h("input", { type: "number", min: 1, inputmode: "numeric", value: participantOf(session) ?? "" });
  return h("form", {
    class: "chooser",
    onsubmit: (event: Event) => {
      event.preventDefault();
      if (input.value) sessionStorage.setItem(CHOSEN_PARTICIPANT, input.value);
      else sessionStorage.removeItem(CHOSEN_PARTICIPANT);
      void show(session);
    },
  }, field("Participant id", input, "An admin sees every participant: choose whose figures to show."),
     h("button", { type: "submit" }, "Show"));
}

async function show(session: Session): Promise<void> {
  leaving.forEach((stop) => stop());
  leaving = [];
  const name = route();
  const alerts = h("div", { class: "alerts" });
  const main = h("main", { id: "main", tabindex: -1 });
  const who = session.wallet ? `${session.wallet.slice(0, 6)}…${session.wallet.slice(-4)}` : "admin (API key)";
  fill(root,
    h("header", { class: "top" },
      h("a", { class: "brand", href: "#/overview" }, "computepool"),
      h("nav", { "aria-label": "Dashboard pages" },
        h("ul", {}, Object.entries(PAGES).map(([key, { title }]) =>
          h("li", {}, h("a", { href: `#/${key}`, "aria-current": key === name ? "page" : null }, title))))),
      h("div", { class: "who" },
        h("span", { "data-testid": "signed-in-as", title: session.wallet || "admin" }, `Signed in: ${who} (${session.role})`),
        h("button", { type: "button", class: "secondary", "data-testid": "logout", onclick: () => void signOut(session) }, "Log out"))),
    participantChooser(session),
    alerts, main);
  document.title = `${PAGES[name].title} · computepool`;
  const context: PageContext = {
    session, participantId: participantOf(session), main,
    report: (error) => alerts.replaceChildren(message(errorText(error), "error")),
    onLeave: (stop) => leaving.push(stop),
  };
  main.append(h("h1", {}, PAGES[name].title));
  try {
    await PAGES[name].page(context);
  } catch (error) {
    context.report(error);
  }
}

async function signOut(session: Session): Promise<void> {
  leaving.forEach((stop) => stop());
  leaving = [];
  try {
    await logout(session);
  } catch (error) {
    root.prepend(message(`Logging out on the server failed: ${errorText(error)}`, "error"));
  }
  await disconnectWallet();
  start();
}

function start(): void {
  const session = load();
  if (!session) {
    loginPage(root, (signedIn) => void show(signedIn));
    return;
  }
  void show(session);
}

window.addEventListener("hashchange", () => {
  const session = load();
  if (session) void show(session);
});
start();
