import { describe, expect, it } from "vitest";
import type { Wallet } from "@tonconnect/ui";
import { loginRequest } from "../src/wallet";

const account = { address: "0:" + "ab".repeat(32), chain: "-239", publicKey: "cd".repeat(32), walletStateInit: "te6cc..." };

describe("loginRequest", () => {
  it("turns a wallet's ton_proof reply into the body of POST /v1/users/login", () => {
    const wallet = { account, device: {}, provider: "injected", connectItems: { tonProof: { name: "ton_proof", proof: {
      timestamp: 1700000000, domain: { lengthBytes: 9, value: "localhost" }, payload: "p", signature: "c2ln" } } } } as unknown as Wallet;
    expect(loginRequest(wallet)).toEqual({
      address: account.address, network: "-239", public_key: account.publicKey,
      proof: { timestamp: 1700000000, domain: { length_bytes: 9, value: "localhost" }, payload: "p", signature: "c2ln",
               state_init: "te6cc..." },
    });
  });
  it("says why a wallet cannot log in", () => {
    const without = { account, connectItems: {} } as unknown as Wallet;
    expect(() => loginRequest(without)).toThrow("without a ton_proof");
    const refused = { account, connectItems: { tonProof: { name: "ton_proof", error: { code: 300, message: "user declined" } } } } as unknown as Wallet;
    expect(() => loginRequest(refused)).toThrow("refused to sign the ton_proof: user declined");
  });
});
