"""Scenario tls: HTTPS end to end against pebble, Let's Encrypt's ACME test server.

Runs on the app host (the pebble instance is a helper); pytest takes the tests in order, and the
failed renewal, which stops pebble, comes last but for the refusals.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import time

import pytest
from pyops_verify import (
    BAD_INPUTS,
    ROOT,
    SHARED,
    ansible_playbook,
    fingerprint,
    finish_load,
    gixy_findings,
    http,
    start_load,
    wait_until,
)

APP_HOST = "uwsgi-tls-app"
ACME_HOST = "uwsgi-tls-acme"
NAME = "hello.tls.test"
PEBBLE_ROOT = "/usr/local/share/pyops-tls-test/pebble-root.pem"
SHOP_CA = "/root/shop-ca.pem"
FORCE_DROPIN = "/etc/systemd/system/certbot.service.d/zz-test-force-renewal.conf"
# The refusals of tests/unit/bad_inputs.yml tried here on the host, through the nginx role.
TLS_CASES = [case for case in BAD_INPUTS if case["case"].startswith("an HTTPS site")]


@pytest.fixture(autouse=True)
def only_on_the_app_host(host):
    if host.backend.get_hostname() != APP_HOST:
        pytest.skip("the pebble instance is a helper")


def https(host, path="/", name=NAME, port=443, *, cacert=PEBBLE_ROOT, options=""):
    """GET https://NAME:PORT/PATH on the instance's nginx, NAME resolved to loopback and checked
    against the certificate by curl (no -k). Returns (curl's exit status, status, HTTP version,
    headers, body)."""
    url = f"https://{name}:{port}{path}"
    out = host.run(
        f"curl -sS --max-time 10 --cacert {cacert} --resolve {name}:{port}:127.0.0.1 {options}"
        f" -D /root/headers -w '\\n%{{http_code}} %{{http_version}}' {shlex.quote(url)}"
    )
    body, _newline, tail = out.stdout.rpartition("\n")
    status, _space, version = tail.partition(" ")
    headers = host.run("cat /root/headers").stdout.lower()
    return out.rc, int(status or 0), version, headers, body


def served_certificate(host, name=NAME, port=443):
    """Serial, issuer and names of the certificate nginx serves for NAME."""
    return host.check_output(
        f"echo | openssl s_client -connect 127.0.0.1:{port} -servername {name} 2>/dev/null"
        " | openssl x509 -noout -serial -issuer -ext subjectAltName"
    )


def test_pebble_issued_the_site_certificate_through_http01(host):
    text = served_certificate(host)
    assert "Pebble Intermediate" in text, text
    assert f"DNS:{NAME}" in text
    renewal = host.file("/etc/letsencrypt/renewal/hello.conf").content_string
    assert "authenticator = webroot" in renewal
    assert "server = https://uwsgi-tls-acme:14000/dir" in renewal


def test_the_app_is_served_over_https_and_sees_https(host):
    rc, status, version, _headers, body = https(host, "/scheme")
    assert (rc, status) == (0, 200), body
    assert version == "2"
    assert json.loads(body) == {
        "scheme": "https",
        "https": "on",
        "url": f"https://{NAME}/scheme",
    }


def test_a_client_cannot_talk_the_app_out_of_https(host):
    # uWSGI would take the scheme from X-Forwarded-Proto before HTTPS; no proxy is trusted here.
    rc, status, _version, _headers, body = https(
        host, "/scheme", options="-H 'X-Forwarded-Proto: http' -H 'X-Forwarded-Ssl: off'"
    )
    assert (rc, status) == (0, 200), body
    assert json.loads(body)["scheme"] == "https"


def test_a_name_the_certificate_does_not_cover_is_refused_by_the_client(host):
    rc, _status, _version, _headers, _body = https(host, name="other.tls.test")
    assert rc == 60  # curl: the peer's certificate does not verify for that name


def test_http_redirects_to_https_except_the_acme_challenge(host):
    status, _body = http(host, "/scheme?x=1", NAME)
    assert status == 301
    headers = host.check_output(
        f"curl -sS -o /dev/null -D - -H 'Host: {NAME}' http://127.0.0.1/a?b"
    )
    assert f"location: https://{NAME}/a?b" in headers.lower()
    status, _body = http(host, "/.well-known/acme-challenge/missing", NAME)
    assert status == 404


def test_hsts_and_the_security_headers_reach_https(host):
    _rc, _status, _version, headers, _body = https(host)
    assert "strict-transport-security: max-age=31536000" in headers
    assert "x-content-type-options: nosniff" in headers
    # Not over HTTP, where browsers ignore it.
    plain = host.check_output(f"curl -sS -o /dev/null -D - -H 'Host: {NAME}' http://127.0.0.1/")
    assert "strict-transport-security" not in plain.lower()


@pytest.mark.parametrize(
    ("version", "ok"), [("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)]
)
def test_tls_12_and_13_only(host, version, ok):
    out = host.run(
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {NAME} {version}"
        f" -CAfile {PEBBLE_ROOT} -verify_return_error"
    )
    assert (out.rc == 0) is ok, out.stdout[-800:] + out.stderr[-800:]


def test_no_session_tickets_and_only_forward_secret_aead_suites(host):
    out = host.run(
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {NAME} -tls1_2"
        " -cipher 'AES128-GCM-SHA256' 2>&1"
    )
    assert out.rc != 0, "a suite without forward secrecy was accepted"
    out = host.check_output(
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {NAME} -tls1_2 2>&1"
    )
    assert "TLS session ticket lifetime hint" not in out
    assert "ECDHE" in out


def test_the_site_from_certificate_files(host):
    ca = base64.b64encode((ROOT / "tests" / "unit" / "files" / "tls" / "ca.pem").read_bytes())
    host.run_expect([0], f"echo {ca.decode()} | base64 -d > {SHOP_CA}")
    rc, status, _version, _headers, body = https(
        host, "/scheme", "www.shop.example.org", cacert=SHOP_CA
    )
    assert (rc, status) == (0, 200), body
    key = host.file("/etc/nginx/tls/shop/privkey.pem")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert host.file("/etc/nginx/tls/shop").mode == 0o700


def test_the_self_signed_site_on_other_ports(host):
    cert = "/etc/nginx/tls/selfsigned/fullchain.pem"
    rc, status, _version, _headers, body = https(host, "/", "self.tls.test", 8443, cacert=cert)
    assert (rc, status) == (0, 200), body
    headers = host.check_output(
        "curl -sS -o /dev/null -D - -H 'Host: self.tls.test' http://127.0.0.1:8080/x"
    )
    assert "location: https://self.tls.test:8443/x" in headers.lower()


def test_gixy_finds_nothing(host):
    # With the scenario's settings: a default server ("_") on 80 and 443, HSTS of a year on every
    # HTTPS site (gixy's hsts_header check flags a site without it, which is the role's default).
    rc, findings, output = gixy_findings(host)
    assert rc == 0 and findings == [], output


def test_renewal_runs_on_the_host_from_certbot_timer(host):
    assert host.service("certbot.timer").is_enabled
    assert host.service("certbot.timer").is_running
    hook = host.file("/etc/letsencrypt/renewal-hooks/deploy/pyops-nginx-reload")
    assert hook.mode == 0o755
    assert "systemctl reload nginx" in hook.content_string
    # The CA bundle of the test's ACME server, for certbot.service too.
    dropin = host.file("/etc/systemd/system/certbot.service.d/pyops-acme-ca.conf").content_string
    assert "REQUESTS_CA_BUNDLE=/usr/local/share/pyops-tls-test/pebble-directory.pem" in dropin


def _force_renewals(host):
    """certbot.service as Debian ships it, told to renew even what is not due (test only)."""
    host.run_expect(
        [0],
        f"printf '[Service]\\nExecStart=\\nExecStart=/usr/bin/certbot -q renew"
        f" --no-random-sleep-on-renew --force-renewal\\n' > {FORCE_DROPIN}"
        " && systemctl daemon-reload",
    )


def test_a_forced_renewal_under_load_fails_no_request(host):
    before = served_certificate(host)
    _force_renewals(host)
    start_load(
        host,
        {NAME: "/"},
        connections=4,
        max_seconds=300,
        https_cafile=PEBBLE_ROOT,
        retry_closed=True,
    )
    start = time.monotonic()
    out = host.run("systemctl start certbot.service")
    renewal = time.monotonic() - start
    assert out.rc == 0, host.run("journalctl -u certbot.service -n 30 --no-pager").stdout
    served = wait_until(
        lambda: served_certificate(host).split("\n")[0] != before.split("\n")[0],
        15,
        "nginx serving the renewed certificate",
    )
    time.sleep(2)
    report = finish_load(host)
    print(
        f"forced renewal through certbot.service: {renewal:.1f} s, then {served:.1f} s until the"
        f" new certificate was served; load: {json.dumps(report)}"
    )
    assert report["requests"] > 0
    assert report["errors"] == {}, report
    assert report["non_2xx"] == 0, report
    assert host.service("certbot.service").systemd_properties["Result"] == "success"


def test_a_failed_renewal_shows_and_nginx_keeps_serving(host):
    before = served_certificate(host)
    subprocess.run(["docker", "exec", ACME_HOST, "systemctl", "stop", "pebble"], check=True)
    try:
        out = host.run("systemctl start certbot.service")
        assert out.rc != 0
        assert host.run("systemctl is-failed certbot.service").stdout.strip() == "failed"
        journal = host.check_output("journalctl -u certbot.service -n 40 --no-pager")
        assert "failed" in journal.lower(), journal
        rc, status, _version, _headers, body = https(host)
        assert (rc, status) == (0, 200), body
        assert served_certificate(host) == before
    finally:
        subprocess.run(["docker", "exec", ACME_HOST, "systemctl", "start", "pebble"], check=True)
        host.run(f"rm -f {FORCE_DROPIN} && systemctl daemon-reload && systemctl reset-failed")


@pytest.mark.parametrize("case", TLS_CASES, ids=[case["case"] for case in TLS_CASES])
def test_a_bad_https_site_is_refused_before_any_change(host, case):
    # The unit tests read the case's files relative to the repository; here they come from there.
    extra = {
        name: str(ROOT / value) if str(value).startswith("tests/") else value
        for name, value in case["vars"].items()
    }
    before = fingerprint(host)
    result = ansible_playbook(ROOT / "molecule" / "tls" / "one_site.yml", APP_HOST, extra)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, result.stdout[-2000:]
    expected = " ".join(case["expect"].split()).replace("tests/unit", str(ROOT / "tests/unit"))
    assert expected in output, output[-3000:]
    assert "is refused before any change" in output
    assert fingerprint(host) == before


def test_an_app_with_the_key_of_another_certificate_is_refused_before_any_change(host):
    files = ROOT / "tests" / "unit" / "files" / "tls"
    before = fingerprint(host)
    result = ansible_playbook(
        SHARED / "bad_input.yml",
        APP_HOST,
        {
            "app_server_names": ["shop.example.org"],
            "app_tls": "files",
            "app_tls_certificate": str(files / "shop-fullchain.pem"),
            "app_tls_key": str(files / "other.key"),
        },
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, result.stdout[-2000:]
    assert "does not match nginx_site_tls_certificate" in output, output[-3000:]
    assert fingerprint(host) == before


def test_a_removed_site_takes_its_certificates_along(host):
    for site in ("hello", "selfsigned"):
        result = ansible_playbook(
            ROOT / "molecule" / "tls" / "one_site.yml",
            APP_HOST,
            {"nginx_site_name": site, "nginx_site_state": "absent"},
        )
        assert result.returncode == 0, result.stdout[-3000:]
        assert not host.file(f"/etc/nginx/sites-enabled/{site}.conf").exists
    # certbot.timer has nothing left to renew for it, and nginx -t is content.
    assert not host.file("/etc/letsencrypt/renewal/hello.conf").exists
    assert not host.file("/etc/letsencrypt/live/hello").exists
    assert not host.file("/etc/nginx/tls/selfsigned").exists
    host.run_expect([0], "nginx -t")
