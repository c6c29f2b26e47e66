#!/usr/bin/env bash
# Creates the pause database and a least-privilege role that connects over the local
# socket (peer authentication as the system user "pause"). Run as root.
set -euo pipefail
sudo -u postgres psql -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pause') THEN
    CREATE ROLE pause LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
SELECT 'CREATE DATABASE pause OWNER pause' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'pause')\gexec
REVOKE ALL ON DATABASE pause FROM PUBLIC;
GRANT CONNECT ON DATABASE pause TO pause;
SQL
# Bookings' overlap guard needs btree_gist; a trusted extension the owner may create,
# created here once by the superuser so the migration finds it.
sudo -u postgres psql -d pause -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS btree_gist"
echo "database pause ready for role pause"
