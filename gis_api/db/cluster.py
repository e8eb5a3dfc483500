"""Embedded PostgreSQL + PostGIS + pgRouting cluster kept under the project's var/ directory.

initdb refuses to run as root, so when we are root the server runs as an unprivileged system user.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUPERUSER = "wangge"
DEFAULT_DATABASE = "wangge"
EXTENSIONS = ("postgis", "pgrouting", "pg_trgm")
SERVICE_USERS = ("postgres", "wangge")


class ClusterError(RuntimeError):
    """The embedded database could not be created, started or stopped."""


def find_pg_bindir() -> Path:
    """Locate the PostgreSQL server binaries (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    for initdb in candidates:
        return initdb.parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise ClusterError(
        "PostgreSQL server binaries not found: install them with "
        "`apt-get install postgresql postgresql-15-postgis-3 postgresql-15-pgrouting`"
    )


def free_loopback_port() -> int:
    """Ask the kernel for a currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def world_traversable(path: Path) -> bool:
    """True when every ancestor of path can be entered by an unprivileged user."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.resolve().parents)


def service_user() -> str | None:
    """The unprivileged account the server runs as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "wangge"],
        check=True,
    )
    return "wangge"


@dataclass
class EmbeddedCluster:
    """A PostgreSQL cluster in `<var_dir>/pg`, listening on a loopback port with trust auth."""

    var_dir: Path

    @property
    def root(self) -> Path:
        base = self.var_dir / "pg"
        if os.geteuid() == 0 and not world_traversable(self.var_dir):
            digest = hashlib.sha1(str(self.var_dir.resolve()).encode()).hexdigest()[:10]
            return Path("/var/tmp") / f"wangge-pg-{digest}"
        return base

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """SQLAlchemy URL of a database in this cluster (the cluster must have a port)."""
        return f"postgresql+psycopg2://{SUPERUSER}@127.0.0.1:{self.port()}/{database}"

    def port(self) -> int:
        if not self.port_file.exists():
            raise ClusterError(f"embedded database not initialised under {self.root}: run `wangge db up`")
        return int(self.port_file.read_text().strip())

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop across processes (pytest workers, two shells)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        user = service_user()
        return subprocess.run(
            args, check=check, capture_output=True, text=True, user=user, group=_group_of(user)
        )

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        status = self._run(
            [str(find_pg_bindir() / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False
        )
        return status.returncode == 0

    def initialise(self) -> None:
        """Run initdb once, owned by the service user when we are root."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = service_user()
        if user is not None:
            shutil.chown(self.root, user, _group_of(user))
            shutil.chown(self.data_dir, user, _group_of(user))
        self.data_dir.chmod(0o700)
        log.info("initialising embedded PostgreSQL cluster in %s", self.data_dir)
        result = self._run(
            [
                str(find_pg_bindir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        """Start the server on the remembered port, or a new free one if that port is taken."""
        port = int(self.port_file.read_text()) if self.port_file.exists() else free_loopback_port()
        if port_is_open(port):
            port = free_loopback_port()
        self.port_file.write_text(f"{port}\n")
        self.log_file.touch()
        user = service_user()
        if user is not None:
            shutil.chown(self.log_file, user, _group_of(user))
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=on"
        result = self._run(
            [
                str(find_pg_bindir() / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise ClusterError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")

    def ensure_running(self) -> str:
        """Initialise and start the cluster if needed, create the default database; return its URL."""
        with self._lock():
            if not (self.data_dir / "PG_VERSION").exists():
                self.initialise()
            if not self.is_running():
                self.start()
            self._wait_ready()
            self.create_roles()
            self.create_database(DEFAULT_DATABASE, exist_ok=True)
        return self.url()

    def create_roles(self) -> None:
        """The API and read-only roles (see gis_api.db.roles); no password: trust on loopback only."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        from gis_api.db.roles import ensure_roles

        engine = create_engine(self.url("postgres"), poolclass=NullPool)
        try:
            with engine.begin() as connection:
                ensure_roles(connection)
        finally:
            engine.dispose()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not port_is_open(self.port()):
            if time.monotonic() > deadline:
                raise ClusterError(f"PostgreSQL is not accepting connections on port {self.port()}")
            time.sleep(0.1)

    def stop(self) -> bool:
        """Stop the server cleanly (fast shutdown); False when it was not running."""
        with self._lock():
            if not self.is_running():
                return False
            self._run(
                [
                    str(find_pg_bindir() / "pg_ctl"),
                    "stop",
                    "-w",
                    "-m",
                    "fast",
                    "-D",
                    str(self.data_dir),
                ]
            )
            return True

    def create_database(self, name: str, exist_ok: bool = False) -> str:
        """Create a database with PostGIS and pgRouting enabled; return its URL."""
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=self.port(), user=SUPERUSER, dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
            elif not exist_ok:
                raise ClusterError(f"database {name!r} already exists")
        admin.close()
        enable_extensions(self.url(name))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions first."""
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=self.port(), user=SUPERUSER, dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _group_of(user: str | None) -> int | None:
    return pwd.getpwnam(user).pw_gid if user is not None else None


def enable_extensions(url: str) -> None:
    """Create PostGIS and pgRouting in a database, or explain how to get them."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for extension in EXTENSIONS:
                connection.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
    except Exception as error:
        raise ClusterError(
            f"PostGIS/pgRouting are not available in {engine.url.render_as_string(hide_password=True)}: "
            f"{str(error).splitlines()[0]}. Install them on the server (Debian: apt-get install "
            "postgresql-15-postgis-3 postgresql-15-pgrouting) and run `CREATE EXTENSION postgis; "
            "CREATE EXTENSION pgrouting;` as a superuser."
        ) from error
    finally:
        engine.dispose()
