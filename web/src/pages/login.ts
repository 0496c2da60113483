// Signing in: a participant connects a TON wallet (TON Connect, ton_proof); an operator uses an API key.

import { field, fill, h, message } from "../dom";
import { errorText } from "../page";
import { loginWithApiKey, loginWithProof, type Session } from "../session";
import { proveWallet } from "../wallet";

export function loginPage(root: HTMLElement, signedIn: (session: Session) => void): void {
  const status = h("div", { class: "alerts" });
  const walletButton = h("button", { type: "button", "data-testid": "connect-wallet" }, "Connect TON wallet");
  walletButton.addEventListener("click", async () => {
    walletButton.disabled = true;
    status.replaceChildren(message("Waiting for the wallet to sign the login proof…"));
    try {
      signedIn(await loginWithProof(await proveWallet()));
    } catch (error) {
      status.replaceChildren(message(`Wallet login failed: ${errorText(error)}`, "error"));
    } finally {
      walletButton.disabled = false;
    }
  });

  const key = h("input", { type: "password", name: "api-key", autocomplete: "off", required: true });
  const keyForm = h("form", {
    onsubmit: async (event: Event) => {
      event.preventDefault();
      try {
        signedIn(await loginWithApiKey(key.value));
      } catch (error) {
        status.replaceChildren(message(`API key login failed: ${errorText(error)}`, "error"));
      }
    },
  }, field("API key", key, "An admin, client or miner key (X-Api-Key)."), h("button", { type: "submit" }, "Sign in with key"));

  fill(root, h("main", { id: "main", class: "login" },
    h("h1", {}, "computepool"),
    h("p", {}, "The pool's dashboard: your workers, what they earn, your jobs and payouts."),
    status,
    h("section", { "aria-labelledby": "wallet-login" },
      h("h2", { id: "wallet-login" }, "Participants"),
      h("p", {}, "Connect the TON wallet your workers are paid to. The wallet signs a one-time login proof; nothing is sent or spent."),
      walletButton),
    h("section", { "aria-labelledby": "key-login" },
      h("h2", { id: "key-login" }, "Operators"),
      keyForm)));
}
