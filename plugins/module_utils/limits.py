# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The limits along a request's path, client -> nginx -> uwsgi packet -> uWSGI -> app, decided once.

Every layer has its own limit for the same thing: how large the headers may be each way, how many
variables a request brings, how long each side waits, how many requests may wait. When two layers
disagree, the one behind gives up first and the client sees what nobody meant: 502 for headers
nginx accepted, a download cut short with status 200, a burst refused while nginx would have waited.
So the values are decided here, from the few settings an operator tunes, and ``disagreements``
says where settings would make a layer give up before the one in front of it.

``uwsgi_options`` gives the app's vassal its limits, ``site_directives`` the app's nginx site its
own, ``rows`` the table docs/limits.md renders (scripts/limits_doc.py). Pure: no I/O.
"""

from __future__ import annotations

import typing as t

from ansible_collections.pyops.uwsgi.plugins.module_utils import values

# The largest uwsgi packet: its size field has 16 bits; uWSGI's buffer-size takes all of it.
UWSGI_PACKET = values.UWSGI_PACKET
# The smallest variable a header makes in that packet: two 16-bit lengths, "HTTP_" and a
# one-letter name, an empty value. A packet holds at most UWSGI_PACKET // this many.
SMALLEST_VARIABLE = 2 + len("HTTP_X") + 2
# uWSGI keeps 4 * max-vars slots and spends two on each variable (name, value): so it takes up
# to 2 * max-vars variables, and "max vec size reached" ends a request with more (502). Enough
# for every variable a full packet can hold.
MAX_VARS = -(-(UWSGI_PACKET // SMALLEST_VARIABLE + 1) // 2)
# uWSGI reads the whole request body before the app runs, this much in memory and the rest in a
# file (the unit's private /tmp): an app that answers without reading it (405, 401) would
# otherwise close the socket while nginx still sends, and the client get 502.
POST_BUFFERING = 65536
# nginx's buffers for the rest of a response (uwsgi_buffers' SIZE): one memory page pair.
RESPONSE_BUFFER = 8192
# uWSGI's own ceiling for the headers of a response (response-headers-limit's default).
UWSGI_RESPONSE_HEADERS = 65535
# How much longer uWSGI waits on its socket than nginx waits on its client: nginx gives up first
# and closes the connection, so uWSGI never cuts a response nginx would still deliver.
SOCKET_TIMEOUT_MARGIN = 5
# How much longer nginx keeps an idle connection of a load balancer's open than the load balancer
# does: the load balancer closes it first, so it never sends a request on a connection nginx is
# closing (which it would answer 502). The margin covers the request's own time on the wire.
LOAD_BALANCER_IDLE_MARGIN = 15


def bytes_of(size: t.Any) -> int:
    """The bytes of an nginx size (32k is 32768)."""
    return values.nginx_size_bytes(size)


def response_buffers(header_size: int) -> dict[str, t.Any]:
    """nginx's response buffers for headers of up to HEADER_SIZE bytes.

    nginx reads the status line and every header into one buffer of uwsgi_buffer_size; the rest
    goes into uwsgi_buffers. nginx refuses to start unless uwsgi_busy_buffers_size is at least
    the larger of uwsgi_buffer_size and one of uwsgi_buffers, and below all of uwsgi_buffers less
    one: so the number of buffers grows with the header buffer.
    """
    busy = max(header_size, RESPONSE_BUFFER)
    count = max(8, -(-busy // RESPONSE_BUFFER) + 2)
    return {
        "uwsgi_buffer_size": header_size,
        "uwsgi_buffers": f"{count} {RESPONSE_BUFFER}",
        "uwsgi_busy_buffers_size": busy,
    }


def site_directives(
    *,
    header_size: int,
    read_timeout: int,
    max_conns: int,
    retry_after: int,
) -> dict[str, t.Any]:
    """The nginx site's limits toward the app.

    HEADER_SIZE: bytes of response headers nginx takes (uwsgi_buffer_size). READ_TIMEOUT: seconds
    nginx waits for the app, for its answer and for it to take the request (a request queued behind
    busy workers waits in both). MAX_CONNS: requests passed to the app at once, 0 for no limit;
    past it nginx answers 503 with Retry-After: RETRY_AFTER seconds.
    """
    return {
        **response_buffers(header_size),
        "uwsgi_read_timeout": read_timeout,
        "uwsgi_send_timeout": read_timeout,
        "limit_conn": max_conns,
        "retry_after": retry_after,
    }


def keepalive_timeout(*, keepalive: int, lb_idle: int) -> int:
    """nginx's keepalive_timeout on a site behind a load balancer whose idle timeout is LB_IDLE
    seconds: KEEPALIVE (nginx_keepalive_timeout), or longer than the load balancer keeps one.

    keepalive_requests stays nginx's (1000): past it nginx answers with Connection: close, which
    the load balancer reads before it sends another request on that connection, so no 502.
    """
    return max(keepalive, lb_idle + LOAD_BALANCER_IDLE_MARGIN)


def uwsgi_options(
    *,
    harakiri: int,
    listen: int,
    response_headers: int,
    send_timeout: int,
) -> dict[str, t.Any]:
    """The app's uWSGI limits, in front of which nginx sits.

    RESPONSE_HEADERS: bytes of response headers nginx takes; uWSGI is held to the same, so an app
    that sends more has it said in its own log. SEND_TIMEOUT: nginx's send_timeout, the longest
    a client may pause while reading.
    """
    return {
        "harakiri": harakiri,
        "listen": listen,
        "buffer-size": UWSGI_PACKET,
        "max-vars": MAX_VARS,
        "response-headers-limit": min(response_headers, UWSGI_RESPONSE_HEADERS),
        "socket-timeout": send_timeout + SOCKET_TIMEOUT_MARGIN,
        "post-buffering": POST_BUFFERING,
    }


class Path(t.NamedTuple):
    """The settings the limits are decided from, by their meaning.

    The defaults are the roles' own, for docs and for a plan that does not know the nginx role's.
    """

    harakiri: int = 30
    read_timeout: int = 35
    listen: int = 1024
    response_headers: int = 32768
    header_buffers: str = "4 8k"
    client_header_timeout: int = 15
    client_body_timeout: int = 15
    send_timeout: int = 15
    keepalive_timeout: int = 30
    lb_idle_timeout: int = 60
    body_size: str = "10m"
    retry_after: int = 5
    somaxconn: int | None = None


def decide(path: Path) -> dict[str, dict[str, t.Any]]:
    """{"nginx": the site's directives, "uwsgi": the vassal's options} for PATH."""
    return {
        "nginx": site_directives(
            header_size=path.response_headers,
            read_timeout=path.read_timeout,
            max_conns=path.listen,
            retry_after=path.retry_after,
        ),
        "uwsgi": uwsgi_options(
            harakiri=path.harakiri,
            listen=path.listen,
            response_headers=path.response_headers,
            send_timeout=path.send_timeout,
        ),
    }


def disagreements(path: Path, options: dict[str, t.Any] | None = None) -> dict[str, str]:
    """Where the layers would disagree: {limit: what each layer would do} for each one broken.

    OPTIONS: the vassal's uWSGI options as they will be written (the app's app_uwsgi_options
    merged over ``uwsgi_options``); by default the decided ones.
    """
    decided = decide(path)
    nginx, uwsgi = decided["nginx"], {**decided["uwsgi"], **(options or {})}
    need = values.uwsgi_packet_need(path.header_buffers)
    checks = (
        (
            need <= _int(uwsgi.get("buffer-size"), UWSGI_PACKET) <= UWSGI_PACKET,
            f"request headers: nginx lets a request bring up to {need} bytes of variables"
            f" (large_client_header_buffers {path.header_buffers}), uWSGI takes"
            f" {uwsgi.get('buffer-size')} (buffer-size, at most {UWSGI_PACKET})",
        ),
        (
            2 * _int(uwsgi.get("max-vars"), 64) >= UWSGI_PACKET // SMALLEST_VARIABLE,
            f"request variables: a uwsgi packet holds up to {UWSGI_PACKET // SMALLEST_VARIABLE},"
            f" uWSGI takes {2 * _int(uwsgi.get('max-vars'), 64)} (twice max-vars)",
        ),
        (
            _int(uwsgi.get("response-headers-limit"), UWSGI_RESPONSE_HEADERS)
            <= nginx["uwsgi_buffer_size"],
            f"response headers: uWSGI sends up to {uwsgi.get('response-headers-limit')} bytes"
            f" (response-headers-limit), nginx takes {nginx['uwsgi_buffer_size']}"
            " (uwsgi_buffer_size)",
        ),
        (
            _int(uwsgi.get("harakiri"), 0) < nginx["uwsgi_read_timeout"],
            f"slow requests: uWSGI ends one after {uwsgi.get('harakiri')} s (harakiri), nginx"
            f" waits {nginx['uwsgi_read_timeout']} s (uwsgi_read_timeout)",
        ),
        (
            _int(uwsgi.get("socket-timeout"), 4) > path.send_timeout,
            f"slow readers: a client may pause {path.send_timeout} s (send_timeout), uWSGI"
            f" waits {uwsgi.get('socket-timeout')} s to write (socket-timeout)",
        ),
        (
            0 < nginx["limit_conn"] <= _int(uwsgi.get("listen"), 100),
            f"bursts: nginx passes {nginx['limit_conn']} requests at once (limit_conn), uWSGI"
            f" queues {uwsgi.get('listen')} (listen)",
        ),
        (
            path.somaxconn is None or _int(uwsgi.get("listen"), 100) <= path.somaxconn,
            f"bursts: uWSGI asks for a queue of {uwsgi.get('listen')} (listen), the kernel"
            f" allows {path.somaxconn} (net.core.somaxconn)",
        ),
        (
            "limit-post" not in uwsgi
            or _int(uwsgi.get("limit-post"), 0) >= bytes_of(path.body_size),
            f"bodies: nginx accepts {path.body_size} (client_max_body_size), uWSGI"
            f" {uwsgi.get('limit-post')} bytes (limit-post)",
        ),
    )
    return dict(message.split(": ", 1) for ok, message in checks if not ok)


def _int(value, default):
    """VALUE as a number (uWSGI options may come as text), DEFAULT when unset or not a number."""
    if value is None or isinstance(value, bool):
        return default
    text = str(value).strip()
    return int(text) if text.isdigit() else default


# --- The table docs/limits.md renders -----------------------------------------------------------

ROWS: tuple[dict[str, str], ...] = (
    {
        "limit": "Request line and each request header",
        "between": "client -> nginx",
        "where": "nginx `large_client_header_buffers` (and `client_header_buffer_size`)",
        "setting": "`nginx_large_client_header_buffers`, `nginx_client_header_buffer_size`",
        "value": "{header_buffers}",
        "past": "nginx: 414 (line) or 400 (header), before the app sees anything",
    },
    {
        "limit": "Number of request headers",
        "between": "client -> nginx",
        "where": "Debian's nginx (12 and 13) takes at most 1000 header lines (`max_headers`)",
        "setting": "none",
        "value": "1000",
        "past": "nginx: 400",
    },
    {
        "limit": "Request variables in one uwsgi packet",
        "between": "nginx -> uWSGI",
        "where": "uWSGI `buffer-size`; the nginx role refuses header buffers that could need more",
        "setting": "`nginx_large_client_header_buffers`",
        "value": f"{UWSGI_PACKET} bytes (the largest a packet can be)",
        "past": "cannot happen: nginx refuses the request first",
    },
    {
        "limit": "Number of request variables",
        "between": "nginx -> uWSGI",
        "where": "uWSGI `max-vars` (it takes twice as many variables)",
        "setting": "none (every variable a full packet can hold)",
        "value": f"{MAX_VARS}",
        "past": "cannot happen: a packet holds fewer",
    },
    {
        "limit": "Request body",
        "between": "client -> nginx -> uWSGI",
        "where": "nginx `client_max_body_size`; uWSGI `limit-post` unset, `post-buffering`",
        "setting": "`app_client_max_body_size` (`nginx_site_client_max_body_size`)",
        "value": "{body_size}; the app reads it whole ({post_buffering} bytes in memory, the rest"
        " in a file)",
        "past": "nginx: 413",
    },
    {
        "limit": "Chunked request body",
        "between": "nginx -> uWSGI",
        "where": "nginx reads it whole and passes `CONTENT_LENGTH`; the site drops"
        " `HTTP_TRANSFER_ENCODING`",
        "setting": "none",
        "value": "as any body",
        "past": "as any body",
    },
    {
        "limit": "Response headers",
        "between": "app -> uWSGI -> nginx",
        "where": "uWSGI `response-headers-limit`; nginx `uwsgi_buffer_size` (`uwsgi_buffers`,"
        " `uwsgi_busy_buffers_size` follow)",
        "setting": "`app_response_headers_limit` (`nginx_site_uwsgi_buffer_size`)",
        "value": "{response_headers} bytes; {uwsgi_buffers} for the body",
        "past": "502; uWSGI logs `unable to add header to the response` in the app's log",
    },
    {
        "limit": "Requests waiting for a worker",
        "between": "nginx -> uWSGI",
        "where": "nginx `limit_conn`; uWSGI `listen` (systemd's `Backlog=` with socket activation);"
        " the kernel's `net.core.somaxconn`",
        "setting": "`app_listen` (`nginx_site_max_conns`)",
        "value": "{listen} requests passed to the app at once, a queue of {listen}",
        "past": "nginx: 503 with `Retry-After: {retry_after}` (`nginx_site_retry_after`),"
        " never 502",
    },
    {
        "limit": "Client sends the headers / the body",
        "between": "client -> nginx",
        "where": "nginx `client_header_timeout`, `client_body_timeout`",
        "setting": "`nginx_client_header_timeout`, `nginx_client_body_timeout`",
        "value": "{client_header_timeout} s, {client_body_timeout} s between two reads",
        "past": "nginx: 408; the app never sees a half-sent request (nginx buffers bodies)",
    },
    {
        "limit": "Request in the queue and at work",
        "between": "nginx -> uWSGI",
        "where": "nginx `uwsgi_send_timeout`, `uwsgi_read_timeout`",
        "setting": "`app_nginx_read_timeout` (0: `app_harakiri` + 5)",
        "value": "{read_timeout} s",
        "past": "nginx: 504",
    },
    {
        "limit": "Request at work",
        "between": "uWSGI -> app",
        "where": "uWSGI `harakiri` (below `uwsgi_read_timeout`, so uWSGI ends it first); it"
        " bounds a whole streamed response too",
        "setting": "`app_harakiri`",
        "value": "{harakiri} s",
        "past": "uWSGI kills the worker; nginx: 502 for that request alone",
    },
    {
        "limit": "Client pauses while reading",
        "between": "nginx -> client",
        "where": "nginx `send_timeout`; uWSGI `socket-timeout` (longer, so a response the app"
        " streams unbuffered is never cut while nginx still waits)",
        "setting": "`nginx_send_timeout`",
        "value": "{send_timeout} s; uWSGI {socket_timeout} s",
        "past": "nginx closes the connection",
    },
    {
        "limit": "Idle keep-alive connection",
        "between": "client -> nginx",
        "where": "nginx `keepalive_timeout`",
        "setting": "`nginx_keepalive_timeout`",
        "value": "{keepalive_timeout} s",
        "past": "nginx closes it",
    },
    {
        "limit": "Idle keep-alive connection of a load balancer",
        "between": "load balancer -> nginx",
        "where": "the load balancer's idle timeout; nginx `keepalive_timeout` in the sites whose"
        " load balancer is declared (`nginx_site_lb_health_networks`), {lb_margin} s longer",
        "setting": "`nginx_load_balancer_idle_timeout` (an ALB's idle timeout)",
        "value": "{lb_idle_timeout} s; nginx {lb_keepalive_timeout} s",
        "past": "the load balancer closes it first; nginx first would be a 502 at the load"
        " balancer",
    },
)


def rows(path: Path | None = None) -> list[dict[str, str]]:
    """The table of limits with PATH's values (the roles' defaults when none)."""
    path = path or Path()
    decided = decide(path)
    fields = {
        **path._asdict(),
        "post_buffering": POST_BUFFERING,
        "uwsgi_buffers": decided["nginx"]["uwsgi_buffers"],
        "socket_timeout": decided["uwsgi"]["socket-timeout"],
        "lb_margin": LOAD_BALANCER_IDLE_MARGIN,
        "lb_keepalive_timeout": keepalive_timeout(
            keepalive=path.keepalive_timeout, lb_idle=path.lb_idle_timeout
        ),
    }
    return [{key: text.format(**fields) for key, text in row.items()} for row in ROWS]
