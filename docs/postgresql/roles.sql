-- recist-app on a shared PostgreSQL server: two roles (see README, Reliability).
-- Run once as a PostgreSQL superuser, e.g. `psql -U postgres -f roles.sql`.
--
-- recist_owner owns the database and its tables: it runs the schema upgrades
-- (open recist-app once with its URL after installing a new version) and is the
-- only role that could alter or disable the audit trail's triggers. Keep its
-- password with the database administrator.
-- recist_app is the role every workstation and command uses day to day: it can
-- read and write readings but not change, delete or truncate audit rows, nor
-- ALTER TABLE audit_log ... DISABLE TRIGGER (only a table's owner can).
-- Set both passwords with \password after running this file.

CREATE ROLE recist_owner LOGIN;
CREATE ROLE recist_app LOGIN;
CREATE DATABASE recist OWNER recist_owner;
\connect recist
ALTER SCHEMA public OWNER TO recist_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE recist FROM PUBLIC;
GRANT CONNECT ON DATABASE recist TO recist_app;
