"""HTTPS of an nginx site: the rules of its settings, the checks of its certificate and key, the
values its server blocks are written from, and the site template rendered with them.

The certificates are tests/unit/files/tls (tests/unit/files/tls/make.py); one with an OCSP
responder is made here.
"""

from __future__ import annotations

import base64
import datetime
from pathlib import Path

import pytest
import yaml
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_plan, role_rules, tls
from ansible_collections.pyops.uwsgi.plugins.plugin_utils import tls_files
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

ROOT = Path(__file__).resolve().parents[4]
FILES = ROOT / "tests" / "unit" / "files" / "tls"
CHAIN = (FILES / "shop-fullchain.pem").read_text()
LEAF = (FILES / "shop.pem").read_text()
CA = (FILES / "ca.pem").read_text()
SHOP_PUBLIC = tls.public_key_pem(key_pem=(FILES / "shop.key").read_text())
OTHER_PUBLIC = tls.public_key_pem(key_pem=(FILES / "other.key").read_text())
NAMES = ["shop.example.org", "www.shop.example.org"]
WHERE = {"certificate": "shop-fullchain.pem", "key": "shop.key"}


def site(**changes):
    given = {
        "nginx_site_name": "shop",
        "nginx_site_uwsgi_pass": "unix:/run/uwsgi/shop/shop.sock",
        "nginx_site_server_names": NAMES,
        **changes,
    }
    checked, errors = stand_in.settings("nginx", "site", **given)
    assert errors == [], errors
    return checked


def files_site(**changes):
    return site(
        **{
            "nginx_site_tls": "files",
            "nginx_site_tls_certificate": str(FILES / "shop-fullchain.pem"),
            "nginx_site_tls_key": str(FILES / "shop.key"),
            **changes,
        }
    )


def find(path):
    """ansible.builtin.copy's lookup of src, as the action does it: here, paths under ROOT."""
    found = Path(path) if path.startswith("/") else ROOT / path
    return str(found) if found.is_file() else None


def refused(settings, readings=None):
    return role_rules.errors("nginx", "site", settings, readings or {})


# --- the settings' rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"nginx_site_server_names": ["_"]}, "nginx_site_server_names"),
        ({"nginx_site_server_names": ["_"]}, "nginx_site_server_names"),
        ({"nginx_site_server_names": ["~^www\\d+\\.shop$"]}, "nginx_site_server_names"),
        ({"nginx_site_server_names": ["shop.example.*"]}, "nginx_site_server_names"),
        ({"nginx_site_server_names": ["a" * 64 + ".example.org"]}, "nginx_site_server_names"),
        ({"nginx_site_server_names": ["*.example.org"]}, "nginx_site_server_names"),
        ({"nginx_site_tls_certificate": "/etc/ssl/shop.pem"}, "nginx_site_tls_certificate"),
        ({"nginx_site_tls_listen": ["80"]}, "nginx_site_tls_listen"),
        ({"nginx_site_tls_listen": []}, "nginx_site_tls_listen"),
        ({"nginx_site_tls_listen": ["unix:/run/nginx.sock"]}, "nginx_site_tls_listen"),
        ({"nginx_site_tls_hsts_max_age": -1}, "nginx_site_tls_hsts_max_age"),
        ({"nginx_site_tls_hsts_max_age": 63072001}, "nginx_site_tls_hsts_max_age"),
        (
            {"nginx_site_tls_hsts_max_age": 31536000, "nginx_site_tls_hsts_preload": True},
            "nginx_site_tls_hsts_preload",
        ),
        (
            {
                "nginx_site_tls_hsts_max_age": 300,
                "nginx_site_tls_hsts_preload": True,
                "nginx_site_tls_hsts_include_subdomains": True,
            },
            "nginx_site_tls_hsts_preload",
        ),
        ({"nginx_acme_directory": "http://acme.example.org/dir"}, "nginx_acme_directory"),
        ({"nginx_acme_email": "ops at example.org"}, "nginx_acme_email"),
        ({"nginx_acme_ca_bundle": "certs/ca.pem"}, "nginx_acme_ca_bundle"),
    ],
)
def test_a_bad_acme_setting_is_refused_naming_its_variable(changes, variable):
    [message] = refused(site(nginx_site_tls="acme", **changes))
    assert variable in message


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"nginx_site_tls_key": ""}, "nginx_site_tls_key"),
        ({"nginx_site_tls_remote_src": True, "nginx_site_tls_key": "shop.key"}, "remote_src"),
        ({"nginx_site_server_names": ["_"]}, "nginx_site_server_names"),
    ],
)
def test_a_bad_files_setting_is_refused_naming_its_variable(changes, variable):
    settings = files_site(**changes)
    found = refused(settings, {"tls": tls_files.controller_material(settings, find)[1]})
    assert len(found) == 1, found
    assert variable in found[0]


def test_good_tls_settings_pass():
    assert refused(site(nginx_site_tls="acme", nginx_acme_email="ops@example.org")) == []
    assert refused(site(nginx_site_tls="self_signed", nginx_site_server_names=["*.x.test"])) == []
    assert refused(site(nginx_site_tls="acme", nginx_site_server_names=[*NAMES, "_"])) == []
    assert (
        refused(
            site(
                nginx_site_tls="self_signed",
                nginx_site_listen=["80", "[::]:80"],
                nginx_site_tls_listen=["443", "[::]:443"],
                nginx_site_tls_hsts_max_age=63072000,
                nginx_site_tls_hsts_include_subdomains=True,
                nginx_site_tls_hsts_preload=True,
            )
        )
        == []
    )
    settings = files_site()
    assert refused(settings, {"tls": tls_files.controller_material(settings, find)[1]}) == []


def test_tls_none_ignores_the_tls_settings():
    assert refused(site(nginx_site_server_names=["_"], nginx_site_tls_listen=["80"])) == []


@pytest.mark.parametrize(
    ("name", "wildcard", "ok"),
    [
        ("shop.example.org", False, True),
        ("localhost", False, True),
        ("xn--bcher-kva.example", False, True),
        ("SHOP.Example.org", False, True),
        ("-shop.example.org", False, False),
        ("shop_1.example.org", False, False),
        ("shop.example.org.", False, False),
        ("*.example.org", False, False),
        ("*.example.org", True, True),
        ("*.org", True, False),
        ("a.*.example.org", True, False),
        ("", False, False),
    ],
)
def test_hostname(name, wildcard, ok):
    assert tls.hostname(name, wildcard) is ok


# --- the certificate and key --------------------------------------------------------------------


def test_a_matching_chain_and_key_pass():
    assert tls.material_errors(NAMES, CHAIN, SHOP_PUBLIC, WHERE) == []
    assert tls.material_errors(NAMES[:1], LEAF, SHOP_PUBLIC, WHERE) == []


def test_a_key_of_another_certificate_is_refused():
    [message] = tls.material_errors(NAMES, CHAIN, OTHER_PUBLIC, WHERE)
    assert "nginx_site_tls_key (shop.key) does not match nginx_site_tls_certificate" in message


def test_a_certificate_that_does_not_cover_the_names_is_refused():
    [message] = tls.material_errors(["shop.example.org", "api.example.org"], CHAIN, None, WHERE)
    assert "does not cover api.example.org of nginx_site_server_names" in message
    assert "shop.example.org" in message


def test_an_expired_certificate_is_refused():
    expired = (FILES / "expired.pem").read_text()
    [message] = tls.material_errors(NAMES[:1], expired, SHOP_PUBLIC, WHERE)
    assert "to 2021-01-01, not now" in message


def test_a_chain_out_of_order_is_refused():
    found = tls.material_errors(NAMES, CA + LEAF, None, WHERE)
    assert any("did not issue certificate 1" in message for message in found), found


def test_not_a_certificate_is_refused():
    [message] = tls.material_errors(NAMES, "hello", None, WHERE)
    assert "holds no PEM certificate" in message
    garbled = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    [message] = tls.material_errors(NAMES, garbled, None, WHERE)
    assert "cannot be read" in message


def test_the_app_role_names_its_own_variables():
    [message] = tls.material_errors(NAMES, CHAIN, OTHER_PUBLIC, WHERE, names=app_plan.APP_TLS_NAMES)
    assert message.startswith("app_tls_key (shop.key) does not match app_tls_certificate")


@pytest.mark.parametrize(
    ("name", "san", "ok"),
    [
        ("shop.example.org", ["shop.example.org"], True),
        ("Shop.Example.org", ["shop.example.org"], True),
        ("a.example.org", ["*.example.org"], True),
        ("a.b.example.org", ["*.example.org"], False),
        ("example.org", ["*.example.org"], False),
    ],
)
def test_covered(name, san, ok):
    assert tls.covered(name, san) is ok


def test_a_private_key_that_cannot_be_read_is_refused():
    with pytest.raises(tls.CertificateError, match="unencrypted PEM"):
        tls.public_key_pem(key_pem=LEAF)


# --- what the action reads ----------------------------------------------------------------------


def test_controller_material_hands_on_only_the_public_key():
    found, material = tls_files.controller_material(files_site(), find)
    assert found == {
        "certificate": str(FILES / "shop-fullchain.pem"),
        "key": str(FILES / "shop.key"),
    }
    assert material["public_key"] == SHOP_PUBLIC
    assert "PRIVATE" not in repr(material)


def test_controller_material_of_a_missing_file_names_it():
    settings = files_site(nginx_site_tls_key="nothing/here.key")
    _found, material = tls_files.controller_material(settings, find)
    [message] = refused(settings, {"tls": material})
    assert "no file key 'nothing/here.key' on the controller" in message


def test_host_readings_of_a_key_on_the_host():
    settings = files_site(
        nginx_site_tls_remote_src=True,
        nginx_site_tls_certificate="/etc/ssl/shop.pem",
        nginx_site_tls_key="/etc/ssl/private/shop.key",
    )
    raw = {
        "nginx_version": "nginx version: nginx/1.22.1",
        "chain_b64": base64.b64encode(CHAIN.encode()).decode(),
        "public_key": OTHER_PUBLIC,
        "key_stat": {"exists": True, "pw_name": "www-data", "mode": "0644"},
        "resolv_conf_b64": base64.b64encode(b"nameserver 10.0.0.2\n").decode(),
    }
    readings = tls_files.host_readings(settings, raw)
    assert readings["resolvers"] == ["10.0.0.2"]
    found = refused(settings, readings)
    assert len(found) == 2, found
    assert "must belong to root" in found[0]
    assert "/etc/ssl/private/shop.key on the host" in found[1]
    raw["key_stat"] = {"exists": False}
    [message] = refused(settings, tls_files.host_readings(settings, raw))
    assert "no such file" in message
    raw["chain_b64"] = ""
    [message] = refused(settings, tls_files.host_readings(settings, raw))
    assert "cannot be read" in message


# --- the values nginx is told -------------------------------------------------------------------


def ocsp_chain():
    """A CA and a leaf for shop.example.org that names an OCSP responder, PEM."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, public, signer, extensions):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ocsp CA")]))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca = build("ocsp CA", ca_key.public_key(), ca_key, [])
    leaf = build(
        "shop.example.org",
        key.public_key(),
        ca_key,
        [
            x509.SubjectAlternativeName([x509.DNSName("shop.example.org")]),
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier("http://ocsp.example.org"),
                    )
                ]
            ),
        ],
    )
    return (leaf + ca).decode()


def test_an_acme_site_without_its_certificate_is_issued_first():
    values = tls.site_tls(site(nginx_site_tls="acme"), {})
    assert values["ready"] is False
    assert values["issue"] is True
    assert values["certificate"] == "/etc/letsencrypt/live/shop/fullchain.pem"
    argv = values["certbot_argv"]
    assert argv[:2] == ["certbot", "certonly"]
    assert "--register-unsafely-without-email" in argv
    assert argv[-4:] == ["--domain", "shop.example.org", "--domain", "www.shop.example.org"]
    assert argv[argv.index("--webroot-path") + 1] == tls.ACME_WEBROOT
    ready = tls.site_tls(site(nginx_site_tls="acme"), {"chain": CHAIN})
    assert ready["ready"] is True
    assert ready["issue"] is False
    # Renewals change the certificate under nginx: the site's text must not depend on it.
    assert ready["fingerprint"] == ""


def test_an_acme_site_whose_certificate_lacks_a_name_is_issued_again():
    settings = site(nginx_site_tls="acme", nginx_site_server_names=[*NAMES, "api.example.org"])
    assert tls.site_tls(settings, {"chain": CHAIN})["issue"] is True


def test_a_self_signed_site_is_made_until_it_covers_its_names():
    values = tls.site_tls(site(nginx_site_tls="self_signed"), {"chain": ""})
    assert values["generate"] is True
    argv = values["self_signed_argv"]
    assert "subjectAltName=DNS:shop.example.org,DNS:www.shop.example.org" in argv
    assert argv[-4:] == [
        "-keyout",
        "/etc/nginx/tls/shop/privkey.pem",
        "-out",
        "/etc/nginx/tls/shop/fullchain.pem",
    ]
    made = tls.site_tls(site(nginx_site_tls="self_signed"), {"chain": CHAIN})
    assert made["generate"] is False
    assert made["fingerprint"] == tls.describe(CHAIN)["sha256"]


@pytest.mark.parametrize(
    ("version", "directive", "listen"),
    [
        ("nginx version: nginx/1.26.3", True, ["443 ssl", "[::]:443 ssl"]),
        ("nginx version: nginx/1.25.1", True, ["443 ssl", "[::]:443 ssl"]),
        ("nginx version: nginx/1.22.1", False, ["443 ssl http2", "[::]:443 ssl http2"]),
        ("", False, ["443 ssl http2", "[::]:443 ssl http2"]),
    ],
)
def test_http2_follows_nginx_version(version, directive, listen):
    settings = files_site(nginx_site_tls_listen=["443", "[::]:443"])
    values = tls.site_tls(settings, {"nginx_version": version, "chain": CHAIN})
    assert values["http2_directive"] is directive
    assert values["listen"] == listen


def test_the_redirect_names_a_port_other_than_443_and_default_server_follows_the_names():
    settings = files_site(nginx_site_tls_listen=["8443"], nginx_site_server_names=[*NAMES, "_"])
    values = tls.site_tls(settings, {"chain": CHAIN})
    assert values["redirect"] == "https://$host:8443$request_uri"
    assert values["listen"] == ["8443 ssl http2 default_server"]
    assert tls.site_tls(files_site(), {"chain": CHAIN})["redirect"] == "https://$host$request_uri"


def test_hsts_header():
    assert tls.site_tls(files_site(), {})["hsts"] == ""
    settings = files_site(
        nginx_site_tls_hsts_max_age=31536000,
        nginx_site_tls_hsts_include_subdomains=True,
        nginx_site_tls_hsts_preload=True,
    )
    assert tls.site_tls(settings, {})["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_ocsp_stapling_only_when_it_can_work():
    with_ocsp = ocsp_chain()
    settings = files_site(nginx_site_server_names=["shop.example.org"])
    private = {"chain": with_ocsp, "resolvers": ["10.0.0.2"]}
    assert tls.site_tls(settings, private)["stapling"] is True
    # No responder named, no issuer to check the answer with, no resolver, a public resolver.
    assert tls.site_tls(settings, {**private, "chain": CHAIN})["stapling"] is False
    leaf_only = with_ocsp.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    assert tls.site_tls(settings, {**private, "chain": leaf_only})["stapling"] is False
    assert tls.site_tls(settings, {**private, "resolvers": []})["stapling"] is False
    assert tls.site_tls(settings, {**private, "resolvers": ["8.8.8.8"]})["stapling"] is False


def test_the_health_target_of_an_https_site():
    target = tls.site_tls(files_site(nginx_site_tls_listen=["[::]:8443"]), {})["target"]
    assert target == {
        "address": "[::1]",
        "port": 8443,
        "host": "shop.example.org",
        "url": "https://[::1]:8443",
    }


# --- the template -------------------------------------------------------------------------------


def test_the_http_site_is_unchanged_without_tls():
    text = stand_in.site_file(site(), {})
    assert "ssl" not in text
    assert "listen 80;" in stand_in.directives(text)
    assert text.count("server {") == 1


def test_an_https_site_redirects_and_serves_with_the_profile():
    settings = files_site(nginx_site_tls_hsts_max_age=300)
    lines = stand_in.directives(
        stand_in.site_file(settings, {"nginx_version": "nginx/1.26.3", "chain": CHAIN})
    )
    assert lines.count("server {") == 2
    assert "return 301 https://$host$request_uri;" in lines
    assert "listen 443 ssl;" in lines
    assert "http2 on;" in lines
    assert "ssl_certificate /etc/nginx/tls/shop/fullchain.pem;" in lines
    assert "ssl_certificate_key /etc/nginx/tls/shop/privkey.pem;" in lines
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in lines
    assert f"ssl_ciphers {tls.CIPHERS};" in lines
    assert "ssl_session_tickets off;" in lines
    # HSTS too is the site's default only where the app sent none of its own.
    variable = "$pyops_shop_header_strict_transport_security"
    assert f"add_header Strict-Transport-Security {variable} always;" in lines
    assert f"map $upstream_http_strict_transport_security {variable} {{" in lines
    assert lines[
        lines.index(f"map $upstream_http_strict_transport_security {variable} {{") + 1
    ] == ('"" "max-age=300";')
    assert "ssl_stapling on;" not in lines
    assert "/.well-known/acme-challenge/" not in "\n".join(lines)
    # The redirect comes before the HTTPS server, which alone passes to uWSGI.
    assert lines.index("return 301 https://$host$request_uri;") < lines.index("listen 443 ssl;")
    assert lines.index("uwsgi_pass unix:/run/uwsgi/shop/shop.sock;") > lines.index(
        "listen 443 ssl;"
    )


def test_an_acme_site_serves_the_challenge_before_and_after_its_certificate():
    settings = site(nginx_site_tls="acme")
    before = stand_in.directives(stand_in.site_file(settings, {}))
    assert "listen 80;" in before
    assert "ssl_certificate" not in "\n".join(before)
    assert "location ^~ /.well-known/acme-challenge/ {" in before
    assert f"root {tls.ACME_WEBROOT};" in before
    after = stand_in.directives(stand_in.site_file(settings, {"chain": CHAIN}))
    assert "location ^~ /.well-known/acme-challenge/ {" in after
    assert after.index("location ^~ /.well-known/acme-challenge/ {") < after.index(
        "return 301 https://$host$request_uri;"
    )
    assert "ssl_certificate /etc/letsencrypt/live/shop/fullchain.pem;" in after


def test_stapling_in_the_template():
    settings = files_site(nginx_site_server_names=["shop.example.org"])
    lines = stand_in.directives(
        stand_in.site_file(settings, {"chain": ocsp_chain(), "resolvers": ["10.0.0.2"]})
    )
    assert "ssl_stapling on;" in lines
    assert "resolver 10.0.0.2 valid=300s;" in lines


def test_the_role_defaults_document_the_tls_settings():
    defaults = yaml.safe_load((ROOT / "roles" / "nginx" / "defaults" / "main.yml").read_text())
    assert defaults["nginx_site_tls"] == "none"
    assert defaults["nginx_site_tls_hsts_max_age"] == 0


# --- the app role's TLS settings ----------------------------------------------------------------


def test_the_app_hands_its_tls_settings_to_its_site_and_checks_health_over_https():
    planned = stand_in.app(
        app_server_names=["hello.example.org", "_"],
        app_tls="acme",
        app_tls_hsts_max_age=300,
        app_tls_ca_file="/etc/ssl/private-ca.pem",
    )
    assert planned["errors"] == []
    plan = planned["plan"]
    assert plan["nginx_site"]["nginx_site_tls"] == "acme"
    assert plan["nginx_site"]["nginx_site_tls_hsts_max_age"] == 300
    assert plan["nginx_site"]["nginx_site_tls_listen"] == ["443"]
    health = {
        key: value
        for key, value in plan["health"].items()
        if key not in ("status", "drain_timeout")
    }
    assert health == {
        "path": "/",
        "timeout": 60,
        "host": "hello.example.org",
        "url": "https://127.0.0.1:443/",
        "scheme": "https",
        "address": "127.0.0.1",
        "port": 443,
        "ca_file": "/etc/ssl/private-ca.pem",
    }
    # app_health_host, when set, is the Host and the TLS server name.
    other = stand_in.app(
        app_server_names=["hello.example.org", "www.example.org"],
        app_tls="acme",
        app_health_host="www.example.org",
    )["plan"]
    assert other["health"]["host"] == "www.example.org"


def test_a_self_signed_app_site_is_checked_against_its_own_certificate():
    plan = stand_in.app(app_server_names=["hello.test"], app_tls="self_signed")["plan"]
    assert plan["health"]["ca_file"] == "/etc/nginx/tls/hello/fullchain.pem"


def test_an_app_without_tls_keeps_its_http_plan():
    plan = stand_in.app()["plan"]
    assert "nginx_site_tls" not in plan["nginx_site"]
    assert "scheme" not in plan["health"]


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"app_tls": "acme", "app_server_names": ["_"]}, "app_server_names"),
        ({"app_tls": "acme", "app_server_names": ["-x.test"]}, "app_server_names"),
        ({"app_tls": "files", "app_server_names": ["x.test"]}, "app_tls_certificate"),
        (
            {"app_tls": "acme", "app_server_names": ["x.test"], "app_tls_listen": ["80"]},
            "app_tls_listen",
        ),
    ],
)
def test_bad_app_tls_settings_are_refused_naming_the_app_variable(changes, variable):
    [message] = stand_in.app(**changes)["errors"]
    assert variable in message
