"""The ablation's copies of the deployed site and vassal, and what each variant changes in them.

No container: the site and the vassal below are shaped like what the collection deploys.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench  # benchmarks/ is no package: found through sys.path

SITE = """#
# Ansible managed
#
server {
    listen 80;
    server_name hello.example.org;
    location / {
        return 301 https://$host$request_uri;
    }
}

server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name hello.example.org _;
    client_max_body_size 10m;
    add_header X-Content-Type-Options "nosniff" always;
    add_header X-Frame-Options "SAMEORIGIN" always;

    location /static/ {
        alias /srv/hello/current/code/static/;
        expires 1h;
    }

    location / {
        include /etc/nginx/uwsgi_params;
        uwsgi_param HTTP_X_FORWARDED_FOR "" if_not_empty;
        uwsgi_pass unix:/run/uwsgi/hello/hello.sock;
        uwsgi_read_timeout 35s;
    }
}
"""

VASSAL = """[uwsgi]
plugin = python313
uid = hello
gid = hello
socket = /run/uwsgi/hello/hello.sock
socket = 0.0.0.0:3031
chown-socket = hello:www-data
chmod-socket = 660
processes = 4
harakiri = 30
stats = /run/uwsgi/stats/hello/stats.sock
logger = syslog:uwsgi-hello
procname-prefix-spaced = hello 6dd58b66
"""


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_server_block_is_the_one_that_passes_to_uwsgi() -> None:
    block = bench.server_block(SITE)
    assert block.startswith("server {") and block.endswith("}")
    assert "uwsgi_pass" in block and "return 301" not in block
    with pytest.raises(ValueError, match="uwsgi_pass"):
        bench.server_block("server {\n    return 200;\n}\n")


def test_a_copy_listens_on_its_port_alone_and_passes_to_its_socket() -> None:
    copy = bench.site_copy(bench.server_block(SITE), 8100, "unix:/run/x/app.sock")
    assert [line for line in lines(copy) if line.startswith("listen")] == ["listen 127.0.0.1:8100;"]
    assert "server_name" not in copy
    assert "uwsgi_pass unix:/run/x/app.sock;" in lines(copy)
    # Nothing else changes.
    kept = [
        line
        for line in lines(bench.server_block(SITE))
        if not line.startswith(("listen", "server_name", "uwsgi_pass"))
    ]
    assert [line for line in lines(copy) if not line.startswith(("listen", "uwsgi_pass"))] == kept


def test_the_defaults_on_tcp_are_served_through_a_copy_of_the_site_that_differs_in_the_socket() -> (
    None
):
    site = bench.server_block(SITE)
    tcp = {t.key: t for t in bench.fixed_targets("hi", "[uwsgi]\n", 2, site)}["tcp"]
    assert tcp.block == bench.site_copy(site, tcp.port, bench.TCP_ADDRESS)
    assert f"uwsgi_pass {bench.TCP_ADDRESS};" in lines(tcp.block)
    assert bench.nginx_server_blocks([tcp]).count(tcp.block) == 1


def test_each_site_variant_changes_only_its_setting() -> None:
    variants = {v.slug: v for v in bench.ablation_variants("/var/log/nginx/bench.log")}
    copy = bench.site_copy(bench.server_block(SITE), 8100, "unix:/run/x/app.sock")
    headers = variants["headers"].site(copy)
    assert "add_header" not in headers
    assert len(lines(copy)) - len(lines(headers)) == 2
    static = variants["static"].site(copy)
    assert "location /static/" not in static and "alias" not in static
    assert "location / {" in static and static.count("{") == static.count("}")
    logged = variants["access-log-buffered"].site(copy)
    assert lines(logged)[1] == "access_log /var/log/nginx/bench.log combined buffer=64k flush=1s;"
    assert "uwsgi_param HTTP_" not in variants["forwarding"].site(copy)
    assert "include /etc/nginx/uwsgi_params;" in variants["forwarding"].site(copy)


def test_the_vassal_copy_has_its_own_socket_stats_and_logger_and_no_identity() -> None:
    copy = bench.vassal_copy(VASSAL, "pyops-bench-abl-base")
    assert bench.ini_value(copy, "socket") == "/run/pyops-bench-abl-base/app.sock"
    assert lines(copy).count("socket = /run/pyops-bench-abl-base/app.sock") == 1
    assert "3031" not in copy  # one socket: the unit's
    assert bench.ini_value(copy, "stats") == "/run/pyops-bench-abl-base/stats.sock"
    assert bench.ini_value(copy, "logger") == "syslog:uwsgi-hello-abl-base"
    assert bench.ini_value(copy, "procname-prefix-spaced") == "hello-abl-base"
    for key in ("uid", "gid", "chown-socket"):
        assert bench.ini_value(copy, key) == ""
    assert bench.ini_value(copy, "chmod-socket") == "660"
    # No master-fifo in the deployed ini: none is added.
    assert "master-fifo" not in copy


def test_ini_changes_replace_add_and_remove() -> None:
    assert (
        bench.ini_value(bench.ini_set("processes", "%(%k * 2)")(VASSAL), "processes") == "%(%k * 2)"
    )
    added = bench.ini_set("thunder-lock", "true")(VASSAL)
    assert lines(added)[-1] == "thunder-lock = true"
    dropped = bench.ini_drop("harakiri", "stats")(VASSAL)
    assert "harakiri" not in dropped and "stats" not in dropped
    assert len(lines(VASSAL)) - len(lines(dropped)) == 2


def test_every_variant_has_a_distinct_key_and_unit_and_changes_something() -> None:
    variants = bench.ablation_variants()
    assert variants[0].layer == "baseline"
    assert len({v.key for v in variants}) == len(variants)
    block = bench.site_copy(bench.server_block(SITE), 8100, "unix:/run/x/app.sock")
    for variant in variants[1:]:
        if variant.layer == "nginx":
            assert variant.ini is None and variant.unit == "pyops-bench-abl-base"
            assert variant.site(block) != block, variant.key
        else:
            assert variant.site is None and variant.unit != "pyops-bench-abl-base"
            assert (
                variant.ini(
                    VASSAL + "threads = 1\nlisten = 128\nbuffer-size = 65535\n"
                    "post-buffering = 65536\nauto-procname = true\n"
                    "single-interpreter = true\nenable-threads = true\n"
                    "log-4xx = true\nlog-5xx = true\ndisable-logging = true\n"
                    "max-worker-lifetime = 3600\nreload-on-rss = 512\n"
                )
                != VASSAL
            ), variant.key


def test_a_variant_that_changes_nothing_in_these_defaults_says_so() -> None:
    variants = {v.slug: v for v in bench.ablation_variants()}
    block = bench.server_block(SITE)
    # The vassal sets no reload-on-rss: setting it is a change; it sets no thunder-lock either.
    assert (
        bench.unchanged_noted(variants["reload-on-rss"], block, VASSAL) == variants["reload-on-rss"]
    )
    noted = bench.unchanged_noted(variants["single-interpreter"], block, VASSAL)
    assert noted.change == "removed; the defaults do not set it: nothing changed"
    assert noted.key == variants["single-interpreter"].key


def test_cpu_time_goes_to_its_layer_and_wrk_is_left_out() -> None:
    summary = {
        "x": {
            "cpu_us_per_request": {
                "nginx": 50.0,
                "uwsgi-core": 120.0,
                "hello-abl uWSGI": 1.0,
                "systemd-journal": 3.0,
                "wrk": 20.0,
            }
        }
    }
    assert bench.with_layers(summary)["x"]["cpu_by_layer"] == {
        "nginx": 50.0,
        "uwsgi": 121.0,
        "other": 3.0,
    }


def test_braces_in_a_quoted_regex_or_a_comment_do_not_end_the_block() -> None:
    # The asset bridge's location: a quoted regex with {8} and {8,}; comments may hold braces.
    site = (
        "server {\n    # a comment with a brace }\n"
        '    location ~ "^/static/.*[.-][0-9a-f]{8,}\\.[a-z.]+$" {\n        root /srv;\n    }\n'
        "    location / {\n        uwsgi_pass unix:/run/x.sock;\n    }\n}\n"
    )
    assert bench.server_block(site) == site.rstrip("\n")


def test_a_location_is_dropped_with_the_locations_it_nests() -> None:
    block = (
        "server {\n    location /static/ {\n        alias /srv/s/;\n"
        '        location ~ "[.-][0-9a-f]{8,}\\.[a-z.]+$" {\n            error_page 404 = @b;\n'
        "        }\n    }\n    location / {\n        uwsgi_pass unix:/run/x.sock;\n    }\n}"
    )
    dropped = bench.site_drop_location("/static/")(block)
    assert dropped == "server {\n    location / {\n        uwsgi_pass unix:/run/x.sock;\n    }\n}"
