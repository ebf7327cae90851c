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
    one); an HTTP status is returned, not judged.
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
"""

RETURN = r"""
status:
  description: HTTP status of the answer.
  returned: success
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
"""

import http.client
import socket
import ssl

from ansible.module_utils.basic import AnsibleModule


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
    """(status, location, certificate, tls_version) of GET path, as the module documents."""
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
        response.read()
        return response.status, response.getheader("Location", ""), certificate or {}, version
    finally:
        connection.close()


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
        },
        supports_check_mode=True,
    )
    where = f"{module.params['address']}:{module.params['port']} ({module.params['host']})"
    try:
        status, location, certificate, version = probe(module.params)
    except ssl.SSLCertVerificationError as exc:
        module.fail_json(
            msg=f"The certificate {where} served does not verify: {exc.verify_message}"
            f" (CA bundle: {module.params['ca_file'] or 'the system store'})."
        )
    except (OSError, http.client.HTTPException) as exc:
        module.fail_json(msg=f"No answer from {where}: {exc}")
    module.exit_json(
        changed=False,
        status=status,
        location=location,
        certificate=_plain(certificate),
        tls_version=version,
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
