#!/usr/bin/env bash
# Run ansible-test (sanity or units) on this checkout. ansible-test wants the collection at
# .../ansible_collections/pyops/uwsgi inside a git repository, so the tracked and new files are copied
# to build/ansible_collections/pyops/uwsgi first. It runs from a virtualenv of its own
# (build/ansible-test-venv) because --requirements installs pinned test tools there.
#
# usage: scripts/ansible-test.sh sanity|units [ansible-test options]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
coll="$build/ansible_collections/pyops/uwsgi"
venv="$build/ansible-test-venv"
python=${PYTHON:-python3}
core_pin=$(grep -E '^ansible-core==' "$top/requirements.txt")
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "$core_pin"; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "$core_pin"
fi

# ansible-test bootstraps pip from a script on the Ansible project's file server, which test hosts
# cannot reach; it looks for a saved copy first. This stand-in gives it the same pip from PyPI.
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" \
  "$venv"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -n 1)
[ -n "$pip_version" ] || { echo "cannot find ansible-test's pip version" >&2; exit 1; }
mkdir -p "$HOME/.ansible/test/cache"
cat >"$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py" <<'PY'
# Stand-in for get-pip.py, written by pyops.uwsgi's scripts/ansible-test.sh: ensurepip, then the
# requested packages from the configured index (get-pip's own switches are not pip options).
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY

rm -rf "$coll"
mkdir -p "$coll"
(cd "$top" && git ls-files -co --exclude-standard | while IFS= read -r f; do
  if [ -f "$f" ]; then cp --parents -- "$f" "$coll"; fi
done)
(cd "$coll" && git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm snapshot)

cd "$coll"
kind=$1
shift
exec "$venv/bin/ansible-test" "$kind" --local --python "$pyver" --requirements --color no "$@"
