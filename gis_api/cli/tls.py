"""wangge tls self-signed: a local CA and a server certificate for phones on the LAN."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import sub_parser
from gis_api.config import get_settings

PHONE_STEPS = """
在手机上安装 CA 证书（每台手机一次）/ Install the CA on each phone (once):
  1. 把 {ca} 发到手机（数据线、邮件或即时通讯的“文件”）。Copy {ca} to the phone (cable, mail, chat file).
  2. 核对指纹 / check the SHA-256 fingerprint:
     {fingerprint}
  Android: 设置 → 安全 → 加密与凭据 → 安装证书 → CA 证书，选择 ca.crt。
           Settings → Security → Encryption & credentials → Install a certificate → CA certificate.
  iPhone:  打开 ca.crt → 设置 → 已下载描述文件 → 安装；再到 设置 → 通用 → 关于本机 → 证书信任设置，
           打开对该证书的完全信任。
           Open ca.crt → Settings → Profile Downloaded → Install; then Settings → General → About →
           Certificate Trust Settings → turn on full trust for it.
"""


def cmd_self_signed(args: argparse.Namespace) -> int:
    """Create or reuse the local CA, issue the server certificate, say where things are."""
    from gis_api.tls import issue_self_signed

    issued = issue_self_signed(get_settings().var_dir, args.host)
    files = issued.files
    print(
        f"{'created' if issued.ca_created else 'reused'} the local CA: {files.ca_cert} (key {files.ca_key})"
    )
    print(f"server certificate for {', '.join(issued.hosts)}: {files.server_cert} (key {files.server_key})")
    print(f"valid until {issued.not_after:%Y-%m-%d}; run this again before then (the CA stays the same)")
    print(PHONE_STEPS.format(ca=files.ca_cert, fingerprint=issued.ca_fingerprint))
    port = 8443
    print("serve it / 启动服务:")
    pair = f"--tls-cert {files.server_cert} --tls-key {files.server_key}"
    print(f"  wangge serve --host 0.0.0.0 --port {port} {pair}")
    print(f"  phones open https://{issued.hosts[0]}:{port}/field")
    if issued.ca_created:
        print("this CA is new: install its ca.crt on every phone (ones that trusted an older CA too)")
    return 0


def register(commands: Any) -> None:
    tls = commands.add_parser("tls", help="certificates for HTTPS on the LAN (phones)")
    actions = tls.add_subparsers(dest="action", required=True)
    issued = sub_parser(
        actions, "self-signed", cmd_self_signed, help="local CA + server certificate in var/tls/"
    )
    issued.add_argument(
        "--host",
        action="append",
        required=True,
        help="a DNS name or IP address phones use to reach the server (repeat for several)",
    )
