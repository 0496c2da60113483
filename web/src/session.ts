// Who is signed in, kept for this browser tab (sessionStorage: it ends with the tab, and is not
// sent anywhere by itself). A wallet login yields a session token; an operator signs in with an API key.

import { api, call, useCredential, type Credential, type Schemas } from "./api/client";

export interface Session {
  credential: Credential;
  role: string; // "user" (a wallet session), "client", "miner" or "admin"
  participantId: number | null; // null: an admin, who sees every participant
  wallet: string; // the participant's wallet (UQ… form); "" for an admin
  username: string;
  expiresAt: string; // when a wallet session ends; "" for an API key
}

const STORAGE_KEY = "computepool.session";

export function load(storage: Storage = sessionStorage): Session | null {
  try {
    const session = JSON.parse(storage.getItem(STORAGE_KEY) ?? "null") as Session | null;
    if (session && session.expiresAt && new Date(session.expiresAt) <= new Date()) return null;
    useCredential(session?.credential ?? null);
    return session;
  } catch {
    return null;
  }
}

function keep(session: Session | null, storage: Storage = sessionStorage): Session | null {
  if (session) storage.setItem(STORAGE_KEY, JSON.stringify(session));
  else storage.removeItem(STORAGE_KEY);
  useCredential(session?.credential ?? null);
  return session;
}

export function fromLogin(response: Schemas["LoginResponse"]): Session {
  return {
    credential: { kind: "session", secret: response.session_token },
    role: response.user?.role ?? "user",
    participantId: response.user?.id ?? null,
    wallet: response.user?.wallet_address ?? "",
    username: response.user?.username ?? "",
    expiresAt: response.expires_at ?? "",
  };
}

/** Logs in with a wallet's ton_proof (the server verifies it and opens a session). */
export async function loginWithProof(request: Schemas["LoginRequest"]): Promise<Session> {
  return keep(fromLogin(await call(api.POST("/v1/users/login", { body: request }))))!;
}

/** Signs in with an API key: whose it is comes from GET /v1/users/me, which refuses an admin key
 * with ROLE_NOT_ALLOWED (an admin is nobody's participant). */
export async function loginWithApiKey(key: string): Promise<Session> {
  const credential: Credential = { kind: "apiKey", secret: key.trim() };
  useCredential(credential);
  try {
    const me = await api.GET("/v1/users/me");
    if (me.response.status === 403 && (me.error as { error?: { code?: string } })?.error?.code === "ROLE_NOT_ALLOWED") {
      return keep({ credential, role: "admin", participantId: null, wallet: "", username: "", expiresAt: "" })!;
    }
    const user = await call(Promise.resolve(me));
    return keep({ credential, role: user.role, participantId: user.id, wallet: user.wallet_address,
                  username: user.username, expiresAt: "" })!;
  } catch (error) {
    useCredential(null);
    throw error;
  }
}

/** Ends a wallet session on the server (its token stops working at once) and forgets it here. */
export async function logout(session: Session): Promise<void> {
  try {
    if (session.credential.kind === "session") await call(api.POST("/v1/users/logout", { body: {} }));
  } finally {
    keep(null);
  }
}
