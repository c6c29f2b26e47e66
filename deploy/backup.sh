#!/usr/bin/env bash
# Encrypted backup: pg_dump, compressed, encrypted with the key in PAUSE_BACKUP_KEY_FILE
# (openssl, AES-256, PBKDF2). Backups older than PAUSE_BACKUP_DAYS (default 7) are
# deleted, so data erased by the retention jobs is gone from backups within a week.
set -euo pipefail
target=${PAUSE_BACKUP_DIR:-/var/backups/pause}
days=${PAUSE_BACKUP_DAYS:-7}
key_file=${PAUSE_BACKUP_KEY_FILE:?set PAUSE_BACKUP_KEY_FILE}
database_url=${PAUSE_DATABASE_URL/postgresql+psycopg/postgresql}
mkdir -p "$target"
name="$target/pause-$(date -u +%Y%m%dT%H%M%SZ).sql.gz.enc"
pg_dump --no-owner --format=plain "$database_url" | gzip -9 \
  | openssl enc -aes-256-cbc -pbkdf2 -iter 200000 -salt -pass "file:$key_file" -out "$name.partial"
mv "$name.partial" "$name"
find "$target" -name 'pause-*.sql.gz.enc' -mtime +"$days" -delete
echo "$name"
