/**
 * 3scale's own vocabulary: the names, periods and verbs its admin API accepts. The stack config (components/config)
 * validates against these too, so a value the config accepts is one 3scale accepts.
 *
 * Pure data, serialized by value into the providers that check against it (like client.ts): no module-level state.
 */

/** 3scale system_name: word char first, then word chars, '-' or '/'; at least two characters. */
export const SYSTEM_NAME = /^\w[\w\-/]{1,254}$/;

/** The periods an application plan's usage limit may have. */
export const LIMIT_PERIODS = ["eternity", "year", "month", "week", "day", "hour", "minute"] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

/** The HTTP methods a mapping rule may match. */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
