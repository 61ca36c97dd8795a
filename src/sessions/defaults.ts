/**
 * Defaults for a store opened without session settings (the CLI, a proxy with sign-in off). The
 * proxy's configuration sets its own; these only make such a store safe to use.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/**
 * A session's `last_seen_at` is written at most this often: the idle timeout is therefore honoured
 * to within this much (a session may be judged idle up to this early).
 */
export const DEFAULT_TOUCH_INTERVAL_MS = 60_000;
