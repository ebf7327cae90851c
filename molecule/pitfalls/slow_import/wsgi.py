"""An app whose import takes a minute under uWSGI, as one that loads a large model at import.

Only uWSGI (which provides the module ``uwsgi``) waits: the role's check that the entry point
imports, which runs first and is not what this case is about, passes at once.
"""

import time

try:
    import uwsgi
except ImportError:
    uwsgi = None

UNDER_UWSGI = uwsgi is not None

if UNDER_UWSGI:
    time.sleep(60)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Loaded at last\n"]
