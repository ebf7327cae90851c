#!/usr/bin/python
# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


from __future__ import annotations

DOCUMENTATION = r"""
module: uwsgi_probe
version_added: 0.1.0
short_description: Send one request to a uWSGI socket, as nginx would, and report the answer
description:
  - Connects to a uWSGI socket (a unix socket path or a TCP C(host:port)), sends one request in
    the uwsgi protocol with the variables nginx's C(uwsgi_params) sends, and returns the app's HTTP
    status, headers and body.
  - It tests the app and its socket without nginx in between, so a failure names its cause. The
    cause is returned in RV(error) as one of a few categories, the ones behind nginx's
    C(502 Bad Gateway) among them, so that a play can register the result and branch on it.
  - With O(user), it connects as that user, which proves that nginx's user can open the socket and
    that another user cannot.
  - A probe changes nothing on the host, so the module reports C(changed=false) and does the same
    in check mode.
options:
  socket:
    description:
      - The uWSGI socket. A path (anything with a C(/), or C(unix:/path) as nginx spells it, or
        C(@name) for an abstract socket) is a unix socket.
      - C(host:port) is a TCP socket; C(:port) means C(127.0.0.1:port), C([::1]:port) is IPv6.
    type: str
    required: true
  method:
    description: The request method (C(REQUEST_METHOD)).
    type: str
    default: GET
  path:
    description:
      - The request target, with an optional query string, as C(REQUEST_URI). C(PATH_INFO) is its
        path, percent-decoded, and C(QUERY_STRING) the part after C(?).
      - Must start with C(/).
    type: str
    default: /
  host:
    description: The C(Host) header (C(HTTP_HOST)) and C(SERVER_NAME) the app sees.
    type: str
    default: localhost
  headers:
    description:
      - Further request headers, name to value. Each is sent as C(HTTP_<NAME>), upper case with
        C(-) turned into C(_), except C(Content-Type), which is sent as C(CONTENT_TYPE).
      - C(Content-Length) is set from O(body) and refused here; a C(Host) header here overrides
        C(HTTP_HOST) but not C(SERVER_NAME).
    type: dict
    default: {}
  body:
    description: The request body, sent UTF-8 encoded, with C(CONTENT_LENGTH) set to its size.
    type: str
    default: ""
  timeout:
    description: Seconds for the whole exchange, from connecting to the end of the response.
    type: float
    default: 5
  user:
    description:
      - Connect as this OS user (a name, or a numeric uid), with its primary group and its
        supplementary groups, to prove what that user may open. Typically nginx's C(www-data),
        or C(nobody) to prove that other users may not.
      - The module forks a child that drops to this user before it connects, which needs root
        (C(become=true)) unless the module already runs as that user.
    type: str
  expect_status:
    description:
      - The statuses the app may answer. When given (and not empty), the module fails unless the
        status is one of them, whatever O(fail_on_error) says, and a 5xx listed here does not fail.
      - A probe that gets no response at all is governed by O(fail_on_error) only.
      - With O(wait), these are the statuses the wait ends on.
    type: list
    elements: int
  wait:
    description:
      - Seconds to keep trying until the app gives an answer the module accepts, which is a status
        of O(expect_status) when that is given, else an answer with no RV(error). V(0) tries once.
      - The module tries at once, then every O(interval) seconds, and a last time when the wait
        is over, so O(wait=5) with O(interval=1) tries six times when each try is quick, as
        C(until) with C(retries=5) and C(delay=1) would. A try runs to its own O(timeout), and
        none starts after the wait is over.
      - The last answer is returned and judged as a single probe's would be; when it fails the
        task, C(msg) says how many tries were made and quotes that answer's status and body, or
        its connection error.
      - A negative value is refused.
    type: float
    default: 0
    version_added: 0.2.0
  interval:
    description:
      - Seconds between two tries of O(wait), counted from the end of one try to the start of the
        next. Refused unless more than V(0).
    type: float
    default: 1
    version_added: 0.2.0
  fail_on_error:
    description:
      - Whether a probe with an RV(error) fails the task.
      - When V(false), the task is ok and RV(error) names the cause, for a play to branch on.
    type: bool
    default: true
  body_limit:
    description:
      - How many bytes of the response body to keep in RV(body). The rest is read, so that the app
        does not log a write error, and counted in RV(body_size), but not returned.
    type: int
    default: 65536
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pyops.uwsgi.common
attributes:
  check_mode:
    details: The request is sent in check mode too. The probe changes nothing on the host; an app
      that changes its data on a request does so in check mode as well, so probe it with a method
      and path that only read.
notes:
  - uWSGI closes the connection without a reply when the app raises before it starts its response,
    and when the request's variables exceed its C(buffer-size) (4096 bytes by default); nginx
    answers C(502) to both. The module reports both as V(protocol_error); the uWSGI log has the
    cause.
  - Whoever can open a uWSGI 2.0 socket can make it load code (C(UWSGI_FILE)), so the socket's
    owner, group and mode are the app's security boundary; O(user) is the way to test it.
seealso:
  - module: ansible.builtin.uri
    description: Probe the app through nginx, over HTTP.
"""

EXAMPLES = r"""
- name: Check that the app answers on its socket
  pyops.uwsgi.uwsgi_probe:
    socket: /run/uwsgi/shop/shop.sock
    path: /health
    host: shop.example.org
    expect_status: [200]

- name: Wait up to 60 seconds, trying every 2, until the app answers its health path with 200
  pyops.uwsgi.uwsgi_probe:
    socket: /run/uwsgi/shop/shop.sock
    path: /health
    expect_status: [200]
    wait: 60
    interval: 2
  register: shop_ready

- name: Check that nginx's user can open the socket
  pyops.uwsgi.uwsgi_probe:
    socket: /run/uwsgi/shop/shop.sock
    user: www-data
  become: true

- name: Check that other users cannot
  pyops.uwsgi.uwsgi_probe:
    socket: /run/uwsgi/shop/shop.sock
    user: nobody
    fail_on_error: false
  become: true
  register: shop_probe_nobody
  failed_when: shop_probe_nobody.error != 'permission_denied'

- name: Post JSON to an app on a TCP socket
  pyops.uwsgi.uwsgi_probe:
    socket: 127.0.0.1:8001
    method: POST
    path: /api/orders?dry_run=1
    headers:
      Content-Type: application/json
      X-Request-Id: deploy-check
    body: '{"sku": "test"}'
    timeout: 10

- name: Say why the app does not answer, without failing here
  pyops.uwsgi.uwsgi_probe:
    socket: /run/uwsgi/shop/shop.sock
    fail_on_error: false
  register: shop_probe

- name: Name the fix
  ansible.builtin.fail:
    msg: "uWSGI has not created its socket: is the vassal running? journalctl -t uwsgi-shop"
  when: shop_probe.error == 'socket_missing'
"""

RETURN = r"""
status:
  description: The HTTP status the app answered; null when there was no response.
  returned: always
  type: int
  sample: 200
reason:
  description: The reason phrase of the status line; null when there was no response.
  returned: always
  type: str
  sample: OK
headers:
  description:
    - Response headers, with names in lower case. A header sent more than once has its values
      joined with C(", ") in the order received (for C(Set-Cookie), read RV(header_list)).
  returned: always
  type: dict
  sample: {"content-type": "text/html; charset=utf-8", "x-frame-options": "DENY"}
header_list:
  description: Response headers as received, each a list of name and value, repeats kept.
  returned: always
  type: list
  elements: list
  sample: [["Content-Type", "text/html; charset=utf-8"], ["Set-Cookie", "a=1"]]
body:
  description:
    - The first O(body_limit) bytes of the response body, decoded as UTF-8 (undecodable bytes
      replaced).
  returned: always
  type: str
  sample: "<!doctype html>..."
body_size:
  description: The size in bytes of the whole response body the app sent.
  returned: always
  type: int
  sample: 5120
body_truncated:
  description: Whether RV(body) holds less than the app sent, because of O(body_limit).
  returned: always
  type: bool
  sample: false
elapsed:
  description: Seconds from connecting to the end of the response, or to the failure.
  returned: always
  type: float
  sample: 0.0042
error:
  description:
    - Null when the app answered with a status below 500, otherwise the reason.
    - "V(socket_missing): the unix socket does not exist. nginx fails the same way with
      C(2: No such file or directory) and answers 502."
    - "V(permission_denied): this user may not open the socket or a directory above it. nginx
      fails the same way with C(13: Permission denied) and answers 502."
    - "V(refused): nothing accepts connections there (a stale socket file, a stopped uWSGI), or its
      listen queue is full."
    - "V(timeout): no complete response within O(timeout)."
    - "V(protocol_error): the peer closed without a reply, or replied with something that is not
      HTTP."
    - "V(connection_error): any other failure to connect, such as a host name that does not
      resolve or an unreachable network."
    - "V(app_error_5xx): the app answered a 5xx status."
  returned: always
  type: str
  sample: permission_denied
attempts:
  description: How many requests were sent; 1 unless O(wait) is more than 0.
  returned: always
  type: int
  sample: 3
  version_added: 0.2.0
waited:
  description: Seconds from the first try to the end of the last one.
  returned: always
  type: float
  sample: 2.0131
  version_added: 0.2.0
error_message:
  description: What went wrong, in words; null when RV(error) is null.
  returned: always
  type: str
  sample: >-
    /run/uwsgi/shop/shop.sock: Permission denied: check the owner, group and mode of the socket
    and of each directory above it
"""

import base64
import json
import os
import pwd
import select
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_protocol, waiter

# Seconds the parent waits for a child probing as another user beyond the probe's own timeout.
CHILD_GRACE = 10

HINTS = {
    "socket_missing": "is uWSGI running, and does it bind this path? nginx answers 502 here",
    "permission_denied": (
        "check the owner, group and mode of the socket and of each directory above it"
    ),
    "refused": "nothing accepts connections there: a stale socket file, or uWSGI is not running",
    "timeout": "the app is slow or stuck; see its uWSGI log (harakiri?)",
}


def probe(params):
    """Send the request; return a JSON-serialisable outcome (response or error)."""
    started = time.monotonic()
    try:
        response = uwsgi_protocol.request(
            params["socket"],
            params["method"],
            params["path"],
            host=params["host"],
            headers=params["headers"],
            body=params["body"],
            timeout=params["timeout"],
            body_limit=params["body_limit"],
        )
    except uwsgi_protocol.UwsgiError as exc:
        message = exc.message
        if exc.category in HINTS:
            message = f"{message}: {HINTS[exc.category]}"
        return {
            "error": exc.category,
            "error_message": message,
            "elapsed": time.monotonic() - started,
        }
    return {
        "status": response.status,
        "reason": response.reason,
        "header_list": [list(pair) for pair in response.headers],
        "body_b64": base64.b64encode(response.body).decode("ascii"),
        "body_size": response.body_size,
        "elapsed": response.elapsed,
    }


def lookup_user(user):
    try:
        return pwd.getpwnam(user)
    except KeyError:
        if user.isdigit():
            try:
                return pwd.getpwuid(int(user))
            except KeyError:
                pass
    return None


def _child_probe(params, account, write_fd):
    """Drop to ACCOUNT, probe, write the outcome as JSON to WRITE_FD and exit: never returns."""
    status = 1
    try:
        try:
            os.initgroups(account.pw_name, account.pw_gid)
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            if os.getuid() != account.pw_uid or os.geteuid() != account.pw_uid:
                raise OSError(f"still uid {os.geteuid()} after setuid({account.pw_uid})")
            outcome = probe(params)
            status = 0
        except Exception as exc:
            outcome = {"internal": f"cannot probe as {account.pw_name}: {exc}"}
        data = json.dumps(outcome).encode("utf-8")
        while data:
            data = data[os.write(write_fd, data) :]
    finally:
        # Leave without running the parent's exit handlers or flushing its copied buffers.
        os._exit(status)


def probe_as(module, account):
    """Run probe() in a child process that has dropped to ACCOUNT (a pwd entry)."""
    params = module.params
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child_probe(params, account, write_fd)

    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + params["timeout"] + CHILD_GRACE
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                return {
                    "error": "timeout",
                    "error_message": f"the probe running as {account.pw_name} did not finish",
                    "elapsed": params["timeout"] + CHILD_GRACE,
                }
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    try:
        outcome = json.loads(b"".join(chunks))
    except ValueError:
        module.fail_json(msg=f"the probe running as {account.pw_name} exited without a result")
    if "internal" in outcome:
        module.fail_json(msg=outcome["internal"])
    if outcome.get("error_message"):
        outcome["error_message"] = f"as user {account.pw_name}, {outcome['error_message']}"
    return outcome


def check_params(module):
    """Fail on options that cannot work; return the pwd entry to switch to, or None."""
    params = module.params
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be more than 0 seconds")
    if params["body_limit"] < 0:
        module.fail_json(msg="body_limit must be 0 or more")
    wrong = waiter.check(wait=params["wait"], interval=params["interval"])
    if wrong:
        module.fail_json(msg=wrong)
    # Refuse a request that cannot be encoded before connecting to anything.
    try:
        uwsgi_protocol.parse_address(params["socket"])
        uwsgi_protocol.build_request(
            params["method"], params["path"], params["host"], params["headers"], params["body"]
        )
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if params["user"] is None:
        return None
    account = lookup_user(params["user"])
    if account is None:
        module.fail_json(msg=f"user {params['user']!r}: no such user")
    if account.pw_uid == os.geteuid():
        return None
    if os.geteuid() != 0:
        module.fail_json(
            msg=f"probing as user {params['user']!r} needs root (become: true) to switch user"
        )
    return account


def build_result(outcome):
    """Turn a probe outcome into the module's return values."""
    result = {
        "changed": False,
        "status": outcome.get("status"),
        "reason": outcome.get("reason"),
        "headers": {},
        "header_list": outcome.get("header_list", []),
        "body": "",
        "body_size": outcome.get("body_size", 0),
        "body_truncated": False,
        "elapsed": round(outcome["elapsed"], 6),
        "error": outcome.get("error"),
        "error_message": outcome.get("error_message"),
    }
    if result["status"] is None:
        return result
    body = base64.b64decode(outcome["body_b64"])
    result["body"] = body.decode("utf-8", errors="replace")
    result["body_truncated"] = result["body_size"] > len(body)
    headers = result["headers"]
    for name, value in result["header_list"]:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if result["status"] >= 500:
        result["error"] = "app_error_5xx"
        result["error_message"] = (
            f"the app answered {result['status']} {result['reason']}".rstrip()
            + "; its traceback, if any, is in the uWSGI log"
        )
    return result


def accepts(expected):
    """Whether the wait ends on a result: a status of EXPECTED, or without one, no error."""
    if expected:
        return lambda result: result["status"] in expected
    return lambda result: result["error"] is None


def failure(result, expected, fail_on_error):
    """Why RESULT fails the task, in words, or None: its status and body, or its error."""
    if result["status"] is not None and expected:
        if result["status"] in expected:
            return None
        message = f"the app answered {result['status']} {result['reason']}".rstrip()
        message += f", expected {waiter.statuses_text(expected)}"
    elif result["error"] and fail_on_error:
        message = result["error_message"]
    else:
        return None
    quoted = waiter.excerpt(result["body"]) if result["status"] is not None else ""
    return f"{message}; body {quoted}" if quoted else message


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="str", required=True),
            method=dict(type="str", default="GET"),
            path=dict(type="str", default="/"),
            host=dict(type="str", default="localhost"),
            headers=dict(type="dict", default={}),
            body=dict(type="str", default=""),
            timeout=dict(type="float", default=5),
            user=dict(type="str"),
            expect_status=dict(type="list", elements="int"),
            wait=dict(type="float", default=0),
            interval=dict(type="float", default=1),
            fail_on_error=dict(type="bool", default=True),
            body_limit=dict(type="int", default=65536),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # A probe changes nothing, so check mode sends it too.
    account = check_params(module)
    expected = params["expect_status"]

    def attempt():
        return build_result(probe(params) if account is None else probe_as(module, account))

    waited = waiter.wait_for(
        attempt, accepts(expected), wait=params["wait"], interval=params["interval"]
    )
    result = {**waited.outcome, "attempts": waited.attempts, "waited": round(waited.waited, 6)}
    why = failure(result, expected, params["fail_on_error"])
    if why:
        module.fail_json(msg=waiter.summary(waited, wait=params["wait"]) + why, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
