"""deploy/nginx/pricetracker.conf passes `nginx -t` on the nginx installed (Debian 12: 1.22)."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

SITE = ROOT / "deploy" / "nginx" / "pricetracker.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not found:
        pytest.skip("nginx is not installed (scripts/test installs Debian's nginx when apt-get can)")
    return found


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "prices.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_the_site_config_passes_nginx_t(tmp_path):
    nginx = _nginx()
    cert, key = _self_signed(tmp_path)
    site = SITE.read_text()
    # Only the certificate paths change: certbot's files do not exist here.
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
    assert done.returncode == 0, f"{version}\n{done.stderr}"
    assert "syntax is ok" in done.stderr


def test_the_site_config_uses_no_directive_newer_than_nginx_1_22():
    # `http2 on;` came with 1.25.1; `listen ... http2` works from 1.9.5 on.
    assert not re.search(r"^\s*http2\s+on\s*;", SITE.read_text(), re.M)
