# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A site's certificate and key on the controller, read for the checks of module_utils/tls.py.

Controller side only (action plugins, and the unit tests that stand in for them). The private key
never leaves this module: only its public half is handed on.
"""

from __future__ import annotations

import base64
from pathlib import Path

from ansible_collections.pyops.uwsgi.plugins.module_utils import tls


def controller_material(settings, find):
    """({"certificate": path, "key": path} found on the controller, readings["tls"] or None).

    SETTINGS are an nginx site's; FIND resolves a path as ansible.builtin.copy's src would (None
    when there is no such file). Nothing to read unless the site takes files from the controller.
    """
    if (
        settings.get("nginx_site_state") != "present"
        or settings.get("nginx_site_tls") != "files"
        or settings.get("nginx_site_tls_remote_src")
        or not settings.get("nginx_site_tls_certificate")
        or not settings.get("nginx_site_tls_key")
    ):
        return {}, None
    given = {
        "certificate": settings["nginx_site_tls_certificate"],
        "key": settings["nginx_site_tls_key"],
    }
    found = {what: find(path) for what, path in given.items()}
    where = {what: f"{path} on the controller" for what, path in given.items()}
    missing = [f"{what} '{given[what]}'" for what, path in found.items() if path is None]
    if missing:
        return {}, {
            "where": where,
            "error": "nginx_site_tls_certificate / nginx_site_tls_key: no file"
            f" {' or '.join(missing)} on the controller (relative paths are looked up as"
            " ansible.builtin.copy's src).",
        }
    try:
        chain = Path(found["certificate"]).read_text(encoding="ascii", errors="replace")
        key = Path(found["key"]).read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        return {}, {"where": where, "error": f"nginx_site_tls_certificate / key: {exc}"}
    try:
        public = tls.public_key_pem(key_pem=key)
    except tls.CertificateError as exc:
        return {}, {"where": where, "error": f"nginx_site_tls_key ({where['key']}) {exc}."}
    return found, {"chain": chain, "public_key": public, "where": where}


def host_readings(settings, raw):
    """The readings of the site's rules and template from what tls_read.yml read on the host (RAW).

    RAW: nginx_version (nginx -v), chain_b64 / chain_error (slurp of the site's certificate),
    public_key / public_key_error (openssl pkey -pubout of a key on the host), key_stat (its stat),
    resolv_conf_b64 (slurp of /etc/resolv.conf). Returns readings with "nginx_version", "chain",
    "resolvers" and, for a certificate and key on the host, "tls" as controller_material's.
    """
    raw = raw or {}
    readings = {"nginx_version": raw.get("nginx_version", "")}
    if "chain_b64" not in raw:
        return readings
    chain = _b64(raw.get("chain_b64"))
    readings["chain"] = chain
    readings["resolvers"] = tls.resolvers(_b64(raw.get("resolv_conf_b64")))
    if settings.get("nginx_site_tls") == "files" and settings.get("nginx_site_tls_remote_src"):
        where = {
            "certificate": f"{settings['nginx_site_tls_certificate']} on the host",
            "key": f"{settings['nginx_site_tls_key']} on the host",
        }
        stat = raw.get("key_stat") or {}
        material = {"chain": chain, "where": where}
        if not chain:
            material["error"] = (
                f"nginx_site_tls_certificate ({where['certificate']}) cannot be read:"
                f" {raw.get('chain_error') or 'no such file'}."
            )
        elif not stat.get("exists"):
            material["error"] = f"nginx_site_tls_key ({where['key']}): no such file."
        elif not raw.get("public_key"):
            material["error"] = (
                f"nginx_site_tls_key ({where['key']}) is not a readable private key (unencrypted"
                f" PEM): {(raw.get('public_key_error') or '').strip()}"
            )
        else:
            material["public_key"] = raw["public_key"].strip() + "\n"
            material["key_owner"] = stat.get("pw_name")
            material["key_mode"] = stat.get("mode")
        readings["tls"] = material
    return readings


def _b64(text):
    if not text:
        return ""
    try:
        return base64.b64decode(text).decode("ascii", errors="replace")
    except ValueError:
        return ""
