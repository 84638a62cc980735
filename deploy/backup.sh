#!/usr/bin/env bash
# Back up the procure-match database with pg_dump (custom format: compressed, restorable
# selectively and in parallel with pg_restore).
#
#   DATABASE_URL=postgresql://user:pass@host:5432/procmatch deploy/backup.sh [DIR]
#
# With deploy/compose.yaml (the db image has pg_dump of the server's version; dumps land in
# deploy/backups on the host):
#   docker compose -f deploy/compose.yaml run --rm --no-deps -v "$PWD/deploy:/deploy:ro" \
#     -e DATABASE_URL="postgresql://procmatch:$POSTGRES_PASSWORD@db:5432/procmatch" \
#     --entrypoint /deploy/backup.sh db /backups
#
# Environment: DATABASE_URL (required), BACKUP_DIR (default ./backups), BACKUP_KEEP_DAYS (default
# 14; older dumps in DIR are deleted after a successful dump), PG_BIN (directory of pg_dump and
# pg_restore when they are not on PATH; they must be at least the server's major version).
# Prints the path of the new dump. The dump is written to a temporary name, checked with
# `pg_restore --list`, and only then renamed, so a file named *.dump is always complete.
set -euo pipefail

url="${DATABASE_URL:?set DATABASE_URL to the database to back up}"
dir="${1:-${BACKUP_DIR:-./backups}}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
bin="${PG_BIN:+${PG_BIN%/}/}"

mkdir -p "$dir"
umask 077  # dumps contain personal data (names, emails, phone numbers)
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="$dir/procmatch-$stamp.dump"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

"${bin}pg_dump" --format=custom --compress=6 --no-owner --no-privileges --file="$partial" --dbname="$url"
"${bin}pg_restore" --list "$partial" >/dev/null
mv "$partial" "$file"
(cd "$dir" && sha256sum "$(basename "$file")" >"$(basename "$file").sha256")

if [ "$keep_days" -gt 0 ]; then
  find "$dir" -maxdepth 1 -name 'procmatch-*.dump*' -mtime +"$keep_days" -delete
fi
echo "$file"
