#!/bin/sh
# One backup (`wangge db backup`: database dump + photos) into $BACKUP_DIR, then retention:
# nightly backups for $KEEP_DAYS days, and the first of each month for $KEEP_MONTHS months.
# Copy $BACKUP_DIR off this machine too (rsync, the city's backup system): a backup on the same
# disk does not survive the disk.
set -eu
BACKUP_DIR=${BACKUP_DIR:-/var/backups/wangge}
KEEP_DAYS=${KEEP_DAYS:-14}
KEEP_MONTHS=${KEEP_MONTHS:-12}
WANGGE=${WANGGE:-/opt/wangge/.venv/bin/wangge}

mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"
"$WANGGE" db backup "$BACKUP_DIR/wangge-$(date +%Y%m%d-%H%M%S).tar"
# nightly ones past KEEP_DAYS, except the first of a month
find "$BACKUP_DIR" -maxdepth 1 -type f -name 'wangge-*.tar' ! -name 'wangge-??????01-*.tar' \
    -mtime +"$KEEP_DAYS" -print -delete
# monthly ones past KEEP_MONTHS
find "$BACKUP_DIR" -maxdepth 1 -type f -name 'wangge-??????01-*.tar' \
    -mtime +"$((KEEP_MONTHS * 31))" -print -delete
