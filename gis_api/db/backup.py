"""Backup and restore: one tar file with a pg_dump of the database and the photos under var/media.

The archive holds
  manifest.json   format, time, schema revision, exact row counts per table, photo count, dump digest
  database.dump   `pg_dump --format=custom`, taken in the same snapshot as the row counts
  media/<sha256>.<ext>  every stored photo (content-addressed, so restoring one twice is harmless)

The dump is taken before the photos are copied: a photo is stored before any case event cites it,
so every photo the dump refers to is in the archive. A restore is one transaction (wipe with
--force, then load): it either replaces the database whole or leaves it as it was. Grants are
not restored from the dump but re-applied for this server's roles (gis_api.db.roles).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from gis_api.cases.media import media_dir
from gis_api.db import migrate
from gis_api.db.cluster import enable_extensions, find_pg_bindir
from gis_api.db.roles import QGIS_SCHEMA, own_tables, quote
from gis_api.errors import ConflictError, DomainError, LoadError

FORMAT = "wangge-backup-1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_NAME = re.compile(r"^media/([0-9a-f]{64})\.(jpg|png|webp)$")
# entries of the dump the target already has (the extensions were enabled before the restore) or
# that belong to an extension rather than to us
SKIPPED_TOC = re.compile(r" (EXTENSION|COMMENT - EXTENSION) | TABLE DATA public spatial_ref_sys ")

Progress = Callable[[str], None]


class BackupError(DomainError):
    """A backup could not be written or a restore could not run; nothing was changed."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str | None
    rows: dict[str, int]
    photos: int
    size: int

    def __str__(self) -> str:
        total = sum(self.rows.values())
        return (
            f"{self.path}: schema {self.revision}, {len(self.rows)} tables, {total:,} rows, "
            f"{self.photos} photos, {self.size / 1e6:.1f} MB"
        )


def libpq_env(url: str) -> dict[str, str]:
    """PG* environment variables for pg_dump/pg_restore/psql (the password never on a command line)."""
    parsed = make_url(url)
    env = {**os.environ, "PGDATABASE": parsed.database or ""}
    host = parsed.host or parsed.query.get("host")  # ?host=/run/postgresql for a Unix socket
    if host:
        env["PGHOST"] = str(host)
    if parsed.port:
        env["PGPORT"] = str(parsed.port)
    if parsed.username:
        env["PGUSER"] = parsed.username
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    if "sslmode" in parsed.query:
        env["PGSSLMODE"] = str(parsed.query["sslmode"])
    return env


def tool(name: str) -> str:
    return str(find_pg_bindir() / name)


def row_counts(connection: Connection) -> dict[str, int]:
    """Exact row counts of every table of ours in `public`."""
    return {
        table: int(connection.execute(text(f"SELECT count(*) FROM public.{quote(table)}")).scalar_one())
        for table in own_tables(connection)
        if _is_table(connection, table)
    }


def _is_table(connection: Connection, name: str) -> bool:
    kind = connection.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:n)"), {"n": f"public.{quote(name)}"}
    ).scalar()
    return kind in ("r", "p")


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in own_tables(connection):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def backup(engine: Engine, var_dir: Path, target: Path, progress: Progress = print) -> BackupSummary:
    """Write the archive to `target` (atomically: a failed backup leaves no file behind)."""
    url = engine.url.render_as_string(hide_password=False)
    target = target.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot write the backup to {target}: {error.strerror}") from error
    with tempfile.TemporaryDirectory(prefix="wangge-backup-") as work:
        dump = Path(work) / DUMP
        progress(f"dumping {engine.url.database} (pg_dump, custom format)")
        rows, revision = _dump_in_snapshot(engine, url, dump)
        photos = sorted(media_dir(var_dir).glob("*.*")) if media_dir(var_dir).is_dir() else []
        photos = [p for p in photos if MEDIA_NAME.match(f"media/{p.name}")]
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": engine.url.database,
            "revision": revision,
            "rows": rows,
            "photos": len(photos),
            "dump_sha256": _sha256(dump),
        }
        progress(f"archiving the dump and {len(photos)} photos into {target}")
        partial = target.with_name(f".{target.name}.partial")
        try:
            _write_archive(partial, manifest, dump, photos)
            os.replace(partial, target)
        except OSError as error:
            raise BackupError(f"cannot write the backup to {target}: {error}") from error
        finally:
            partial.unlink(missing_ok=True)
    return BackupSummary(target, revision, rows, len(photos), target.stat().st_size)


def _dump_in_snapshot(engine: Engine, url: str, dump: Path) -> tuple[dict[str, int], str | None]:
    """Count the rows and run pg_dump on the same exported snapshot, so the two agree exactly."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            rows, revision = row_counts(connection), _revision(connection)
            command = [tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"]
            result = subprocess.run(command, env=libpq_env(url), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return rows, revision


def _write_archive(path: Path, manifest: dict[str, Any], dump: Path, photos: list[Path]) -> None:
    """The tar file, readable by its owner only: it holds the household register."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as archive:
        data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
        archive.addfile(info, io.BytesIO(data))
        archive.add(dump, arcname=DUMP)
        for photo in photos:
            archive.add(photo, arcname=f"media/{photo.name}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class RestoreSummary:
    revision: str | None
    rows: dict[str, int]
    photos_added: int
    replaced: bool

    def __str__(self) -> str:
        how = "replaced the database" if self.replaced else "restored into an empty database"
        return (
            f"{how}: schema {self.revision}, {sum(self.rows.values()):,} rows in {len(self.rows)} tables "
            f"(the same counts as at backup time), {self.photos_added} photos added"
        )


def restore(
    engine: Engine, var_dir: Path, source: Path, force: bool = False, progress: Progress = print
) -> RestoreSummary:
    """Load an archive into the database of `engine` (empty, or any with force) and its photos.

    Everything is read and checked (manifest, dump digest, photo digests, schema revision) before
    the database is touched."""
    with _opened(source) as archive, tempfile.TemporaryDirectory(prefix="wangge-restore-") as work:
        manifest = _manifest(archive, source)
        try:
            dump = _extract_dump(archive, manifest, Path(work), source)
            photos = _stage_media(archive, Path(work) / "media", source)
        except (OSError, tarfile.TarError) as error:
            raise LoadError(f"{source} cannot be read whole (damaged or truncated): {error}") from error
        _check_revision_known(manifest.get("revision"))
        url = engine.url.render_as_string(hide_password=False)
        enable_extensions(url)
        with engine.connect() as connection:
            occupied = _occupied(connection)
        if occupied and not force:
            raise ConflictError(
                f"database {engine.url.database} is not empty ({occupied}): restore refuses to "
                "overwrite it; back it up first, then run again with --force"
            )
        progress(f"restoring {source} into {engine.url.database} (one transaction)")
        _load(url, dump, Path(work), wipe=bool(occupied))
        with engine.connect() as connection:
            restored = row_counts(connection)
        _check_counts(manifest["rows"], restored)
        added = _install_media(photos, media_dir(var_dir))
    migrate.upgrade(engine)  # an older backup is brought to this schema; grants for this server's roles
    return RestoreSummary(manifest.get("revision"), restored, added, bool(occupied))


@contextmanager
def _opened(source: Path) -> Iterator[tarfile.TarFile]:
    try:
        archive = tarfile.open(source, "r:")  # noqa: SIM115  (closed below; open errors get their own message)
    except (OSError, tarfile.TarError) as error:
        raise LoadError(f"{source} is not a wangge backup: {error}") from error
    with archive:
        yield archive


def _manifest(archive: tarfile.TarFile, source: Path) -> dict[str, Any]:
    """The manifest, read as the archive's first member (where backup writes it) without scanning
    the rest: a truncated archive is then reported as truncated, not as a stranger's file."""
    try:
        first = next(iter(archive), None)
        if first is None or first.name != MANIFEST:
            raise KeyError(f"the first member is {first.name if first else 'missing'}")
        handle = archive.extractfile(first)
        manifest = json.load(handle) if handle else None
    except (KeyError, ValueError, tarfile.TarError) as error:
        raise LoadError(f"{source} is not a wangge backup: no readable {MANIFEST} ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LoadError(f"{source} is not a wangge backup of format {FORMAT}")
    if not isinstance(manifest.get("rows"), dict):
        raise LoadError(f"{source}: the manifest has no row counts")
    return manifest


def _extract_dump(archive: tarfile.TarFile, manifest: dict[str, Any], work: Path, source: Path) -> Path:
    dump = work / DUMP
    try:
        member = archive.getmember(DUMP)
        handle = archive.extractfile(member)
    except KeyError as error:
        raise LoadError(f"{source} holds no {DUMP}") from error
    if handle is None:
        raise LoadError(f"{source}: {DUMP} is not a regular file")
    with dump.open("wb") as out:
        shutil.copyfileobj(handle, out, 1 << 20)
    if _sha256(dump) != manifest.get("dump_sha256"):
        raise LoadError(f"{source}: the database dump does not match its checksum (damaged archive)")
    return dump


def _check_revision_known(revision: object) -> None:
    """A backup from a newer wangge cannot be migrated by this one: say so before touching anything."""
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from gis_api.db.migrate import MIGRATIONS_DIR

    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    try:
        known = scripts.get_revision(str(revision)) is not None
    except CommandError:
        known = False
    if not known:
        raise LoadError(f"the backup's schema revision {revision} is unknown here: upgrade wangge first")


def _occupied(connection: Connection) -> str:
    """'' for an empty database, else what is in it."""
    tables = own_tables(connection)
    qgis = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": QGIS_SCHEMA}
    ).first()
    if not tables and not qgis:
        return ""
    return f"{len(tables)} tables" if tables else f"schema {QGIS_SCHEMA}"


WIPE_SQL = """
DROP SCHEMA IF EXISTS qgis CASCADE;
DO $wipe$
DECLARE item record;
BEGIN
    FOR item IN
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
            CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, item.relname);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS routine FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', item.routine);
    END LOOP;
    FOR item IN
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND NOT EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', item.typname);
    END LOOP;
END $wipe$;
"""
"""Drops everything of ours (tables, views, sequences, functions, types, the qgis views) and
nothing an extension owns, so PostGIS and pgRouting stay in place."""


def _load(url: str, dump: Path, work: Path, wipe: bool) -> None:
    """pg_restore's SQL piped into one psql transaction, after the wipe when there is one."""
    env = libpq_env(url)
    listing = subprocess.run(
        [tool("pg_restore"), "--list", str(dump)], env=env, capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise LoadError(f"the database dump cannot be read: {listing.stderr.strip()}")
    keep = [line for line in listing.stdout.splitlines() if not SKIPPED_TOC.search(line)]
    (work / "toc.list").write_text("\n".join(keep) + "\n")
    sql = [tool("pg_restore"), "--no-owner", "--no-privileges", f"--use-list={work / 'toc.list'}", "-f", "-"]
    psql = [tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    # stderr goes to files: two pipes read one after the other could fill up and block both programs
    with (
        (work / "pg_restore.err").open("w+b") as source_errors,
        (work / "psql.err").open("w+b") as sink_errors,
        subprocess.Popen([*sql, str(dump)], env=env, stdout=subprocess.PIPE, stderr=source_errors) as source,
        subprocess.Popen(
            psql, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=sink_errors, bufsize=0
        ) as sink,
    ):
        assert source.stdout is not None and sink.stdin is not None
        try:
            if wipe:
                sink.stdin.write(WIPE_SQL.encode())
            shutil.copyfileobj(source.stdout, sink.stdin, 1 << 20)
            sink.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at the first error: its message is in its stderr
        source.wait()
        sink.wait()
        failed = source.returncode != 0 or sink.returncode != 0
        source_errors.seek(0)
        sink_errors.seek(0)
        reason = (sink_errors.read() or source_errors.read()).decode(errors="replace").strip().splitlines()
    if failed:
        raise BackupError(f"restore failed, the database is unchanged: {' '.join(reason[:3])}")


def _check_counts(expected: dict[str, Any], restored: dict[str, int]) -> None:
    wrong = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
    if wrong:
        listed = ", ".join(f"{t}: {n} in the backup, {got} now" for t, (n, got) in sorted(wrong.items()))
        raise BackupError(f"restored row counts differ from the backup's: {listed}")


def _stage_media(archive: tarfile.TarFile, folder: Path, source: Path) -> list[Path]:
    """Unpack the archive's photos into a work folder, each checked against its content digest."""
    staged = []
    folder.mkdir(parents=True, exist_ok=True)
    for member in archive.getmembers():
        match = MEDIA_NAME.match(member.name)
        if not match or not member.isfile():
            continue
        handle = archive.extractfile(member)
        data = handle.read() if handle else b""
        if hashlib.sha256(data).hexdigest() != match.group(1):
            raise LoadError(f"{source}: photo {member.name} does not match its digest (damaged archive)")
        path = folder / f"{match.group(1)}.{match.group(2)}"
        path.write_bytes(data)
        staged.append(path)
    return staged


def _install_media(staged: list[Path], folder: Path) -> int:
    """Move the checked photos into var/media (atomically each); ones already there are kept."""
    added = 0
    folder.mkdir(parents=True, exist_ok=True)
    for photo in staged:
        target = folder / photo.name
        if target.exists():
            continue
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".restore-")
        with os.fdopen(descriptor, "wb") as out:
            out.write(photo.read_bytes())
        os.replace(temporary, target)
        added += 1
    return added
