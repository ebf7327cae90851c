"""Write the test certificates of this directory (test-only keys; nothing trusts this CA).

    python3 tests/unit/files/tls/make.py

ca.pem issued shop.pem for shop.example.org and www.shop.example.org (valid 2020-2120);
shop-fullchain.pem is shop.pem then ca.pem; shop.key is its key, other.key a key of nothing here.
expired.pem is a certificate for shop.example.org that ran out in 2021. Unit tests and scenario tls
use them for the refusals of nginx_site_tls files.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
START = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificate(subject, public, issuer, signer, *, names=(), ca=False, end=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(end or START.replace(year=2120))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(private):
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def main():
    ca_key, shop_key, other_key = key(), key(), key()
    ca = certificate("pyops test CA", ca_key.public_key(), "pyops test CA", ca_key, ca=True)
    names = ["shop.example.org", "www.shop.example.org"]
    shop = certificate(names[0], shop_key.public_key(), "pyops test CA", ca_key, names=names)
    expired = certificate(
        names[0],
        shop_key.public_key(),
        "pyops test CA",
        ca_key,
        names[:1],
        end=START.replace(year=2021),
    )
    files = {
        "ca.pem": pem(ca),
        "shop.pem": pem(shop),
        "shop-fullchain.pem": pem(shop) + pem(ca),
        "shop.key": key_pem(shop_key),
        "other.key": key_pem(other_key),
        "expired.pem": pem(expired),
    }
    for file_name, text in files.items():
        (HERE / file_name).write_text(text)


if __name__ == "__main__":
    main()
