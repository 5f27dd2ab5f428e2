/**
 * Scripted misbehaviour: failures answered instead of (or after) a route's work, and the window
 * after a creation during which GETs of the new resource answer 404.
 */
import { CODES } from "./error-codes.test-fixture.js";
import { failWith, type ApiError, type RouteResponse } from "./envelope.test-fixture.js";
import type { VisibilityKind } from "./fake-state.test-fixture.js";

/** Which requests a scripted failure applies to. */
export interface FailureMatch {
  /** Upper-case HTTP method. @default any method */
  readonly method?: string;
  /** Tested against the path after `/client/v4` as sent (percent-encoding kept), e.g. `/accounts/abc/d1/database`. */
  readonly path: RegExp;
}

/** What a scripted failure answers. */
export interface ScriptedFailure {
  readonly status: number;
  /**
   * Seconds, sent as `retry-after`.
   * @default 1 for a 429; no header otherwise
   */
  readonly retryAfter?: number;
  /**
   * The envelope's errors.
   * @default one error: 971 for a 429, 10002 for a 5xx, 1000 otherwise
   */
  readonly errors?: readonly ApiError[];
  /**
   * How many matching requests fail before the script is used up.
   * @default 1
   */
  readonly times?: number;
  /**
   * Run the route first, keep what it did, and answer the failure anyway: a response lost
   * after the work was done (a timeout after commit). The default fails before any work.
   * @default false
   */
  readonly afterApplying?: boolean;
}

interface PendingFailure {
  readonly match: FailureMatch;
  readonly failure: ScriptedFailure;
  remaining: number;
}

/** The scripted failures and visibility windows of one fake. */
export class Script {
  readonly #failures: PendingFailure[] = [];
  readonly #hiddenFor = new Map<VisibilityKind, number>();

  /** Queues `failure` for requests matching `match`; earlier scripts are used first. */
  failNext(match: FailureMatch, failure: ScriptedFailure): void {
    this.#failures.push({ match, failure, remaining: failure.times ?? 1 });
  }

  /** Takes one use of the first script matching the request, if any. */
  take(method: string, path: string): ScriptedFailure | undefined {
    const index = this.#failures.findIndex(({ match }) => (match.method === undefined || match.method.toUpperCase() === method) && match.path.test(path));
    if (index < 0) return undefined;
    const pending = this.#failures[index]!;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.#failures.splice(index, 1);
    return pending.failure;
  }

  /** GETs of a `kind` created less than `ms` ago answer 404 (0 turns it off). */
  hideAfterCreate(kind: VisibilityKind, ms: number): void {
    this.#hiddenFor.set(kind, ms);
  }

  /** Whether a resource of `kind` created at `createdAt` (ms since the epoch) is still hidden. */
  isHidden(kind: VisibilityKind, createdAt: number | undefined): boolean {
    const window = this.#hiddenFor.get(kind) ?? 0;
    return createdAt !== undefined && Date.now() - createdAt < window;
  }

  /** Forgets every script and window. */
  clear(): void {
    this.#failures.length = 0;
    this.#hiddenFor.clear();
  }
}

/** The response of a scripted failure. */
export function scriptedResponse(failure: ScriptedFailure): RouteResponse {
  const retryAfter = failure.retryAfter ?? (failure.status === 429 ? 1 : undefined);
  const headers: Record<string, string> = retryAfter === undefined ? {} : { "retry-after": String(retryAfter) };
  return failWith(failure.status, failure.errors ?? [defaultError(failure.status)], headers);
}

function defaultError(status: number): ApiError {
  if (status === 429) return { code: CODES.rateLimited.code, message: "Please wait and consider throttling your request speed" };
  if (status >= 500) return { code: CODES.internal.code, message: "An unknown error has occurred. Please try again later." };
  return { code: CODES.scripted.code, message: `Scripted failure (${status})` };
}
