#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: site_probe
version_added: 0.2.0
short_description: Ask an HTTPS site on this host for a path, as a client of its name would
description:
  - Connects to O(address):O(port), opens TLS with O(host) as the server name (SNI) and checks the
    certificate against O(ca_file) and O(host) (unless O(validate_certs) is false), then sends C(GET
    path) with C(Host) O(host). Returns the status and the certificate the site served.
  - M(ansible.builtin.uri) cannot do this for a site reached on loopback, because it takes the TLS
    server name from the URL. Used by the P(pyops.uwsgi.app#role) role's health check through an
    HTTPS site.
  - Fails when the connection or the TLS handshake fails (a certificate that does not verify, for
    one). An HTTP status is returned, and judged only against O(expect_status).
  - With O(wait), it tries again until the site gives an answer it accepts or the wait is over, in
    place of C(until) and C(retries) around the task.
options:
  address:
    description: Address to connect to, such as V(127.0.0.1) or V(::1).
    type: str
    default: 127.0.0.1
  port:
    description: TCP port of the site.
    type: int
    default: 443
  host:
    description: The site's name, sent as the TLS server name and as C(Host).
    type: str
    required: true
  path:
    description: Path to ask for.
    type: str
    default: /
  tls:
    description: Use TLS (V(false) speaks plain HTTP, with no certificate to check).
    type: bool
    default: true
  ca_file:
    description: CA bundle (PEM) to check the certificate against; empty means the system's store.
    type: path
    default: ""
  validate_certs:
    description: Check the certificate's chain and name; V(false) only for a reachability check.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the connection and for the answer.
    type: int
    default: 10
  expect_status:
    description:
      - The statuses the site may answer. When given (and not empty), the module fails unless the
        status is one of them; with O(wait), the wait ends on one of them.
      - Not given, any status is accepted (and returned).
    type: list
    elements: int
    version_added: 0.2.0
  wait:
    description:
      - Seconds to keep trying until the site gives an answer the module accepts, an answer with a
        status of O(expect_status) (any status when that is not given). V(0) tries once.
      - The module tries at once, then every O(interval) seconds, and a last time when the wait
        is over, so O(wait=5) with O(interval=1) tries six times when each try is quick, as
        C(until) with C(retries=5) and C(delay=1) would. A try runs to its own O(timeout), and
        none starts after the wait is over.
      - A failed connection or TLS handshake is tried again too. When the last try fails the task,
        C(msg) says how many tries were made and quotes that answer's status and body, or its
        error.
      - A negative value is refused.
    type: float
    default: 0
    version_added: 0.2.0
  interval:
    description:
      - Seconds between two tries of O(wait), from the end of one to the start of the next.
        Refused unless more than V(0).
    type: float
    default: 1
    version_added: 0.2.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
attributes:
  check_mode:
    details: The request is sent in check mode too; ask for a path that only reads.
"""

EXAMPLES = r"""
- name: Ask shop.example.org's HTTPS site on this host for /health
  pyops.uwsgi.site_probe:
    host: shop.example.org
    path: /health
    ca_file: /etc/ssl/certs/ca-certificates.crt
  register: probe
  failed_when: probe.status != 200

- name: Wait up to 30 seconds until shop.example.org's plain HTTP site answers 200 or 301
  pyops.uwsgi.site_probe:
    host: shop.example.org
    port: 80
    tls: false
    expect_status: [200, 301]
    wait: 30
"""

RETURN = r"""
status:
  description: HTTP status of the answer.
  returned: when the site answered
  type: int
  sample: 200
location:
  description: The C(Location) header of the answer, if any.
  returned: success
  type: str
certificate:
  description:
    - The certificate the site served, as Python's ssl module reads it (C(subject), C(issuer),
      C(subjectAltName), C(notAfter), C(serialNumber)); empty without TLS or with
      O(validate_certs=false).
  returned: success
  type: dict
tls_version:
  description: The TLS version of the connection, such as C(TLSv1.3); empty without TLS.
  returned: success
  type: str
attempts:
  description: How many requests were sent; 1 unless O(wait) is more than 0.
  returned: always
  type: int
  sample: 1
  version_added: 0.2.0
waited:
  description: Seconds from the first try to the end of the last one.
  returned: always
  type: float
  sample: 0.0213
  version_added: 0.2.0
"""

import http.client
import socket
import ssl

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyops.uwsgi.plugins.module_utils import waiter

# Bytes of the body kept for a failure to quote.
BODY_KEPT = 4096


class _Connection(http.client.HTTPSConnection):
    """HTTPS to an address, with the TLS server name of the site rather than the address."""

    def __init__(self, address, port, server_name, context, timeout):
        super().__init__(address, port, timeout=timeout, context=context)
        self._server_name = server_name
        self._tls_context = context

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._tls_context.wrap_socket(sock, server_hostname=self._server_name)


def probe(params):
    """(status, location, certificate, tls_version, body) of GET path; body's first BODY_KEPT."""
    address = params["address"].strip("[]")
    if params["tls"]:
        if params["validate_certs"]:
            context = ssl.create_default_context(cafile=params["ca_file"] or None)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        connection = _Connection(
            address, params["port"], params["host"], context, params["timeout"]
        )
    else:
        connection = http.client.HTTPConnection(address, params["port"], timeout=params["timeout"])
    try:
        connection.request("GET", params["path"], headers={"Host": params["host"]})
        # Read now: a response that closes the connection takes the socket with it.
        sock = connection.sock
        certificate = sock.getpeercert() if params["tls"] else {}
        version = sock.version() if params["tls"] else ""
        response = connection.getresponse()
        body = response.read()[:BODY_KEPT]
        location = response.getheader("Location", "")
        return response.status, location, certificate or {}, version, body
    finally:
        connection.close()


def attempt(params):
    """One try: the documented return values, or {"error": what went wrong, in words}."""
    where = f"{params['address']}:{params['port']} ({params['host']})"
    try:
        status, location, certificate, version, body = probe(params)
    except ssl.SSLCertVerificationError as exc:
        return {
            "error": f"The certificate {where} served does not verify: {exc.verify_message}"
            f" (CA bundle: {params['ca_file'] or 'the system store'})."
        }
    except (OSError, http.client.HTTPException) as exc:
        return {"error": f"No answer from {where}: {exc}"}
    return {
        "status": status,
        "location": location,
        "certificate": _plain(certificate),
        "tls_version": version,
        "body": body.decode("utf-8", errors="replace"),
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "address": {"type": "str", "default": "127.0.0.1"},
            "port": {"type": "int", "default": 443},
            "host": {"type": "str", "required": True},
            "path": {"type": "str", "default": "/"},
            "tls": {"type": "bool", "default": True},
            "ca_file": {"type": "path", "default": ""},
            "validate_certs": {"type": "bool", "default": True},
            "timeout": {"type": "int", "default": 10},
            "expect_status": {"type": "list", "elements": "int"},
            "wait": {"type": "float", "default": 0},
            "interval": {"type": "float", "default": 1},
        },
        supports_check_mode=True,
    )
    params = module.params
    wrong = waiter.check(wait=params["wait"], interval=params["interval"])
    if wrong:
        module.fail_json(msg=wrong)
    expected = params["expect_status"]
    waited = waiter.wait_for(
        lambda: attempt(params),
        lambda outcome: "error" not in outcome and (not expected or outcome["status"] in expected),
        wait=params["wait"],
        interval=params["interval"],
    )
    outcome = dict(waited.outcome)
    body = outcome.pop("body", "")
    counts = {"attempts": waited.attempts, "waited": round(waited.waited, 6)}
    summary = waiter.summary(waited, wait=params["wait"])
    if "error" in outcome:
        module.fail_json(msg=summary + outcome["error"], **counts)
    if waited.accepted:
        module.exit_json(changed=False, **outcome, **counts)
    quoted = waiter.excerpt(body)
    module.fail_json(
        msg=summary
        + f"the site answered {outcome['status']}, expected {waiter.statuses_text(expected)}"
        + (f"; body {quoted}" if quoted else ""),
        **outcome,
        **counts,
    )


def _plain(value):
    """getpeercert()'s nested tuples as lists and dicts Ansible can return."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


if __name__ == "__main__":
    main()
