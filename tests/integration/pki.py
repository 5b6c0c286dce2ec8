"""A throwaway PKI made with the openssl CLI: a CA, a server cert for 127.0.0.1, and client certs by CN."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class Pki:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ca_key, self.ca_cert = root / "ca.key", root / "ca.pem"
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(self.ca_key))
        _openssl("req", "-x509", "-new", "-key", str(self.ca_key), "-sha256", "-days", "2", "-subj", "/CN=test-ca",
                 "-out", str(self.ca_cert))
        self.server_cert, self.server_key = self.issue("localhost", san="IP:127.0.0.1,DNS:localhost")

    def issue(self, common_name: str, san: str | None = None) -> tuple[Path, Path]:
        """(certificate, key) signed by the CA for `common_name`."""
        key, csr, cert = (self.root / f"{common_name}.{ext}" for ext in ("key", "csr", "pem"))
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key))
        _openssl("req", "-new", "-key", str(key), "-subj", f"/CN={common_name}", "-out", str(csr))
        extensions = self.root / f"{common_name}.ext"
        extensions.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
                 "-CAcreateserial", "-days", "2", "-sha256", "-extfile", str(extensions), "-out", str(cert))
        key.chmod(0o600)
        return cert, key
