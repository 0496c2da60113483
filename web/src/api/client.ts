// The REST API (Envoy's transcoding of the protos), typed from envoy/openapi.json: `npm run gen`
// writes schema.d.ts with openapi-typescript, and openapi-fetch checks every path, parameter and
// body against it at compile time. Every call carries the signed-in credential.

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** How the dashboard is signed in: a wallet session (X-Session-Token) or an operator's API key. */
export interface Credential {
  kind: "session" | "apiKey";
  secret: string;
}

let credential: Credential | null = null;

export function useCredential(next: Credential | null): void {
  credential = next;
}

export const HEADERS = { session: "X-Session-Token", apiKey: "X-Api-Key" } as const;

const authenticate: Middleware = {
  onRequest({ request }) {
    if (credential) request.headers.set(HEADERS[credential.kind], credential.secret);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });
api.use(authenticate);

/** A refused call: the HTTP status, the server's reason (error.code) and its message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

interface ErrorBody {
  detail?: string;
  error?: { code?: string; message?: string; details?: { field_violations?: { field: string; description: string }[] } };
}

/** The server's words for a refusal: its message, and each field it names
 * ("hours: must be 1-720"); a body that is not the API's error shape is shown as it came. */
export function refusal(status: number, body: unknown): ApiError {
  if (body && typeof body === "object") {
    const { detail, error } = body as ErrorBody;
    const violations = error?.details?.field_violations ?? [];
    const named = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
    const text = error?.message ?? detail ?? JSON.stringify(body);
    return new ApiError(status, error?.code ?? `HTTP_${status}`, named && !text.includes(named) ? `${text} (${named})` : text);
  }
  const text = typeof body === "string" && body.trim() ? body.trim() : `the server answered HTTP ${status}`;
  return new ApiError(status, `HTTP_${status}`, text);
}

/** The data of a call, or its refusal thrown as an ApiError. */
export async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let outcome;
  try {
    outcome = await pending;
  } catch (cause) {
    throw new ApiError(0, "NETWORK", `the pool could not be reached (${String(cause)})`);
  }
  if (!outcome.response.ok) throw refusal(outcome.response.status, outcome.error);
  return outcome.data as T;
}

