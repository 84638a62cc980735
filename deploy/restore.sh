#!/usr/bin/env bash
# Restore a dump made by backup.sh into the database at DATABASE_URL, replacing its contents.
#
#   DATABASE_URL=postgresql://user:pass@host:5432/procmatch deploy/restore.sh FILE --yes
#
# Stop the app instances and the scheduler first (or point DATABASE_URL at a new, empty
# database and switch over afterwards: the safer way). The restore runs in ONE transaction:
# on any error nothing is changed. Afterwards run `procmatch db upgrade` if the dump is older
# than the code, then start the app again.
# Environment: DATABASE_URL (required), PG_BIN (directory of pg_restore when not on PATH).
set -euo pipefail

url="${DATABASE_URL:?set DATABASE_URL to the database to restore into}"
file="${1:?usage: restore.sh FILE --yes}"
bin="${PG_BIN:+${PG_BIN%/}/}"

if [ "${2:-}" != "--yes" ]; then
  echo "This replaces every table in the target database with the contents of $file." >&2
  echo "Run again with --yes to proceed." >&2
  exit 2
fi
if [ -f "$file.sha256" ]; then
  (cd "$(dirname "$file")" && sha256sum --check --quiet "$(basename "$file").sha256")
fi

"${bin}pg_restore" --clean --if-exists --no-owner --no-privileges \
  --single-transaction --exit-on-error --dbname="$url" "$file"
# pg_dump does not keep the planner cost that migration 3001 sets on a pg_trgm function (an
# extension's object); re-apply it. A role that may not gets a notice: search stays correct, slower.
if command -v "${bin}psql" >/dev/null 2>&1; then
  "${bin}psql" --quiet --no-psqlrc --dbname="$url" -c "DO \$\$ BEGIN
    ALTER FUNCTION word_similarity_commutator_op(text, text) COST 100;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'as the extension owner run: ALTER FUNCTION word_similarity_commutator_op(text, text) COST 100';
  END \$\$" || echo "warning: could not re-apply the directory search's planner cost" >&2
fi
echo "restored $file"
