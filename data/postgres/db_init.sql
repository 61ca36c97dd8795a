-- prefect-auth-proxy key store for PostgreSQL.
-- The table is the original prefect-auth-proxy's, unchanged, plus an index on api_key
-- so that every key lookup is an index lookup.
CREATE TABLE IF NOT EXISTS prefect_api_keys (
  user_id varchar(128) NOT NULL,
  scopes varchar(2000) NOT NULL,
  api_key varchar(128) NOT NULL,
  key_issu_dt timestamp NOT NULL,
  key_expr_dt timestamp NOT NULL,
  creatd_dt timestamp NOT NULL,
  last_updatd_dt timestamp NOT NULL,
  creatd_by varchar(11) NOT NULL,
  last_updatd_by varchar(11) NOT NULL,
  PRIMARY KEY (user_id)
);

CREATE INDEX IF NOT EXISTS prefect_api_keys_api_key_idx ON prefect_api_keys (api_key);

-- Example (store keys hashed: api_key = 'sha256:' || lowercase hex SHA-256 of the key):
-- INSERT INTO prefect_api_keys (user_id, scopes, api_key, key_issu_dt, key_expr_dt, creatd_dt, last_updatd_dt, creatd_by, last_updatd_by)
-- VALUES ('alice', 'query/*, mutation/create_flow_run',
--         'sha256:' || encode(sha256(convert_to('<the key>', 'UTF8')), 'hex'),
--         now(), now() + interval '90 days', now(), now(), 'admin', 'admin');
