# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pip's index, extra indexes and CA bundle, as the uwsgi and app roles take them. Pure.

Both roles name them PREFIX_pip_index_url, PREFIX_pip_extra_index_urls and PREFIX_pip_ca_bundle
(PREFIX "uwsgi" or "app"); pip reads them from its environment.
"""

from __future__ import annotations

from ansible_collections.pyops.uwsgi.plugins.module_utils import values


def _get(prefix, settings):
    return (
        settings[f"{prefix}_pip_index_url"],
        list(settings[f"{prefix}_pip_extra_index_urls"]),
        settings[f"{prefix}_pip_ca_bundle"],
    )


def rules(prefix, settings):
    """(ok, message) for the three settings."""
    index_url, extra, ca_bundle = _get(prefix, settings)
    urls = ([index_url] if index_url else []) + extra
    yield (
        all(values.HTTP_URL.fullmatch(url) for url in urls),
        f"{prefix}_pip_index_url and {prefix}_pip_extra_index_urls take http(s) URLs; got"
        f" '{index_url}' and {extra}.",
    )
    yield (
        ca_bundle == "" or bool(values.ABSOLUTE_PATH.fullmatch(ca_bundle)),
        f"{prefix}_pip_ca_bundle must be an absolute path on the host (or empty); got"
        f" '{ca_bundle}'.",
    )


def environment(prefix, settings):
    """pip's settings as environment variables; empty ones are left out."""
    index_url, extra, ca_bundle = _get(prefix, settings)
    found = {
        "PIP_INDEX_URL": index_url,
        "PIP_EXTRA_INDEX_URL": " ".join(extra),
        "PIP_CERT": ca_bundle,
    }
    return {key: value for key, value in found.items() if value}
