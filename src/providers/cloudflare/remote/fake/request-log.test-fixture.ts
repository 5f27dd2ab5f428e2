/**
 * The fake's log of requests (`fake.requests`): what a client sent, with its secrets replaced
 * by {@link REDACTED}, and the status it got.
 */

/** What replaces the value of `authorization` and `x-auth-key` in the log. */
export const REDACTED = "[redacted]";

const SECRET_HEADERS = new Set(["authorization", "x-auth-key"]);

/** One part of a logged multipart body. */
export interface LoggedPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly contentType: string;
  readonly size: number;
  /** The `metadata` part as parsed JSON (its text if it does not parse); text parts as text; binary parts as bytes. */
  readonly content: unknown;
}

/** One request the fake received. */
export interface LoggedRequest {
  readonly method: string;
  /** The path after `/client/v4` as sent (percent-encoding kept), e.g. "/accounts/abc/storage/kv/namespaces/n/values/a%2Fb". */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names; secrets redacted. */
  readonly headers: Readonly<Record<string, string>>;
  /** A JSON body parsed; any other non-multipart body as UTF-8 text; undefined when empty. */
  readonly body: unknown;
  /** The parts of a multipart body. */
  readonly parts: readonly LoggedPart[] | undefined;
  /** The status answered (0 until the answer is sent). */
  status: number;
}

/** A log entry for a request, before its multipart parts (if any) are known. */
export function logEntry(method: string, path: string, query: URLSearchParams, headers: Headers, body: Uint8Array): LoggedRequest {
  const loggedHeaders: Record<string, string> = {};
  headers.forEach((value, name) => {
    loggedHeaders[name] = SECRET_HEADERS.has(name) ? REDACTED : value;
  });
  return {
    method,
    path,
    query: Object.fromEntries(query),
    headers: loggedHeaders,
    body: isMultipart(headers) ? undefined : bodyForLog(headers, body),
    parts: undefined,
    status: 0,
  };
}

/** The parts of a parsed multipart body, for the log. */
export async function logParts(form: FormData): Promise<LoggedPart[]> {
  const parts: LoggedPart[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") {
      parts.push({ name, filename: undefined, contentType: "text/plain", size: Buffer.byteLength(value), content: partContent(name, "text/plain", value) });
      continue;
    }
    const bytes = new Uint8Array(await value.arrayBuffer());
    const text = isTextual(value.type) || name === "metadata" ? Buffer.from(bytes).toString("utf8") : undefined;
    parts.push({
      name,
      filename: value.name,
      contentType: value.type,
      size: bytes.byteLength,
      content: text === undefined ? bytes : partContent(name, value.type, text),
    });
  }
  return parts;
}

/** Whether the request's body is multipart/form-data. */
export function isMultipart(headers: Headers): boolean {
  return (headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data");
}

function partContent(name: string, contentType: string, text: string): unknown {
  if (name !== "metadata" && !contentType.includes("json")) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function bodyForLog(headers: Headers, body: Uint8Array): unknown {
  if (body.byteLength === 0) return undefined;
  const text = Buffer.from(body).toString("utf8");
  if ((headers.get("content-type") ?? "").includes("json")) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function isTextual(contentType: string): boolean {
  return contentType.startsWith("text/") || contentType.includes("javascript") || contentType.includes("json") || contentType.includes("source-map");
}
