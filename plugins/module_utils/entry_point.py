# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WSGI entry point as uWSGI 2.0 reads it, and the check that imports it before a switch.

uWSGI's ``module = MODULE:CALLABLE`` (plugins/python/pyloader.c, ``uwsgi_uwsgi_loader``):

- the text is split at the first ``:``; MODULE is imported with ``PyImport_ImportModule``, so a
  dotted name imports the package and returns the submodule, from ``sys.path``, on which uWSGI put
  ``.`` and then each ``pythonpath`` in front (the role sets ``chdir`` and ``pythonpath`` to the
  release's code, so the code comes before the virtualenv);
- CALLABLE is looked up in the module's ``__dict__`` (``PyDict_GetItemString``): a name bound at
  module level, imported names included; neither attributes of attributes (``app.wsgi_app``) nor a
  module-level ``__getattr__`` are found;
- when CALLABLE ends in ``()``, the name before it is looked up and called once, with no arguments,
  and what it returns is the app (an application factory, ``create_app()``). Anything else between
  the parentheses is not parsed: ``create_app("prod")`` is looked up as that whole text, found
  nowhere, and the app fails to load;
- a module that defines a dict ``applications`` mounts those instead (uWSGI's multi-app form);
- uWSGI never checks that what it found takes ``(environ, start_response)``: given a factory
  without ``()``, it mounts the factory, and every request fails with a TypeError.

``SCRIPT`` repeats the import in the release's virtualenv, as the app's user, with its environment,
from the code directory (its working directory), and reports one line of JSON; ``verdict`` turns
that into the failure a user can act on. The factory itself is not called: what it returns is the
canary's business.

Pure: no I/O.
"""

from __future__ import annotations

import json
import re

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MARKER = "PYOPS-ENTRY-POINT "
PITFALL_1A = "Pitfall 1a (Wrong entry point)"
PITFALL_1B = "Pitfall 1b (Wrong callable)"
PITFALL_2 = "Pitfall 2 (Package missing from the virtualenv)"

# Runs in the app's virtualenv Python (any 3.x); argv: MODULE NAME FACTORY(0|1). Free of the
# dollar sign, which systemd-run would expand. Prints MARKER and one JSON object, last.
SCRIPT = r"""
import importlib, inspect, json, os, sys, traceback


def emit(**result):
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


module_name, name, factory = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
sys.argv = ["uwsgi"]
# As uWSGI with chdir and pythonpath set to the code: the code, then ".", then the rest.
code = os.getcwd()
sys.path[:0] = [code, "."]
try:
    module = importlib.import_module(module_name)
except BaseException as exc:
    lines = traceback.format_exception_only(type(exc), exc)
    emit(
        kind="import",
        error=type(exc).__name__,
        line=lines[-1].strip() if lines else repr(exc),
        missing=getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        traceback=traceback.format_exc().splitlines()[-15:],
    )
namespace = vars(module)
if isinstance(namespace.get("applications"), dict):
    emit(kind="ok", applications=True)
if name not in namespace:
    names = sorted(
        key for key, value in namespace.items() if not key.startswith("_") and callable(value)
    )
    emit(kind="attribute", file=getattr(module, "__file__", None), callables=names[:25])
found = namespace[name]
if not callable(found):
    emit(kind="not_callable", type=type(found).__name__)


def binds(count):
    try:
        signature = inspect.signature(found)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


emit(kind="ok", as_app=binds(2), as_factory=binds(0), type=type(found).__name__)
""".replace("MARKER", repr(MARKER))


def parse_callable(text):
    """(name, factory, problem) of app_wsgi_callable as uWSGI 2.0 reads it; problem "" if none."""
    text = str(text)
    factory = text.endswith("()")
    name = text[:-2] if factory else text
    if _NAME.fullmatch(name):
        return name, factory, ""
    call = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\((.+)\)", text)
    if call:
        return (
            call.group(1),
            True,
            f"uWSGI 2.0 calls an application factory only without arguments ({call.group(1)}());"
            f" it would look '{text}' up as one name and find nothing. Pass settings through"
            f" app_env, or add a module that calls the factory (app = {text}) and name that",
        )
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+(\(\))?", text):
        return (
            name,
            factory,
            "uWSGI looks the callable up by name among what the module binds; it does not follow"
            f" attributes ('{name}'). Bind it in the module (application = {name}) and name that",
        )
    return (
        name,
        factory,
        "it must be a Python name such as application, or a factory call such as create_app()",
    )


def check_argv(python, module, callable_text):
    """The command that runs SCRIPT for MODULE:CALLABLE_TEXT in the interpreter PYTHON."""
    name, factory, _problem = parse_callable(callable_text)
    return [python, "-c", SCRIPT, module, name, "1" if factory else "0"]


def result_of(output):
    """The JSON object SCRIPT printed last in OUTPUT, or None."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            try:
                return json.loads(line[len(MARKER) :])
            except ValueError:
                return None
    return None


def _import_failure(result, module):
    missing = result.get("missing") or ""
    line = result.get("line", "")
    if missing and (missing == module or module.startswith(missing + ".")):
        return (
            f"{PITFALL_1A}: app_wsgi_module '{module}' cannot be imported in the release, from the"
            f" code directory nor from the virtualenv ({line}). Set app_wsgi_module to the module"
            " that defines or imports the WSGI callable, with dots for packages and no .py"
            " (mysite/wsgi.py is mysite.wsgi); a module of a project installed into the"
            " virtualenv (src layout) needs app_project_install, or the project in"
            " app_requirements_file."
        )
    if missing:
        package = missing.split(".")[0]
        return (
            f"{PITFALL_2}: importing app_wsgi_module '{module}' failed: {line}. Add the"
            f" distribution that provides '{package}' to app_requirements_file or"
            " app_pip_packages (or set app_project_install for the app's own package), unless"
            f" '{package}' is part of the app's code."
        )
    tail = " | ".join(result.get("traceback") or [line])
    return (
        f"Importing app_wsgi_module '{module}' as the app's user, with app_env, from the code"
        f" directory raised {line}. The last lines: {tail}"
    )


def _shape_failure(name, factory, as_app, as_factory):
    """Why NAME (a factory when FACTORY) is not what uWSGI would call, or "".

    AS_APP and AS_FACTORY say whether its signature takes two arguments, or none (None: unknown).
    """
    if factory and as_factory is False and as_app:
        return (
            f"{name} is a WSGI application, not an application factory: write"
            f" app_wsgi_callable: {name} (without ()). uWSGI would call it without arguments and"
            " fail to load the app."
        )
    if factory and as_factory is False:
        return (
            f"{name}() cannot be called without arguments, the only way uWSGI 2.0 calls an"
            " application factory. Give its parameters defaults, or add a module that calls it"
            f" (app = {name}(...)) and name that."
        )
    if not factory and as_factory and as_app is False:
        return (
            f"{name} is an application factory: write app_wsgi_callable: {name}(). uWSGI would"
            " mount the factory itself as the app, and every request would fail."
        )
    if not factory and as_app is False:
        return (
            f"{name} does not take (environ, start_response), so it is not a WSGI application:"
            " set app_wsgi_callable to the app, or to its factory with ()."
        )
    return ""


def _found_failure(result, module, name):
    """Why the name was not found, or not callable, or ""."""
    if result.get("kind") == "attribute":
        names = ", ".join(result.get("callables") or []) or "none"
        return (
            f"module {module} ({result.get('file')}) binds no name '{name}', where uWSGI looks"
            " for the callable (a module-level __getattr__ does not count). Set"
            f" app_wsgi_callable to one it binds; callables it binds: {names}."
        )
    if result.get("kind") == "not_callable":
        return (
            f"{module}.{name} is a {result.get('type')}, which cannot be called: set"
            " app_wsgi_callable to the WSGI application or its factory."
        )
    return ""


def verdict(result, module, callable_text):
    """(ok, message) for what SCRIPT reported (RESULT) about MODULE:CALLABLE_TEXT."""
    name, factory, _problem = parse_callable(callable_text)
    if result is None:
        return False, "The entry point check printed no result."
    if result.get("kind") == "import":
        return False, _import_failure(result, module)
    failure = _found_failure(result, module, name)
    if not failure and result.get("kind") != "ok":
        return False, f"The entry point check reported {result!r}."
    failure = failure or _shape_failure(
        name, factory, result.get("as_app"), result.get("as_factory")
    )
    if failure:
        return False, f"{PITFALL_1B}: {failure}"
    return True, f"{module}:{callable_text} imports and looks like a WSGI entry point."
