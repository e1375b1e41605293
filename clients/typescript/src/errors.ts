/** Errors of the API: every refusal is RFC 9457 `application/problem+json`. */

import type { components } from "./schema.js";

export type ProblemDetails = components["schemas"]["ProblemDetails"];
export type FieldError = components["schemas"]["FieldError"];

/** The API refused a request (4xx/5xx); `problem` is its problem+json body. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly problem: ProblemDetails;
  /** Seconds from `Retry-After` (429, 503), when the answer had one. */
  readonly retryAfterS: number | undefined;

  constructor(problem: ProblemDetails, retryAfterS?: number) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.status = problem.status;
    this.problem = problem;
    this.retryAfterS = retryAfterS;
  }

  /** The invalid inputs a `422` named (`birth.place.latitude`, ...); empty otherwise. */
  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/** An `ApiError` from a refused response and its body (parsed JSON, text, or nothing). */
export function apiError(response: Response, body: unknown): ApiError {
  const retry = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return new ApiError(asProblem(response, body), Number.isNaN(retry) ? undefined : retry);
}

/** The `ApiError` of a refused response, its body read here. */
export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: described from the status and the text
  }
  return apiError(response, body);
}

function asProblem(response: Response, body: unknown): ProblemDetails {
  if (isProblem(body)) return body;
  // Not problem+json (a proxy's error page, say): described the same way.
  return {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: typeof body === "string" && body ? body.slice(0, 500) : null,
    errors: null,
  };
}

function isProblem(body: unknown): body is ProblemDetails {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b["title"] === "string" && typeof b["status"] === "number";
}
