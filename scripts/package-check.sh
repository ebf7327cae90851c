#!/usr/bin/env bash
# Check the collection as it would be published, not the checkout: build the tarball, install it with
# ansible-galaxy --offline into an empty collections path, and from that copy alone load every role's
# documentation, every plugin's documentation and every playbook by its FQCN. Roles, plugins and
# playbooks are read from the tarball, so new ones are checked without editing this script.
# It also fails when the tarball holds what build_ignore in galaxy.yml should keep out, misses a file
# of the checkout's roles/plugins/playbooks/meta/docs/examples, or when the roles, plugins and
# playbooks name a collection that galaxy.yml does not list (or galaxy.yml lists one they never name).
#
# usage: scripts/package-check.sh   (make package; ansible-* from the PATH, .venv/bin through make)
# Everything it writes is under build/package/, made afresh on each run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work="$top/build/package"
namespace=pyops
name=uwsgi
start=$SECONDS

fail() {
  echo "package-check: FAIL: $*" >&2
  exit 1
}

# Run a command, keep its stdout, and fail on a non-zero exit or on anything written to stderr:
# ansible-doc reports an unknown or unloadable plugin as a warning and still exits 0.
strict() {
  local err="$work/stderr"
  if ! "$@" 2>"$err"; then
    cat "$err" >&2
    fail "$* exited non-zero"
  fi
  if [ -s "$err" ]; then
    cat "$err" >&2
    fail "$* wrote to stderr (above)"
  fi
}

for tool in ansible-galaxy ansible-doc ansible-playbook python3 tar git; do
  command -v "$tool" >/dev/null || fail "$tool is not on the PATH (run: make package)"
done

rm -rf "$work"
mkdir -p "$work/dist" "$work/collections"
# Only the installed tarball: no ansible.cfg of this checkout, the user or the host, no roles path,
# and collections from $work/collections plus those Python's sys.path always brings (the `ansible`
# package's, in site-packages/ansible_collections).
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
export ANSIBLE_ROLES_PATH="$work/roles"
export ANSIBLE_NOCOLOR=1
cd "$work"

echo "== build"
strict ansible-galaxy collection build --output-path "$work/dist" "$top" >/dev/null
tarballs=("$work"/dist/*.tar.gz)
if [ "${#tarballs[@]}" -ne 1 ] || [ ! -f "${tarballs[0]}" ]; then
  fail "expected one tarball in $work/dist"
fi
tarball=${tarballs[0]}
tar -tzf "$tarball" | sed 's#^\./##' | sort >"$work/members"
echo "$(basename "$tarball"): $(grep -cv '/$' "$work/members") files, $(du -k "$tarball" | cut -f1) KiB"

echo "== members"
# What build_ignore keeps out: the repository's harness and tools, test output and unit tests,
# dot-entries at the root (.venv, .ci, .github, .config, caches), build output, tarballs, caches.
banned='^(molecule|benchmarks|scripts|build|tests/output|tests/unit)(/|$)'
banned+='|^\.'
banned+='|^(Makefile|requirements\.txt|constraints\.txt|ruff\.toml)$'
banned+='|(^|/)(__pycache__|\.pytest_cache|\.ruff_cache|\.git)(/|$)'
banned+='|\.(tar\.gz|pyc)$'
if grep -E "$banned" "$work/members" >"$work/banned"; then
  cat "$work/banned" >&2
  fail "the tarball holds what build_ignore should keep out (above)"
fi
for required in MANIFEST.json FILES.json README.md meta/runtime.yml changelogs/changelog.yaml; do
  grep -qx "$required" "$work/members" || fail "the tarball lacks $required"
done
# Every file of what users read or run, tracked or new, must be in the tarball: a build_ignore
# pattern that reaches too far fails here rather than in a user's run.
git -C "$top" ls-files -co --exclude-standard -- roles plugins playbooks meta docs examples README.md |
  while IFS= read -r f; do if [ -f "$top/$f" ]; then printf '%s\n' "$f"; fi; done | sort >"$work/wanted"
comm -23 "$work/wanted" "$work/members" >"$work/missing"
if [ -s "$work/missing" ]; then
  cat "$work/missing" >&2
  fail "the tarball lacks these files of the checkout (above)"
fi

echo "== install --offline"
# No Galaxy server is reachable: the install must not try one. Where a network namespace can be made
# (root on Linux), it runs without any network at all, which proves it.
install=(ansible-galaxy collection install --offline -p "$work/collections" "$tarball")
if unshare -n true 2>/dev/null; then
  install=(unshare -n "${install[@]}")
  echo "(without network: unshare -n)"
fi
strict "${install[@]}" >"$work/install.log"
cat "$work/install.log"
coll="$work/collections/ansible_collections/$namespace/$name"
[ -f "$coll/MANIFEST.json" ] || fail "nothing installed at $coll"

# pyops.uwsgi must resolve from the installed copy only, never from the checkout.
strict ansible-galaxy collection list --format json >"$work/collections.json"
python3 - "$work/collections.json" "$work/collections/ansible_collections" "$namespace.$name" <<'PY'
import json
import sys

listing, expected, fqcn = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
found = sorted(path for path, colls in listing.items() if fqcn in colls)
if found != [expected]:
    sys.exit(f"package-check: FAIL: {fqcn} found in {found}, expected only {expected}")
PY

echo "== run-time dependencies"
# A collection counts as named when one of its FQCNs (ns.coll.thing) or its Python package
# (ansible_collections.ns.coll) appears in roles, plugins, playbooks or meta. Only collections
# installed here are recognised, so words like os.path.join or net.core.somaxconn do not count.
python3 - "$work/collections.json" "$coll" "$namespace.$name" <<'PY'
import json
import pathlib
import re
import sys

listing, coll, me = json.load(open(sys.argv[1])), pathlib.Path(sys.argv[2]), sys.argv[3]
known = {name for colls in listing.values() for name in colls} - {me}
declared = set(json.loads((coll / "MANIFEST.json").read_text())["collection_info"]["dependencies"])
fqcn = re.compile(r"(?:ansible_collections\.|\b)([a-z0-9_]+\.[a-z0-9_]+)\.[A-Za-z0-9_]+")
named = {}
for top in ("roles", "plugins", "playbooks", "meta"):
    for path in sorted((coll / top).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for match in fqcn.finditer(line):
                if match.group(1) in known:
                    named.setdefault(match.group(1), f"{path.relative_to(coll)}:{number}")
errors = [f"{c} is named ({named[c]}) but not in galaxy.yml's dependencies" for c in sorted(set(named) - declared)]
errors += [f"{c} is in galaxy.yml's dependencies but never named" for c in sorted(declared - set(named))]
if errors:
    sys.exit("package-check: FAIL: " + "\n".join(errors))
print("declared and named:", ", ".join(sorted(declared)) or "none")
PY

# ansible-doc TYPE on NAMES (full names), as JSON; fails unless each name has its documentation.
doc() {
  local type=$1
  shift
  [ "$#" -gt 0 ] || return 0
  strict ansible-doc -t "$type" --json "$@" >"$work/doc.json"
  python3 - "$work/doc.json" "$@" <<'PY' || fail "ansible-doc -t $type: documentation missing (above)"
import json
import sys

docs = json.load(open(sys.argv[1]))
missing = [n for n in sys.argv[2:] if not (docs.get(n, {}).get("doc") or docs.get(n, {}).get("entry_points"))]
if missing:
    sys.exit("no documentation for " + ", ".join(missing))
PY
  printf '  %s %s\n' "$type" "${*#"$namespace.$name".}"
}

# ansible-doc -t TYPE -l: the names it lists for this collection, one a line.
listed() {
  strict ansible-doc -t "$1" -l "$namespace.$name" --json >"$work/list.json"
  python3 -c 'import json, sys; print("\n".join(sorted(json.load(open(sys.argv[1])))))' "$work/list.json"
}

# Fails when a name found in the tarball is not among those ansible-doc lists, e.g. a filter whose
# documentation file is not named after the filter.
expect_listed() {
  local type=$1 listing=$2 want
  shift 2
  for want in "$@"; do
    grep -qx "$namespace.$name.$want" <<<"$listing" || fail "ansible-doc -t $type -l does not list $namespace.$name.$want"
  done
}

echo "== roles"
mapfile -t roles < <(sed -n 's#^roles/\([^/]*\)/.*#\1#p' "$work/members" | sort -u)
[ "${#roles[@]}" -gt 0 ] || fail "no roles in the tarball"
role_list=$(listed role)
expect_listed role "$role_list" "${roles[@]}"
doc role "${roles[@]/#/$namespace.$name.}"

echo "== plugins"
# plugins/ directory -> ansible-doc type. Action plugins take their documentation from the module of
# the same name; module_utils, plugin_utils and doc_fragments have none of their own (fragments are
# checked through the modules that use them). A new kind fails here until it is mapped.
mapfile -t kinds < <(sed -n 's#^plugins/\([^/]*\)/.*#\1#p' "$work/members" | sort -u)
for kind in "${kinds[@]}"; do
  # Plugin names from file names: for filters and tests the documentation files (name.yml), since
  # one Python file may hold several; for the others the Python files.
  files=$(sed -n "s#^plugins/$kind/\([^/]*\)\$#\1#p" "$work/members")
  case $kind in
    module_utils | plugin_utils | doc_fragments) continue ;;
    action)
      mapfile -t names < <(sed -n 's#^\([^_][^/]*\)\.py$#\1#p' <<<"$files")
      list=$(listed module)
      expect_listed module "$list" "${names[@]}"
      doc module "${names[@]/#/$namespace.$name.}"
      continue
      ;;
    modules) type=module ;;
    filter | test) type=$kind ;;
    lookup | callback | connection | inventory | become | cache | shell | strategy | vars | cliconf | httpapi | netconf) type=$kind ;;
    *) fail "plugins/$kind: no ansible-doc type known for it; map it in $0" ;;
  esac
  if [ "$type" = filter ] || [ "$type" = test ]; then
    mapfile -t names < <(sed -n 's#^\(.*\)\.ya\?ml$#\1#p' <<<"$files")
  else
    mapfile -t names < <(sed -n 's#^\([^_][^/]*\)\.py$#\1#p' <<<"$files")
  fi
  list=$(listed "$type")
  [ -n "$list" ] || fail "plugins/$kind has files but ansible-doc -t $type -l lists nothing"
  [ "${#names[@]}" -eq 0 ] || expect_listed "$type" "$list" "${names[@]}"
  # Everything listed, which for filters and tests includes those documented in a shared file.
  mapfile -t all < <(printf '%s\n' "$list")
  doc "$type" "${all[@]}"
done

echo "== playbooks"
# Playbooks directly in playbooks/, as users run them: by FQCN, from the installed collection. One
# run for all of them (it stops at the first that fails, naming its file).
mapfile -t playbooks < <(sed -n 's#^playbooks/\([^/]*\.ya\?ml\)$#\1#p' "$work/members")
if [ "${#playbooks[@]}" -gt 0 ]; then
  fqcns=("${playbooks[@]%.y*ml}")
  strict ansible-playbook -i localhost, --syntax-check "${fqcns[@]/#/$namespace.$name.}" >"$work/syntax.log"
  for playbook in "${playbooks[@]}"; do
    grep -qx "playbook: $coll/playbooks/$playbook" "$work/syntax.log" ||
      fail "$playbook was not loaded from $coll: $(cat "$work/syntax.log")"
    echo "  $namespace.$name.${playbook%.y*ml}"
  done
fi

echo "package-check: OK in $((SECONDS - start)) s ($(basename "$tarball"))"
