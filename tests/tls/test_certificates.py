"""The local CA and server certificate phones trust: names, usages, lifetimes, reuse, file modes."""

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from gis_api.cli.serving import _is_loopback
from gis_api.errors import InvalidInputError
from gis_api.tls import SERVER_DAYS, check_pair, issue_self_signed, tls_files


def certificates(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_server_certificate_names_usages_and_chain(tmp_path: Path) -> None:
    issued = issue_self_signed(tmp_path, ["wangge.test", "192.168.1.20", "fd00::20"])
    server, ca = certificates(issued.files.server_cert)
    assert certificates(issued.files.ca_cert) == [ca]
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["wangge.test"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("192.168.1.20"),
        ipaddress.ip_address("fd00::20"),
    ]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert lifetime <= timedelta(days=398)  # phones refuse longer-lived server certificates
    assert issued.ca_created and len(issued.ca_fingerprint.split(":")) == 32


def test_ca_is_reused_so_phones_install_it_once(tmp_path: Path) -> None:
    first = issue_self_signed(tmp_path, ["wangge.test"])
    old_server = certificates(first.files.server_cert)[0]
    again = issue_self_signed(tmp_path, ["wangge.test", "10.0.0.5"])
    assert not again.ca_created and again.ca_fingerprint == first.ca_fingerprint
    new_server = certificates(again.files.server_cert)[0]
    assert new_server.serial_number != old_server.serial_number
    assert "10.0.0.5" in str(new_server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)


def test_a_ca_about_to_expire_is_replaced(tmp_path: Path) -> None:
    made = issue_self_signed(tmp_path, ["wangge.test"], now=datetime.now(UTC) - timedelta(days=3650 - 100))
    later = issue_self_signed(tmp_path, ["wangge.test"])
    assert later.ca_created and later.ca_fingerprint != made.ca_fingerprint
    server = certificates(later.files.server_cert)[0]
    assert server.not_valid_after_utc - server.not_valid_before_utc <= timedelta(days=SERVER_DAYS, minutes=5)


def test_keys_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    files = issue_self_signed(tmp_path, ["wangge.test"]).files
    for key in (files.ca_key, files.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.folder.stat().st_mode) == 0o700
    check_pair(files.server_cert, files.server_key)


@pytest.mark.parametrize("host", ["", "http://wangge.test", "wangge test", "-bad.example", "1.2.3", "a" * 64])
def test_bad_host_names_are_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(InvalidInputError, match="neither an IP address nor a DNS name"):
        issue_self_signed(tmp_path, [host])
    assert not tls_files(tmp_path).server_cert.exists()


def test_mismatched_or_missing_files_are_one_clear_error(tmp_path: Path) -> None:
    one = issue_self_signed(tmp_path / "one", ["wangge.test"]).files
    two = issue_self_signed(tmp_path / "two", ["wangge.test"]).files
    with pytest.raises(InvalidInputError, match="cannot use"):
        check_pair(one.server_cert, two.server_key)
    with pytest.raises(InvalidInputError, match="does not exist"):
        check_pair(tmp_path / "nope.crt", one.server_key)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
    ],
)
def test_only_loopback_serves_plain_http_without_a_warning(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
