#!/usr/bin/env bash
# Restores an encrypted backup made by backup.sh into an EMPTY database.
#   deploy/restore.sh /var/backups/pause/pause-20261122T031500Z.sql.gz.enc postgresql://pause@/pause_restore
set -euo pipefail
backup=${1:?backup file}
database_url=${2:?target database URL}
key_file=${PAUSE_BACKUP_KEY_FILE:?set PAUSE_BACKUP_KEY_FILE}
openssl enc -d -aes-256-cbc -pbkdf2 -iter 200000 -pass "file:$key_file" -in "$backup" | gunzip \
  | psql -v ON_ERROR_STOP=1 --quiet "$database_url"
echo "restored $backup"
