/** The original proxy's key table: its name and columns are kept so existing deployments work unchanged. */
export const KEYS_TABLE = 'prefect_api_keys';
export const AUDIT_TABLE = 'prefect_audit_log';
export const MIGRATIONS_TABLE = 'prefect_auth_proxy_migrations';
/** One row per key change or cache reset, polled by every proxy (change-log.ts). */
export const CHANGES_TABLE = 'prefect_auth_proxy_changes';
