"""The plan's shape (module_utils/_app/schema.py) against its readers and its documentation.

What the app role's tasks and templates read of the plan exists in the schema; every field of the
schema has a reader (a task, a template, the Python that takes the plan, or a consumer the plan
hands a part of whole); the plans made have the schema's shape; and the action's RETURN
documentation (plugins/modules/app_plan.py) is the schema's, field for field.
"""

from __future__ import annotations

import ast
import re
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible_collections.pyops.uwsgi.plugins.module_utils import app_state
from ansible_collections.pyops.uwsgi.plugins.module_utils._app import schema
from ansible_collections.pyops.uwsgi.plugins.modules import app_commands
from ansible_collections.pyops.uwsgi.plugins.modules import app_plan as app_plan_doc
from ansible_collections.pyops.uwsgi.tests.unit.plugins import stand_in

ROOT = Path(__file__).resolve().parents[4]
TASKS = ROOT / "roles" / "app" / "tasks"
# A plan read in Jinja: the role's __app_plan, or the registered result's plan before it is set.
_JINJA_READ = re.compile(r"__app_plan(?:ned\.plan)?\.([a-z_][a-z_.]*)")
# Python that takes the plan (the variable "plan" in each).
PYTHON_READERS = (
    ROOT / "plugins" / "module_utils" / "app_state.py",
    ROOT / "plugins" / "action" / "app_plan.py",
)
# Parts of the plan handed whole to a consumer that reads their keys; each is checked below.
WHOLE = {
    "nginx_site": "an item of the nginx role's nginx_sites: every key an option of its site",
    "diagnose": "the filter pyops.uwsgi.uwsgi_diagnose's app: every key named in the filter",
    "release.record": "the release's marker, written whole as JSON (assemble.yml)",
    "phases.build.commands": "option commands of pyops.uwsgi.app_commands: its suboptions",
    "phases.release.commands": "option commands of pyops.uwsgi.app_commands: its suboptions",
    "phases.release.once": "option commands of pyops.uwsgi.app_commands: its suboptions",
    "phases.post_release": "kept whole in __app_deployed (serve.yml); post_release.yml hands its"
    " commands and sandbox to pyops.uwsgi.app_commands",
}
# Fields no task or consumer reads, kept for the unit test that reads them.
TESTS_ONLY = {
    "uwsgi_binary": (
        "test_app_plan.py",
        '["uwsgi_binary"]',
        "the binary the pip method chose, which the vassal's text does not show",
    ),
}


# --- The schema, as paths -----------------------------------------------------------------------


def _field_docs():
    """{class name: {field: its docstring}} of schema.py, a class's bases' fields included."""
    tree = ast.parse(Path(schema.__file__).read_text())
    docs, bases = {}, {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases[node.name] = [base.id for base in node.bases if isinstance(base, ast.Name)]
        own = docs[node.name] = {}
        for field, after in zip(node.body, [*node.body[1:], None]):
            if isinstance(field, ast.AnnAssign):
                doc = after.value.value if isinstance(after, ast.Expr) else None
                own[field.target.id] = doc
    return {
        name: {
            **{field: doc for base in bases[name] for field, doc in docs.get(base, {}).items()},
            **own,
        }
        for name, own in docs.items()
    }


DOCS = _field_docs()


def _typed_dict(kind):
    """The TypedDict KIND is, or holds a list of; None."""
    if t.get_origin(kind) is list:
        kind = t.get_args(kind)[0]
    return kind if isinstance(kind, type) and hasattr(kind, "__required_keys__") else None


def schema_fields(kind=schema.Plan, prefix=""):
    """{dotted path: (type, docstring, optional)} of every field under KIND, nested ones too."""
    found = {}
    for name, field in t.get_type_hints(kind).items():
        path = prefix + name
        found[path] = (field, DOCS[kind.__name__][name], name in kind.__optional_keys__)
        inner = _typed_dict(field)
        if inner:
            found.update(schema_fields(inner, path + "."))
    return found


FIELDS = schema_fields()


# --- What the role's tasks and templates read ---------------------------------------------------


def _tasks(node):
    """Every task (a dict) in a task file's parsed YAML, inside blocks too."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            yield from _tasks(node.get(key) or [])


def _looped(task, path):
    """Fields of the items of the list at plan PATH that TASK's loop reads (a file it includes
    with the loop's variable too)."""
    var = (task.get("loop_control") or {}).get("loop_var", "item")
    text = yaml.safe_dump({key: value for key, value in task.items() if key != "loop"})
    included = task.get("ansible.builtin.include_tasks") or task.get("ansible.builtin.import_tasks")
    if isinstance(included, str) and (TASKS / included).is_file():
        text += (TASKS / included).read_text()
    return {f"{path}.{field}" for field in re.findall(rf"\b{var}\.([a-z_]+)", text)}


def _indirect(task):
    """Reads of a plan field by the loop's item as its key: __app_plan.unit[item] over a loop of
    names in quotes ('service', 'socket')."""
    var = (task.get("loop_control") or {}).get("loop_var", "item")
    text = yaml.safe_dump({key: value for key, value in task.items() if key != "loop"})
    found = set()
    for path in re.findall(rf"__app_plan\.([a-z_.]+)\[{var}\]", text):
        found |= {f"{path}.{name}" for name in re.findall(r"'([a-z_]+)'", str(task["loop"]))}
    return found


def yaml_reads():
    """Every dotted path of the plan the role's tasks and templates read."""
    found = set()
    files = [*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("roles/*/templates/**/*.j2")]
    for path in files:
        text = path.read_text()
        found |= {read.rstrip(".") for read in _JINJA_READ.findall(text)}
        if path.suffix != ".yml":
            continue
        for task in _tasks(yaml.safe_load(text)):
            loop = task.get("loop")
            if not isinstance(loop, str):
                continue
            listed = re.fullmatch(r"\{\{ *__app_plan\.([a-z_.]+) *\}\}", loop)
            if listed:
                found |= _looped(task, listed.group(1))
            found |= _indirect(task)
    return found


def test_the_loops_and_indirections_are_seen():
    reads = yaml_reads()
    # A loop's item (and a loop variable read in the file the loop includes), and a key that is
    # the loop's item.
    assert {"workers.units.name", "workers.units.text"} <= reads
    assert {"shared.paths.link", "shared.paths.parent", "shared.paths.target"} <= reads
    assert {"state.directories_differing.mode", "unit.service", "unit.socket"} <= reads


def test_every_field_the_role_reads_is_in_the_schema():
    missing = sorted(path for path in yaml_reads() if path not in FIELDS)
    assert not missing, f"the app role reads plan fields the schema lacks: {missing}"


# --- What the Python that takes the plan reads ----------------------------------------------------


def _path_of(node, aliases):
    """The plan path NODE reads (plan["a"]["b"], x.get("c") with x an alias), or None."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    key = None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base, key = node.value, node.slice.value
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        base, key = node.func.value, node.args[0].value
    if not isinstance(key, str):
        return None
    above = _path_of(base, aliases)
    if above is None:
        return None
    return f"{above}.{key}" if above else key


def _bindings(function):
    """(name, the expression it is bound to) of FUNCTION's assignments and loops."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                yield from zip(target.elts, value.elts)
            else:
                yield target, value
        elif isinstance(node, (ast.For, ast.comprehension)):
            yield node.target, node.iter


def python_reads():
    """Every dotted path of the plan the Python that takes it reads (variable "plan")."""
    found = set()
    for path in PYTHON_READERS:
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef):
                continue
            aliases = {"plan": ""}
            for target, value in _bindings(function):
                read = _path_of(value, aliases)
                if isinstance(target, ast.Name) and read:
                    aliases[target.id] = read
            for node in ast.walk(function):
                read = _path_of(node, aliases)
                if read:
                    found.add(read)
    return found


def test_the_python_readers_are_seen():
    reads = python_reads()
    assert {"directories.mode", "workers.units.name", "release.keep", "environment.pattern"} <= (
        reads
    )
    assert {"nginx_site_enabled", "nginx_site.nginx_site_tls"} <= reads


def test_every_field_the_python_reads_is_in_the_schema():
    missing = sorted(path for path in python_reads() if path not in FIELDS)
    assert not missing, f"app_state.py or the action reads plan fields the schema lacks: {missing}"


# --- Every field has a reader -------------------------------------------------------------------


def _uncovered(prefix, options):
    """Fields under PREFIX that are not OPTIONS of the consumer (an argument spec's, with their
    options or suboptions for the fields' own)."""
    found = []
    for path in FIELDS:
        head, _dot, name = path.rpartition(".")
        if head != prefix:
            continue
        if name not in options:
            found.append(path)
            continue
        inner = options[name].get("options") or options[name].get("suboptions")
        if inner:
            found += _uncovered(path, inner)
    return found


def test_what_is_handed_whole_is_read_by_its_consumer():
    assert set(WHOLE) <= yaml_reads() | python_reads()
    specs = yaml.safe_load((ROOT / "roles" / "nginx" / "meta" / "argument_specs.yml").read_text())
    assert _uncovered("nginx_site", specs["argument_specs"]["site"]["options"]) == []
    filter_text = (ROOT / "plugins" / "filter" / "uwsgi_diagnose.py").read_text()
    unread = [
        path
        for path in FIELDS
        if path.startswith("diagnose.")
        and not re.search(rf"""get\(["']{path.split(".")[1]}["']\)""", filter_text)
    ]
    assert unread == []
    assert "__app_plan.release.record | to_nice_json" in (TASKS / "assemble.yml").read_text()
    options = yaml.safe_load(app_commands.DOCUMENTATION)["options"]
    assert _uncovered("phases.build.commands", options["commands"]["suboptions"]) == []
    assert _uncovered("phases.release.commands", options["commands"]["suboptions"]) == []


def test_every_field_of_the_schema_has_a_reader():
    reads = yaml_reads() | python_reads()
    for path, (test, needle, _why) in TESTS_ONLY.items():
        assert needle in (Path(__file__).parent / test).read_text(), path
    unread = sorted(
        path
        for path in FIELDS
        if path not in reads
        and not any(read.startswith(path + ".") for read in reads)
        and not any(path.startswith(whole + ".") for whole in WHOLE)
        and path not in TESTS_ONLY
    )
    assert not unread, f"plan fields nothing reads (remove them, or name their reader): {unread}"


def test_every_field_has_a_one_line_doc():
    for path, (_kind, doc, _optional) in FIELDS.items():
        assert doc and "\n" not in doc.strip(), path


# --- The plans made have the schema's shape -------------------------------------------------------


def _conforms(value, kind, path="plan"):
    """Problems of VALUE against the schema type KIND, one per line."""
    inner = _typed_dict(kind)
    if t.get_origin(kind) is list:
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [problem for item in value for problem in _conforms(item, t.get_args(kind)[0], path)]
    if inner:
        if not isinstance(value, dict):
            return [f"{path}: not a dict"]
        hints = t.get_type_hints(inner)
        problems = [f"{path}.{key}: not in the schema" for key in value if key not in hints]
        problems += [f"{path}.{key}: missing" for key in inner.__required_keys__ - set(value)]
        for key, field in hints.items():
            if key in value:
                problems += _conforms(value[key], field, f"{path}.{key}")
        return problems
    origin = t.get_origin(kind) or kind
    if origin is t.Any or (isinstance(value, origin) and not (origin is int and value is True)):
        return []
    return [f"{path}: {type(value).__name__}, not {origin.__name__}"]


PLANS = {
    "default": {},
    "https, workers, jobs, shared": {
        "app_tls": "self_signed",
        "app_server_names": ["shop.example.org"],
        "app_workers": [{"name": "queue", "command": ["rq", "worker"], "count": 2}],
        "app_jobs": [{"name": "sessions", "command": ["python", "x"], "calendar": "daily"}],
        "app_shared_paths": [{"path": "media", "url": "/media/"}, {"path": "instance"}],
        "app_build_commands": [["make"]],
        "app_release_commands": [{"command": ["flask", "init-db"], "creates": "instance/db"}],
        "app_env": {"A": "1", "B": "two\nlines "[:-1]},
    },
    "systemd, TCP": {
        "app_supervisor": "systemd",
        "app_socket_activation": True,
        "app_tcp_socket": "10.0.1.21:3031",
        "app_tcp_allowed_peers": ["10.0.1.10"],
    },
}


@pytest.mark.parametrize("settings", PLANS.values(), ids=PLANS)
def test_the_plan_has_the_schema_s_shape(settings):
    planned = stand_in.app(**settings)
    assert planned["errors"] == []
    assert _conforms(planned["plan"], schema.Plan) == []


def test_the_state_has_the_schema_s_shape():
    plan = stand_in.app()["plan"]
    found = {"paths": {}, "texts": {}, "entries": {}, "users": {}, "groups": {}}
    state = app_state.compare(plan, found, "/var/log/nginx/error.log")
    assert _conforms({**plan, "state": state}, schema.Plan) == []
    assert set(state) == set(t.get_type_hints(schema.State))


# --- RETURN documents the schema ----------------------------------------------------------------


_RETURN_TYPES = {str: "str", int: "int", bool: "bool", list: "list", dict: "dict"}


def return_doc(kind=schema.Plan, prefix="", shared=None):
    """The RETURN entries (contains) of the TypedDict KIND, generated from the schema; a section
    type met twice is the same dict (SHARED, by class), which YAML writes once with an anchor."""
    shared = {} if shared is None else shared
    doc = {}
    for name, field in t.get_type_hints(kind).items():
        entry = {"description": DOCS[kind.__name__][name]}
        if name in kind.__optional_keys__:
            entry["returned"] = (
                "with O(read_state)" if prefix + name == "state" else "where C(app_tls) is not none"
            )
        inner = _typed_dict(field)
        origin = t.get_origin(field) or field
        entry["type"] = "dict" if inner is field else _RETURN_TYPES[origin]
        if origin is list:
            element = t.get_args(field)[0]
            entry["elements"] = "dict" if inner else _RETURN_TYPES[element]
        if inner:
            if inner.__name__ not in shared:
                shared[inner.__name__] = return_doc(inner, f"{prefix}{name}.", shared)
            entry["contains"] = shared[inner.__name__]
        doc[name] = entry
    return doc


def return_yaml():
    """RETURN's plan.contains as YAML, a section met twice anchored by its type's name."""
    shared = {}
    expected = return_doc(shared=shared)
    names = {id(section): name for name, section in shared.items()}

    class Dumper(yaml.SafeDumper):
        def generate_anchor(self, node):
            for key, found in self.represented_objects.items():
                if found is node and key in names:
                    return names[key]
            return super().generate_anchor(node)

    return yaml.dump({"contains": expected}, Dumper=Dumper, sort_keys=False, width=80)


def test_return_documents_the_plan_as_the_schema_declares_it():
    documented = yaml.safe_load(app_plan_doc.RETURN)["plan"]["contains"]
    assert documented == return_doc(), (
        "RETURN's plan.contains differs from module_utils/_app/schema.py; it should read:\n"
        + return_yaml()
    )
