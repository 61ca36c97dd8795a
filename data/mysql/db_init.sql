-- prefect-auth-proxy key store for MySQL and MariaDB.
-- The table is the original prefect-auth-proxy's, unchanged, plus an index on api_key
-- so that every key lookup is an index lookup.
CREATE TABLE IF NOT EXISTS `prefect_api_keys` (
  `user_id` varchar(128) NOT NULL,
  `scopes` varchar(2000) NOT NULL,
  `api_key` varchar(128) NOT NULL,
  `key_issu_dt` datetime NOT NULL,
  `key_expr_dt` datetime NOT NULL,
  `creatd_dt` datetime NOT NULL,
  `last_updatd_dt` datetime NOT NULL,
  `creatd_by` varchar(11) NOT NULL,
  `last_updatd_by` varchar(11) NOT NULL,
  PRIMARY KEY (`user_id`),
  KEY `prefect_api_keys_api_key_idx` (`api_key`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

-- Example (store keys hashed: api_key = 'sha256:' + lowercase hex SHA-256 of the key):
-- INSERT INTO prefect_api_keys (user_id, scopes, api_key, key_issu_dt, key_expr_dt, creatd_dt, last_updatd_dt, creatd_by, last_updatd_by)
-- VALUES ('alice', 'query/*, mutation/create_flow_run', CONCAT('sha256:', SHA2('<the key>', 256)),
--         NOW(), NOW() + INTERVAL 90 DAY, NOW(), NOW(), 'admin', 'admin');
