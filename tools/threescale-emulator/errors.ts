/** Error replies with the exact status codes and bodies of the 3scale admin API (reference §0.3). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** JSON value, plain text, or null for an empty body. */
    readonly body: unknown,
  ) {
    super(`${status} ${typeof body === "string" ? body : JSON.stringify(body)}`);
  }
}

export type FieldErrors = Record<string, string[]>;

export const notFound = () => new ApiError(404, { status: "Not found" });
export const accessDenied = () => new ApiError(403, { error: "Access denied" });
/** CanCan::AccessDenied inside a controller: porta error_handling.rb L26-27, L59 (`{status: "Forbidden"}`). */
export const forbidden = () => new ApiError(403, { status: "Forbidden" });
export const wrongPermissions = () =>
  new ApiError(403, { error: "Your access token does not have the correct permissions" });
export const invalid = (errors: FieldErrors) => new ApiError(422, { errors });
/** A model refusing destruction answers 403 with the validation body. */
export const undeletable = (message: string) => new ApiError(403, { errors: { base: [message] } });
export const missingParameter = (key: string) => new ApiError(400, `Required parameter missing: ${key}`);

/** Collects field errors and throws one 422 listing all of them, as ActiveRecord validation does. */
export class Validation {
  private readonly errors: FieldErrors = {};

  add(field: string, message: string): this {
    (this.errors[field] ??= []).push(message);
    return this;
  }

  check(condition: boolean, field: string, message: string): this {
    if (!condition) this.add(field, message);
    return this;
  }

  get ok(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  throwIfAny(): void {
    if (!this.ok) throw invalid(this.errors);
  }
}

export const BLANK = "can't be blank";
export const TAKEN = "has already been taken";
export const INVALID = "is invalid";
export const NOT_INCLUDED = "is not included in the list";
