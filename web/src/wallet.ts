// TON Connect: the wallet proves it holds its address by signing a ton_proof over a payload the
// server issued (POST /v1/users/login/challenge); the server checks the proof (identity/ton_proof.py)
// and opens a session. @tonconnect/ui gives the wallet picker: browser extensions (injected "JS
// bridge" wallets), and a QR code / link for mobile wallets over their HTTP bridge.

import { TonConnectUI, type Wallet } from "@tonconnect/ui";
import { api, call, type Schemas } from "./api/client";

let connector: TonConnectUI | null = null;

function tonConnect(): TonConnectUI {
  // The manifest (name, URL, icon the wallet shows) is made by the server for the origin it is reached at.
  // No analytics: the SDK would otherwise report the user's wallet activity to TON Connect's servers.
  connector ??= new TonConnectUI({ manifestUrl: new URL("tonconnect-manifest.json", location.href).toString(),
                                   analytics: { mode: "off" } });
  return connector;
}

/** The body of POST /v1/users/login from a connected wallet's ton_proof reply. */
export function loginRequest(wallet: Wallet): Schemas["LoginRequest"] {
  const reply = wallet.connectItems?.tonProof;
  if (!reply) throw new Error("the wallet connected without a ton_proof: it cannot log in here");
  if (!("proof" in reply)) throw new Error(`the wallet refused to sign the ton_proof: ${reply.error.message ?? "no reason given"}`);
  return {
    address: wallet.account.address,
    network: wallet.account.chain,
    public_key: wallet.account.publicKey ?? "",
    proof: {
      timestamp: reply.proof.timestamp,
      domain: { length_bytes: reply.proof.domain.lengthBytes, value: reply.proof.domain.value },
      payload: reply.proof.payload,
      signature: reply.proof.signature,
      state_init: wallet.account.walletStateInit,
    },
  };
}

/** Opens the wallet picker and resolves with the login body once the chosen wallet has signed. */
export async function proveWallet(): Promise<Schemas["LoginRequest"]> {
  const ui = tonConnect();
  await ui.connectionRestored;
  if (ui.connected) await ui.disconnect(); // a proof comes only with a new connection
  const challenge = await call(api.POST("/v1/users/login/challenge", { body: {} }));
  ui.setConnectRequestParameters({ state: "ready", value: { tonProof: challenge.payload } });
  return new Promise((resolve, reject) => {
    const stops: (() => void)[] = [];
    const settle = (outcome: () => void) => {
      stops.forEach((stop) => stop());
      outcome();
    };
    stops.push(ui.onStatusChange(
      (wallet) => {
        if (!wallet) return;
        settle(() => {
          try {
            resolve(loginRequest(wallet));
          } catch (error) {
            reject(error);
          }
        });
      },
      (error) => settle(() => reject(new Error(`the wallet connection failed: ${error.message}`)))));
    stops.push(ui.onModalStateChange((state) => {
      if (state.status === "closed" && state.closeReason === "action-cancelled") {
        settle(() => reject(new Error("the wallet connection was cancelled")));
      }
    }));
    void ui.openModal();
  });
}

/** Disconnects the wallet, if one is connected (after logging out). */
export async function disconnectWallet(): Promise<void> {
  if (connector?.connected) await connector.disconnect().catch(() => undefined);
}
