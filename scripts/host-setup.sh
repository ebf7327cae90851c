#!/usr/bin/env bash
# Prepare this machine (Debian, as root) to run the collection's tests and demo: the Docker engine
# and debootstrap from Debian's archive, then a running dockerd on the default socket.
# Idempotent: skips what is already there. Extra Debian packages may be named as arguments.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# systemd 258+ (Debian testing) boots only on cgroup v2. Its instances mount cgroup2 at
# /sys/fs/cgroup themselves, inside a private cgroup namespace; for that namespace to be the
# container's own sub-tree, runc must place each container in the v2 hierarchy too, which it does
# when the host has one at /sys/fs/cgroup/unified (the "hybrid" layout). Add it to a v1-only host.
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && ! mountpoint -q /sys/fs/cgroup/unified; then
  mkdir -p /sys/fs/cgroup/unified
  mount -t cgroup2 none /sys/fs/cgroup/unified
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ -d /run/systemd/system ]; then
  systemctl start docker
else
  # No systemd on this machine: run the engine in the background, logging beside the other logs.
  echo "starting dockerd"
  nohup dockerd >/var/log/pyops-uwsgi-dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "the Docker engine did not come up; see /var/log/pyops-uwsgi-dockerd.log" >&2
exit 1
