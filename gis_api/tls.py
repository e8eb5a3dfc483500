"""A local certificate authority and a server certificate, so phones reach the API over HTTPS.

Browsers give the field app's essentials (location, crypto.randomUUID, crypto.subtle) only to
secure contexts. On a district LAN without a public domain the usual answer is a local CA: install
its certificate once on each phone, then any server certificate it signs is trusted. The CA is kept
and reused, so re-issuing the server certificate (new IP address, expiry) needs no phone visit.

Files under <var_dir>/tls/: ca.crt (install on phones), ca.key, server.crt (the server's certificate
followed by the CA's), server.key. Keys are readable by their owner only.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gis_api.errors import InvalidInputError

TLS_DIR = "tls"
CA_DAYS = 3650
SERVER_DAYS = 397
"""Apple and Google refuse server certificates valid for longer than 398 days."""
RENEW_CA_BEFORE = timedelta(days=SERVER_DAYS)
"""A CA that would expire before the server certificate it signs is replaced."""
DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True)
class TlsFiles:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"


@dataclass(frozen=True)
class Issued:
    files: TlsFiles
    hosts: tuple[str, ...]
    ca_created: bool
    ca_fingerprint: str
    """SHA-256 of the CA certificate, as phones show it (AA:BB:...)."""
    ca_spki_sha256: str
    """Base64 SHA-256 of the CA's public key (Chromium's --ignore-certificate-errors-spki-list)."""
    not_after: datetime


def tls_files(var_dir: Path) -> TlsFiles:
    return TlsFiles(Path(var_dir) / TLS_DIR)


def subject_names(hosts: list[str]) -> list[x509.GeneralName]:
    """SAN entries for DNS names and IP addresses; a clear error for anything else."""
    if not hosts:
        raise InvalidInputError("give at least one --host: the name or IP address phones will use")
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        if not DNS_NAME.match(host) or host.replace(".", "").isdigit():
            raise InvalidInputError(f"--host {host!r} is neither an IP address nor a DNS name")
        names.append(x509.DNSName(host.lower()))
    return names


def issue_self_signed(var_dir: Path, hosts: list[str], now: datetime | None = None) -> Issued:
    """Create (or reuse) the local CA and issue a server certificate for `hosts`."""
    now = now or datetime.now(UTC)
    names = subject_names(hosts)
    files = tls_files(var_dir)
    files.folder.mkdir(parents=True, exist_ok=True)
    files.folder.chmod(0o700)
    ca_key, ca_cert, created = _ca(files, now)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _server_certificate(key, ca_key, ca_cert, names, now)
    _write_key(files.server_key, key)
    pem = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    files.server_cert.write_bytes(pem)
    return Issued(
        files, tuple(hosts), created, fingerprint(ca_cert), spki_sha256(ca_cert), cert.not_valid_after_utc
    )


def _ca(files: TlsFiles, now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, bool]:
    if files.ca_cert.exists() and files.ca_key.exists():
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc - now > RENEW_CA_BEFORE:
            return key, cert, False
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wangge"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Wangge local CA {now:%Y-%m-%d %H%M%S}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(files.ca_key, key)
    files.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, True


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: list[x509.GeneralName],
    now: datetime,
) -> x509.Certificate:
    first = names[0].value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first))]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def fingerprint(cert: x509.Certificate) -> str:
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def spki_sha256(cert: x509.Certificate) -> str:
    import base64

    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def check_pair(cert: Path, key: Path) -> None:
    """Fail with one line, before serving, when the certificate or key cannot be used together."""
    for path in (cert, key):
        if not path.is_file():
            raise InvalidInputError(f"TLS file {path} does not exist")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as error:
        raise InvalidInputError(f"cannot use {cert} with {key}: {error}") from error
