#!/usr/bin/env bash
# One backup run (lokus-backup.service): a new folder per run, a copy off this machine, old
# folders pruned. Settings from the environment:
#   LOKUS_BACKUP_DIR      where the folders go (default /var/backups/lokus)
#   LOKUS_BACKUP_KEEP     days to keep them here (default 14)
#   LOKUS_BACKUP_REMOTE   rsync destination for the copy elsewhere (user@host:/path), optional
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${LOKUS_BACKUP_DIR:-/var/backups/lokus}"
keep="${LOKUS_BACKUP_KEEP:-14}"
target="$dir/lokus-$(date +%Y%m%d-%H%M%S)"

mkdir -p "$dir"
.venv/bin/python manage.py backup "$target"

if [ -n "${LOKUS_BACKUP_REMOTE:-}" ]; then
  rsync -a --partial "$target" "$LOKUS_BACKUP_REMOTE/"
fi

# Only complete backups (with a manifest) older than $keep days are removed.
find "$dir" -mindepth 2 -maxdepth 2 -name manifest.json -mtime "+$keep" -printf '%h\0' | xargs -0 -r rm -rf --
