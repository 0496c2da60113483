// What every page gets: who is signed in, which participant it shows, where to draw, and how to
// report a refusal (the server's own message, announced to screen readers).

import { ApiError } from "./api/client";
import type { Session } from "./session";

export interface PageContext {
  session: Session;
  /** The participant the page shows: the signed-in one, or the one an admin chose (null: none chosen). */
  participantId: number | null;
  main: HTMLElement;
  /** Shows an error (an ApiError with the server's message and reason) at the top of the page. */
  report(error: unknown): void;
  /** Runs when the page is left (closes live feeds, timers). */
  onLeave(stop: () => void): void;
}

export type Page = (context: PageContext) => Promise<void>;

/** The text shown for an error: the server's message and reason, or the error's own text. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code}${error.status ? `, HTTP ${error.status}` : ""})`;
  return error instanceof Error ? error.message : String(error);
}
