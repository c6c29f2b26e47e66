#!/usr/bin/env bash
# Creates the pause database and a least-privilege role that connects over the local
# socket (peer authentication as the system user "pause"). Run as root; safe to run again.
# PAUSE_DB_NAME and PAUSE_DB_ROLE name them otherwise (both "pause" by default).
set -euo pipefail
database="${PAUSE_DB_NAME:-pause}"
role="${PAUSE_DB_ROLE:-pause}"

# runuser is in util-linux, on every Debian system; sudo may not be.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

as_postgres psql -q -v ON_ERROR_STOP=1 -v db="$database" -v role="$role" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
SQL
# Bookings' overlap guard needs btree_gist; created here once by the superuser so the
# migration finds it and the role needs no right to create extensions.
as_postgres psql -q -d "$database" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS btree_gist"
echo "database $database ready for role $role"
