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

# systemd 258+ (Debian testing) boots only on cgroup v2. On a cgroup v1 host, mount a v2 hierarchy
# once; a scenario's instance gets a sub-directory of it as its /sys/fs/cgroup.
cgroup2=/var/lib/pyops-uwsgi/cgroup2
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && ! mountpoint -q "$cgroup2"; then
  mkdir -p "$cgroup2"
  mount -t cgroup2 none "$cgroup2"
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
