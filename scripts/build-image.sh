#!/usr/bin/env bash
# Build a local systemd base image for one Debian suite with debootstrap, because test hosts reach no
# container registry. The image stands in for a bare cloud host: systemd as PID 1, Python 3 for
# Ansible, sudo (Ansible's become, as on cloud images), curl, and the CA certificates this machine trusts (so pip works behind a TLS-intercepting
# proxy). Nothing of the collection is baked in: the roles install everything else.
#
# usage: scripts/build-image.sh SUITE IMAGE   e.g. scripts/build-image.sh bookworm pyops-uwsgi/debian:12
set -euo pipefail

suite=${1:?suite (bookworm, trixie, testing)}
image=${2:?image name:tag}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "image $image exists; not rebuilding"
  exit 0
fi

root=$(mktemp -d "/var/tmp/pyops-rootfs-$suite.XXXXXX")
trap 'rm -rf --one-file-system "$root"' EXIT

# Debian testing's Release file can be past its Valid-Until; the host's apt already tolerates that,
# and debootstrap does not check it. The same tolerance is copied into the image below.
echo "debootstrap $suite into $root"
debootstrap --variant=minbase \
  --include=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,ca-certificates,curl,iproute2,procps \
  "$suite" "$root" >"$root.log" 2>&1 || { tail -n 30 "$root.log"; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# Trust the same extra CAs as this machine (corporate/egress proxies), then rebuild the bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

cat >"$root/etc/apt/apt.conf.d/99pyops-test-host" <<'APT'
// Test image only: Debian testing's Release file may be past Valid-Until.
Acquire::Check-Valid-Until "false";
// Keep downloaded packages: the test harness shares /var/cache/apt/archives between instances.
APT::Keep-Downloaded-Packages "true";
APT

# A container has no consoles or udev to wait for; masking these gets systemd to a running state.
for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
            systemd-firstboot.service systemd-networkd-wait-online.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo "localhost" >"$root/etc/hostname"
: >"$root/etc/machine-id"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
# With the index gone, make it look old so apt's cache_valid_time refreshes it on first use.
touch -d @0 "$root/var/lib/apt/lists"

tar -C "$root" --numeric-owner -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  - "$image" >/dev/null
echo "built $image"
