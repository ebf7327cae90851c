#!/usr/bin/env bash
# Build a local systemd base image for one Debian or Ubuntu suite with debootstrap, because test hosts
# reach no container registry. The image stands in for a bare cloud host: systemd as PID 1, Python 3 for
# Ansible, sudo (Ansible's become, as on cloud images), curl, and the CA certificates this machine trusts (so pip works behind a TLS-intercepting
# proxy). Nothing of the collection is baked in: the roles install everything else.
#
# Ubuntu suites (jammy, noble) need Ubuntu's archive keyring on this machine (package ubuntu-keyring:
# Ubuntu, Debian 13, Debian 12 backports; or PYOPS_UBUNTU_KEYRING=FILE) and Ubuntu's archive in reach.
#
# usage: scripts/build-image.sh SUITE IMAGE   e.g. scripts/build-image.sh bookworm pyops-uwsgi/debian:12
set -euo pipefail

suite=${1:?suite (bookworm, trixie, testing, jammy, noble)}
image=${2:?image name:tag}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "image $image exists; not rebuilding"
  exit 0
fi

# Only Ubuntu builds get extra debootstrap arguments; a Debian suite runs exactly as before.
ubuntu=false
debootstrap_opts=()
debootstrap_tail=()
case $suite in
  jammy | noble)
    ubuntu=true
    keyring=${PYOPS_UBUNTU_KEYRING:-/usr/share/keyrings/ubuntu-archive-keyring.gpg}
    # Named explicitly: without the keyring file debootstrap does not stop; it swaps the suite's
    # mirror for its built-in Debian one, which has no Ubuntu suite.
    if [ ! -r "$keyring" ]; then
      echo "Ubuntu's archive keyring $keyring is missing: install the ubuntu-keyring package (Ubuntu," \
        "Debian 13, Debian 12 backports) or point PYOPS_UBUNTU_KEYRING at a copy of it" >&2
      exit 1
    fi
    # main has everything --include names; universe has uWSGI, which the roles install (and which an
    # Ubuntu cloud image enables).
    debootstrap_opts=(--keyring="$keyring" "--components=main,universe")
    # Every Ubuntu suite since 7.10 uses debootstrap's "gutsy" script; an older debootstrap (Debian
    # 12's has no noble) gets it named, with an empty mirror so the suite's default mirror is kept.
    [ -e "${DEBOOTSTRAP_DIR:-/usr/share/debootstrap}/scripts/$suite" ] || debootstrap_tail=("" gutsy)
    ;;
esac

root=$(mktemp -d "/var/tmp/pyops-rootfs-$suite.XXXXXX")
trap 'rm -rf --one-file-system "$root"' EXIT

if [ "$ubuntu" = true ]; then
  # Fail in a minute rather than wget's default of 20 tries per file when the archive is out of
  # reach. Settings already in the user's wgetrc come last, so they still win.
  { printf 'tries = 3\nconnect_timeout = 20\ndns_timeout = 20\n'
    cat "${WGETRC:-$HOME/.wgetrc}" 2>/dev/null || true; } >"$root.wgetrc"
  export WGETRC=$root.wgetrc
fi

# Debian testing's Release file can be past its Valid-Until; the host's apt already tolerates that,
# and debootstrap does not check it. The same tolerance is copied into the image below.
echo "debootstrap $suite into $root"
debootstrap --variant=minbase "${debootstrap_opts[@]}" \
  --include=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,ca-certificates,curl,iproute2,procps \
  "$suite" "$root" "${debootstrap_tail[@]}" >"$root.log" 2>&1 || {
  tail -n 30 "$root.log"
  # debootstrap's own words when its first download (the Release file) or a later one fails.
  if [ "$ubuntu" = true ] && grep -q -e "Failed getting release" -e "Couldn't download" "$root.log"; then
    echo "Ubuntu's archive is not reachable from this machine: debootstrap could not download $suite" \
      "from its default mirror. Build Ubuntu images where it is (GitHub's runners:" \
      ".github/workflows/test.yml)." >&2
  fi
  rm -f "$root.log" "$root.wgetrc"
  exit 1
}
rm -f "$root.log" "$root.wgetrc"

if [ "$ubuntu" = true ]; then
  # Like an Ubuntu cloud host: the -updates and -security pockets too, from the same mirror.
  pockets=$(sed -n "s/^\(deb [^ ]*\) $suite \(.*\)/\1 $suite-updates \2\n\1 $suite-security \2/p" \
    "$root/etc/apt/sources.list")
  if [ -n "$pockets" ]; then
    printf '%s\n' "$pockets" >>"$root/etc/apt/sources.list"
  fi
fi

# Trust the same extra CAs as this machine (corporate/egress proxies), then rebuild the bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

# Ubuntu's Release files are kept fresh, so its images keep apt's check against replayed indices.
{
  if [ "$ubuntu" = false ]; then
    cat <<'APT'
// Test image only: Debian testing's Release file may be past Valid-Until.
Acquire::Check-Valid-Until "false";
APT
  fi
  cat <<'APT'
// Keep downloaded packages: the test harness shares /var/cache/apt/archives between instances.
APT::Keep-Downloaded-Packages "true";
APT
} >"$root/etc/apt/apt.conf.d/99pyops-test-host"

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
