"""The local certificate authority and the departments' signing keys.

`keys init` creates a root CA (ECDSA P-256, 20 years) under YIWANG_KEYS_DIR/ca; each issuing department gets
its own key and certificate from it the first time it signs (YIWANG_KEYS_DIR/departments/<code>.*.pem).
Private keys are written 0600 in 0700 folders outside the repository and never leave the server."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.settings import get_settings

CA_YEARS = 20
SIGNER_YEARS = 5


@dataclass(frozen=True)
class SignerFiles:
    key: Path
    cert: Path
    ca_cert: Path


def ca_dir() -> Path:
    return get_settings().keys_dir / "ca"


def ca_cert_path() -> Path:
    return ca_dir() / "root.cert.pem"


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_new(path: Path, data: bytes, mode: int) -> bool:
    """Write a file that must not exist yet (another worker may be writing it too): False if it existed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fp:
        fp.write(data)
    return True


def _name(common: str, unit: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "一网通办电子证照"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        x509.NameAttribute(NameOID.COMMON_NAME, common),
    ])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def init_ca() -> bool:
    """Create the root CA once; never overwrite it. True if it was created now."""
    folder = private_dir(ca_dir())
    key_path, cert_path = folder / "root.key.pem", ca_cert_path()
    if key_path.exists() and cert_path.exists():
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = _name("一网通办电子证照根证书 (本地)", "根证书")
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    if not write_new(key_path, _pem_key(key), 0o600):
        return False
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return True


def department_signer(code: str, name: str) -> SignerFiles:
    """The department's signing key and certificate, issued by the root CA the first time it is needed."""
    folder = private_dir(get_settings().keys_dir / "departments")
    safe = "".join(ch for ch in code if ch.isalnum() or ch in "-_")[:60]
    key_path, cert_path = folder / f"{safe}.key.pem", folder / f"{safe}.cert.pem"
    files = SignerFiles(key=key_path, cert=cert_path, ca_cert=ca_cert_path())
    if key_path.exists() and cert_path.exists():
        return files
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several workers may sign for a new department at once
        if not (key_path.exists() and cert_path.exists()):
            _issue_signer(name, key_path, cert_path)
    return files


def _issue_signer(name: str, key_path: Path, cert_path: Path) -> None:
    ca_key_path = ca_dir() / "root.key.pem"
    if not ca_key_path.exists():
        raise RuntimeError("no root CA: run `python -m app keys init` first")
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path().read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(_name(name[:60], "签发部门")).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    key_path.unlink(missing_ok=True)
    write_new(key_path, _pem_key(key), 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
