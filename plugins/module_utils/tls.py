# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS for an nginx site: the rules of its TLS settings, the checks of its certificate, and the
values its server blocks are written from.

A site's TLS comes from one of three sources (``nginx_site_tls``): ``files`` (a certificate chain
and its key, on the controller or on the host), ``self_signed`` (made on the host, for test hosts)
or ``acme`` (certbot on the host, HTTP-01 through the site's own nginx, renewed by certbot.timer).

``rules(settings, names)`` checks the settings alone; ``material_errors(...)`` checks a certificate
chain and a public key against each other and against the site's names; ``site_tls(settings,
readings)`` decides what nginx is told. Pure: no I/O. The certificate parsing needs the
``cryptography`` library, which ansible-core itself requires on the controller; without it the
settings' rules still run.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re

from ansible_collections.pyops.uwsgi.plugins.module_utils import host_paths, values

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import AuthorityInformationAccessOID
except ImportError:  # pragma: no cover - ansible-core requires cryptography on the controller
    x509 = None

SOURCES = ("none", "files", "self_signed", "acme")
# Where the role keeps a site's certificate and key: files copied from the controller, and the
# self-signed ones it makes. ACME certificates stay where certbot keeps them.
TLS_DIR = "/etc/nginx/tls"
ACME_LIVE_DIR = "/etc/letsencrypt/live"
# The directory nginx serves /.well-known/acme-challenge/ from, and certbot's webroot.
ACME_WEBROOT = "/var/lib/pyops-acme"
# RFC 7919's ffdhe2048 group, for the DHE suites of Mozilla's intermediate profile.
DHPARAM = "/etc/nginx/pyops-ffdhe2048.pem"
# Mozilla's "intermediate" profile (Server Side TLS guideline 5.7, nginx): TLS 1.2 and 1.3, AEAD
# suites with forward secrecy, the client's preference (every suite is strong).
PROTOCOLS = "TLSv1.2 TLSv1.3"
CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    )
)
CURVES = "X25519:prime256v1:secp384r1"
# nginx 1.25.1 moved HTTP/2 from a listen flag to the http2 directive (the flag is deprecated).
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)
# HSTS preload lists take a site only with a year or more and includeSubDomains.
PRELOAD_MIN_AGE = 31536000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s;'\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s.+?-----END CERTIFICATE-----", re.DOTALL)

# The settings' names in the nginx role; the app role passes its own (app_tls, ...).
NGINX_NAMES = {
    "tls": "nginx_site_tls",
    "listen": "nginx_site_listen",
    "tls_listen": "nginx_site_tls_listen",
    "server_names": "nginx_site_server_names",
    "certificate": "nginx_site_tls_certificate",
    "key": "nginx_site_tls_key",
    "remote_src": "nginx_site_tls_remote_src",
    "hsts_max_age": "nginx_site_tls_hsts_max_age",
    "hsts_include_subdomains": "nginx_site_tls_hsts_include_subdomains",
    "hsts_preload": "nginx_site_tls_hsts_preload",
}


class CertificateError(ValueError):
    """A certificate or key that cannot be read."""


def hostname(name, wildcard=False):
    """True for a DNS host name (RFC 1123 labels), such as shop.example.org; *.example.org with
    WILDCARD."""
    if not isinstance(name, str) or not name or len(name) > 253:
        return False
    labels = name.lower().split(".")
    if wildcard and labels[0] == "*" and len(labels) > 2:
        labels = labels[1:]
    return all(_LABEL.fullmatch(label) for label in labels)


def certified_names(server_names):
    """The server names a certificate must cover: all but "_" (any Host)."""
    return [name for name in server_names if name != "_"]


def rules(s, names=None):
    """(ok, message) for the TLS settings S of a site, named as NAMES says (NGINX_NAMES)."""
    n = names or NGINX_NAMES
    source = s[n["tls"]]
    if source == "none":
        return
    wildcard = source != "acme"
    certified = certified_names(s[n["server_names"]])
    yield (
        len(certified) > 0 and all(hostname(name, wildcard) for name in certified),
        f"{n['server_names']} must be valid host names for a site with {n['tls']} {source}:"
        " labels of 1-63 letters, digits and '-', neither first nor last a '-', dot-separated"
        + (
            ", such as shop.example.org or *.example.org"
            if wildcard
            else ", such as shop.example.org (ACME's HTTP-01 challenge cannot prove a wildcard)"
        )
        + f'; "_" may be added, but not alone, and no regular expression; got'
        f" {s[n['server_names']]}.",
    )
    certificate, key, remote = s[n["certificate"]], s[n["key"]], s[n["remote_src"]]
    if source == "files":
        yield (
            certificate != ""
            and key != ""
            and (not remote or (_absolute(certificate) and _absolute(key))),
            f"{n['tls']} files needs {n['certificate']} (the certificate, then its intermediates,"
            f" PEM) and {n['key']} (its private key, PEM): paths on the controller, or absolute"
            f" paths on the host with {n['remote_src']}; got '{certificate}' and '{key}'.",
        )
    else:
        yield (
            certificate == "" and key == "",
            f"{n['certificate']} and {n['key']} are for {n['tls']} files; with {source} the"
            f" role makes or fetches the certificate itself. Got '{certificate}' and '{key}'.",
        )
    tls_listen, listen = s[n["tls_listen"]], s[n["listen"]]
    yield (
        len(tls_listen) > 0
        and all(
            values.nginx_listen(item) and not str(item).startswith("unix:") for item in tls_listen
        )
        and not {_port(item) for item in tls_listen} & {_port(item) for item in listen},
        f'{n["tls_listen"]} items must be TCP listen values such as "443" or "[::]:443",'
        f" on other ports than {n['listen']} (which redirects to them); got {tls_listen} and"
        f" {listen}.",
    )
    age = s[n["hsts_max_age"]]
    preload = s[n["hsts_preload"]]
    yield (
        0 <= age <= 63072000
        and (not preload or (age >= PRELOAD_MIN_AGE and s[n["hsts_include_subdomains"]])),
        f"{n['hsts_max_age']} must be 0 (no HSTS header) to 63072000 seconds (two years), and"
        f" {n['hsts_preload']} needs at least {PRELOAD_MIN_AGE} (a year) and"
        f" {n['hsts_include_subdomains']}, as the preload lists require; got {age},"
        f" preload {preload}.",
    )


def acme_rules(s):
    """(ok, message) for the host-wide ACME settings of the nginx role."""
    directory, email, bundle = (
        s["nginx_acme_directory"],
        s["nginx_acme_email"],
        s["nginx_acme_ca_bundle"],
    )
    yield (
        directory.startswith("https://") and values.HTTP_URL.fullmatch(directory) is not None,
        f"nginx_acme_directory must be the https:// URL of an ACME directory; got '{directory}'.",
    )
    yield (
        email == "" or _EMAIL.fullmatch(email) is not None,
        f"nginx_acme_email must be an e-mail address (the CA's expiry notices) or empty; got"
        f" '{email}'.",
    )
    yield (
        bundle == "" or _absolute(bundle),
        "nginx_acme_ca_bundle must be an absolute path on the host (a CA bundle certbot trusts"
        f" for the ACME server's own HTTPS) or empty; got '{bundle}'.",
    )


def _absolute(path):
    """An absolute path written as the kernel resolves it (no '.', '..', '//' or trailing '/')."""
    return bool(values.ABSOLUTE_PATH.fullmatch(path)) and host_paths.normalize(path) == path


def _port(listen):
    first = str(listen).split(" ", maxsplit=1)[0]
    return first.rpartition(":")[2]


def paths(site_name, source, certificate="", key="", remote_src=False):
    """Where nginx reads the site's chain and key on the host."""
    if source == "acme":
        live = f"{ACME_LIVE_DIR}/{site_name}"
        return {"dir": live, "certificate": f"{live}/fullchain.pem", "key": f"{live}/privkey.pem"}
    if source == "files" and remote_src:
        return {"dir": "", "certificate": certificate, "key": key}
    own = f"{TLS_DIR}/{site_name}"
    return {"dir": own, "certificate": f"{own}/fullchain.pem", "key": f"{own}/privkey.pem"}


def _x509():
    if x509 is None:  # pragma: no cover - ansible-core requires cryptography
        raise CertificateError(
            "cannot be checked: checking a certificate needs the Python library cryptography on"
            " the controller"
        )
    return x509, serialization


def load_chain(pem):
    """The certificates of a PEM text, in order; CertificateError when there is none."""
    _x509()
    blocks = _PEM_CERT.findall(pem or "")
    if not blocks:
        raise CertificateError("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        return [x509.load_pem_x509_certificate(block.encode("ascii")) for block in blocks]
    except ValueError as exc:
        raise CertificateError(f"holds a certificate that cannot be read: {exc}") from None


def public_key_pem(key_pem=None, public_pem=None):
    """The SubjectPublicKeyInfo PEM of a private key (KEY_PEM) or of a public key (PUBLIC_PEM)."""
    _x509()
    try:
        if key_pem is not None:
            key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
            public = key.public_key()
        else:
            public = serialization.load_pem_public_key(public_pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        what = "private key (unencrypted PEM)" if key_pem is not None else "public key"
        raise CertificateError(f"is not a readable {what}: {exc}") from None
    return _spki(public)


def _spki(public):
    _x509()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _san(certificate):
    _x509()
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in extension.value.get_values_for_type(x509.DNSName)]


def covered(name, san):
    """True when one of the certificate's DNS names SAN covers host NAME (wildcards: one label)."""
    name = name.lower()
    for entry in san:
        if entry == name:
            return True
        if entry.startswith("*.") and "." in name and name.split(".", 1)[1] == entry[2:]:
            return True
    return False


def _ocsp_url(certificate):
    _x509()
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return ""
    for description in access.value:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            return description.access_location.value
    return ""


def _not_after(certificate):
    moment = getattr(certificate, "not_valid_after_utc", None)
    return moment or certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _not_before(certificate):
    moment = getattr(certificate, "not_valid_before_utc", None)
    return moment or certificate.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def describe(pem):
    """What the site's checks and template need of a chain: names, expiry, OCSP, fingerprint."""
    _x509()
    chain = load_chain(pem)
    leaf = chain[0]
    return {
        "names": _san(leaf),
        "not_after": _not_after(leaf).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ocsp_url": _ocsp_url(leaf),
        "chain_length": len(chain),
        "serial": format(leaf.serial_number, "x"),
        "sha256": hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
    }


def material_errors(server_names, chain_pem, public_pem, where, *, now=None, names=None):
    """Messages for a chain (CHAIN_PEM) and key (PUBLIC_PEM, the key's public half) that do not
    make a certificate nginx can serve for SERVER_NAMES. WHERE says where each came from."""
    n = names or NGINX_NAMES
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        chain = load_chain(chain_pem)
    except CertificateError as exc:
        return [f"{n['certificate']} ({where['certificate']}) {exc}."]
    errors = []
    leaf = chain[0]
    if public_pem is not None and _spki(leaf.public_key()) != public_pem:
        errors.append(
            f"{n['key']} ({where['key']}) does not match {n['certificate']}"
            f" ({where['certificate']}): the key's public half is not the one the certificate"
            " was issued for. Give the key of this certificate (or the certificate of this key)."
        )
    san = _san(leaf)
    missing = [name for name in certified_names(server_names) if not covered(name, san)]
    if missing:
        errors.append(
            f"{n['certificate']} ({where['certificate']}) does not cover {', '.join(missing)}"
            f" of {n['server_names']}: its names (subjectAltName) are {san or 'none'}. Use a"
            " certificate issued for every server name, or remove those names from the site."
        )
    if not _not_before(leaf) <= now <= _not_after(leaf):
        errors.append(
            f"{n['certificate']} ({where['certificate']}) is valid from"
            f" {_not_before(leaf):%Y-%m-%d} to {_not_after(leaf):%Y-%m-%d}, not now: renew it."
        )
    for number, (child, parent) in enumerate(zip(chain, chain[1:]), 1):
        if child.issuer != parent.subject or not _signed_by(child, parent):
            errors.append(
                f"{n['certificate']} ({where['certificate']}): certificate {number + 1} of the"
                f" chain did not issue certificate {number}; give the site's certificate first,"
                " then each intermediate in order (the order of a CA's fullchain.pem)."
            )
            break
    return errors


def _signed_by(child, parent):
    check = getattr(child, "verify_directly_issued_by", None)
    if check is None:  # cryptography < 40: the names were compared
        return True
    try:
        check(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _version(text):
    found = re.search(r"nginx/([0-9]+)\.([0-9]+)\.([0-9]+)", text or "")
    return tuple(int(part) for part in found.groups()) if found else (0, 0, 0)


def site_tls(s, readings=None):
    """The values nginx's server blocks of an HTTPS site are written from (the site template).

    READINGS: {"nginx_version": "nginx version: nginx/1.26.3", "chain": PEM of the site's
    certificate as the host has it (or as the controller gives it), "resolvers": [addresses of
    /etc/resolv.conf]}. ``ready`` is false while an ACME site has no certificate for its names yet
    (the site then serves HTTP and the challenge path; the role asks certbot and writes it again),
    and for a self-signed site whose certificate is missing or does not cover its names.
    """
    readings = readings or {}
    source = s["nginx_site_tls"]
    if source == "none":
        return {"enabled": False}
    name = s["nginx_site_name"]
    where = paths(
        name,
        source,
        s["nginx_site_tls_certificate"],
        s["nginx_site_tls_key"],
        s["nginx_site_tls_remote_src"],
    )
    chain = readings.get("chain") or ""
    info = {}
    if chain:
        try:
            info = describe(chain)
        except CertificateError:
            info = {}
    certified = certified_names(s["nginx_site_server_names"])
    covers = bool(info) and all(covered(host, info["names"]) for host in certified)
    ready = source == "files" or covers
    default = "_" in s["nginx_site_server_names"]
    http2_directive = _version(readings.get("nginx_version")) >= HTTP2_DIRECTIVE_SINCE
    listen = []
    for item in s["nginx_site_tls_listen"]:
        flags = " ssl" + ("" if http2_directive else " http2")
        flags += " default_server" if default and "default_server" not in str(item) else ""
        listen.append(f"{item}{flags}")
    port = _port(s["nginx_site_tls_listen"][0])
    resolvers = [address for address in readings.get("resolvers") or [] if _resolver(address)]
    # Stapling works only when the certificate names a responder, nginx has the issuer to check
    # the answer with, and a resolver to find the responder; otherwise nginx warns at each start.
    stapling = bool(info.get("ocsp_url")) and info.get("chain_length", 0) > 1 and bool(resolvers)
    age = s["nginx_site_tls_hsts_max_age"]
    hsts = ""
    if age > 0:
        hsts = f"max-age={age}"
        hsts += "; includeSubDomains" if s["nginx_site_tls_hsts_include_subdomains"] else ""
        hsts += "; preload" if s["nginx_site_tls_hsts_preload"] else ""
    return {
        "enabled": True,
        "source": source,
        "ready": ready,
        # An ACME site without its certificate: certbot is asked after the HTTP site is loaded.
        "issue": source == "acme" and not ready,
        # A self-signed site without a certificate for its names: the role makes one first.
        "generate": source == "self_signed" and not ready,
        "certificate": where["certificate"],
        "key": where["key"],
        "dir": where["dir"],
        "names": certified,
        "fingerprint": info.get("sha256", "") if source != "acme" else "",
        "listen": listen,
        "http2_directive": http2_directive,
        "redirect": "https://$host" + ("" if port == "443" else f":{port}") + "$request_uri",
        "acme_webroot": ACME_WEBROOT if source == "acme" else "",
        "protocols": PROTOCOLS,
        "ciphers": CIPHERS,
        "curves": CURVES,
        "dhparam": DHPARAM,
        "stapling": stapling,
        "resolvers": resolvers,
        "hsts": hsts,
        "target": values.site_target(
            s["nginx_site_tls_listen"], s["nginx_site_server_names"], scheme="https"
        ),
        "certbot_argv": certbot_argv(s) if source == "acme" else [],
        "self_signed_argv": self_signed_argv(certified, where) if source == "self_signed" else [],
    }


def certbot_argv(s):
    """certbot's command for the first certificate of an ACME site (renewals reuse its settings,
    which certbot keeps in /etc/letsencrypt/renewal/NAME.conf)."""
    email = s["nginx_acme_email"]
    argv = [
        "certbot", "certonly", "--non-interactive", "--agree-tos", "--no-eff-email",
        "--webroot", "--webroot-path", ACME_WEBROOT,
        "--cert-name", s["nginx_site_name"],
        "--server", s["nginx_acme_directory"],
        *(["--email", email] if email else ["--register-unsafely-without-email"]),
    ]  # fmt: skip
    for name in certified_names(s["nginx_site_server_names"]):
        argv += ["--domain", name]
    return argv


def self_signed_argv(names, where):
    """openssl's command for a self-signed certificate of NAMES (P-256, 825 days)."""
    return [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "825", "-subj", f"/CN={names[0]}",
        "-addext", "subjectAltName=" + ",".join(f"DNS:{name}" for name in names),
        "-keyout", where["key"], "-out", where["certificate"],
    ]  # fmt: skip


def resolvers(resolv_conf):
    """The nameserver addresses of an /etc/resolv.conf text."""
    found = []
    for line in (resolv_conf or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            found.append(parts[1])
    return found


def _resolver(address):
    """A resolver nginx may ask: a private or loopback address (never a public one)."""
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False
