"""A load balancer's health URL (app_lb_health_networks), checked on an app host with nginx.

A scenario's verifier imports ``verify_lb_health`` and calls it from a test function. The
scenario's app sets its networks to the instance's own network, so that a request the instance
sends to its own address (from that address) stands for the load balancer's, and one sent over
loopback (from 127.0.0.1) for a stranger's:

    # converge.yml, the app's variables (or an item of uwsgi_apps)
    app_server_names: [hello.test]
    app_health_path: /health
    app_lb_health_networks:
      - "{{ ansible_facts.default_ipv4.network }}/{{ ansible_facts.default_ipv4.prefix }}"

    # tests/test_lb_health.py
    from lb_health import verify_lb_health

    def test_a_load_balancer_asks_the_health_url_by_the_host_s_address(host):
        verify_lb_health(host, path="/health")

It asks as an ALB target group does, by address with that address as Host, and expects the app's
answer (the app sees its own Host, so a strict ALLOWED_HOSTS answers 200); from loopback, 403;
another path by address, 404; a POST, 403. It also checks that nginx keeps idle connections of the
site open longer than the load balancer's idle timeout.
"""

from __future__ import annotations

import shlex


def _ask(host, url, host_header, method="GET"):
    """(status, body) of METHOD URL with HOST_HEADER, asked from inside the instance."""
    out = host.run(
        f"curl -sS --max-time 10 -X {method} -H {shlex.quote('Host: ' + host_header)}"
        f" -w '\\n%{{http_code}}' {shlex.quote(url)}"
    )
    assert out.rc == 0, out.stderr
    body, _newline, status = out.stdout.rpartition("\n")
    return int(status), body


def own_address(host):
    """The instance's first address on its network (not loopback)."""
    address = host.check_output("hostname -I").split()[0]
    assert not address.startswith("127."), address
    return address


def verify_lb_health(host, *, path="/health", port=80, app_status=200, idle_timeout=60, margin=15):
    """The health URL answers the app's status by address from the declared network, and
    refuses everything else; nginx outlasts the load balancer's IDLE_TIMEOUT on idle connections."""
    address = own_address(host)
    for host_header in (address, f"{address}:{port}"):
        status, body = _ask(host, f"http://{address}:{port}{path}", host_header)
        assert status == app_status, (host_header, status, body)
    # Loopback is not among the networks: a stranger, refused.
    assert _ask(host, f"http://127.0.0.1:{port}{path}", "127.0.0.1")[0] == 403
    # Nothing else of the app is reachable by the address.
    assert _ask(host, f"http://{address}:{port}/", address)[0] == 404
    assert _ask(host, f"http://{address}:{port}{path}/x", address)[0] == 404
    assert _ask(host, f"http://{address}:{port}{path}", address, method="POST")[0] == 403
    config = host.check_output("nginx -T 2>/dev/null")
    timeouts = [
        int(line.split()[1].rstrip("s;"))
        for line in config.splitlines()
        if line.strip().startswith("keepalive_timeout ")
    ]
    assert timeouts and max(timeouts) >= idle_timeout + margin, timeouts
