#!/usr/bin/env bash
# `make demo`: start a local Debian 12 container standing in for an EC2 host, run playbooks/site.yml
# against it with the example inventory, and show the page nginx serves there.
# `make demo-clean`: remove the container.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
name=pyops-uwsgi-demo
image=${PYOPS_IMAGE_DEBIAN12:-pyops-uwsgi/debian:12}
port=${PYOPS_DEMO_PORT:-8080}

case "${1:-up}" in
  clean)
    docker rm -f "$name" >/dev/null 2>&1 && echo "removed $name" || echo "$name is not running"
    exit 0
    ;;
  up) ;;
  *) echo "usage: $0 up|clean" >&2; exit 2 ;;
esac

if ! docker container inspect "$name" >/dev/null 2>&1; then
  echo "starting $name from $image (nginx published on 127.0.0.1:$port)"
  docker run -d --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    -p "127.0.0.1:$port:80" "$image" /lib/systemd/systemd >/dev/null
fi
for _ in $(seq 1 30); do
  state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 1
done

# Make this checkout the collection pyops.uwsgi for ansible-playbook.
collections="$top/build/collections"
mkdir -p "$collections/ansible_collections/pyops"
ln -sfn "$top" "$collections/ansible_collections/pyops/uwsgi"
export ANSIBLE_COLLECTIONS_PATH="$collections:${ANSIBLE_COLLECTIONS_PATH:-}"

cd "$top"
ansible-playbook -i examples/inventory/local playbooks/site.yml

echo
echo "--- GET http://hello.example.org/ through nginx on $name:"
docker exec "$name" curl -sS -H 'Host: hello.example.org' http://127.0.0.1/
echo "--- GET /version:"
docker exec "$name" curl -sS -H 'Host: hello.example.org' http://127.0.0.1/version
echo
echo "The same page is on http://127.0.0.1:$port/ here. Remove the demo host with: make demo-clean"
