#!/usr/bin/env bash
# `make demo`: start a local Debian 12 container standing in for an EC2 host and reach it the way an
# EC2 host is reached: sshd, the login user `ubuntu` with passwordless sudo, a key pair made here
# (build/demo/), SSH published on 127.0.0.1:$PYOPS_DEMO_SSH_PORT. Then run playbooks/site.yml with
# the example inventory (examples/inventory/local) and examples/ansible.cfg, and fetch the page nginx
# serves on 127.0.0.1:$PYOPS_DEMO_PORT. Run it again: the second run changes nothing.
# `make demo-clean`: remove the container and its key pair.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
name=pyops-uwsgi-demo
base=${PYOPS_IMAGE_DEBIAN12:-pyops-uwsgi/debian:12}
image=${PYOPS_IMAGE_DEMO:-pyops-uwsgi/debian-ssh:12}
port=${PYOPS_DEMO_PORT:-8080}
ssh_port=${PYOPS_DEMO_SSH_PORT:-2222}
# The key pair and the pinned host key; build/ is git-ignored.
keys="$top/build/demo"

case "${1:-up}" in
  clean)
    docker rm -f "$name" >/dev/null 2>&1 && echo "removed $name" || echo "$name is not running"
    rm -rf "$keys"
    exit 0
    ;;
  up) ;;
  *) echo "usage: $0 up|clean" >&2; exit 2 ;;
esac

# The AMI: the local base plus sshd and the ubuntu user (scripts/debian-ssh/Dockerfile).
"$top/scripts/build-ssh-image.sh" "$base" "$image"

# The key pair, as EC2 makes one and hands out its private half.
mkdir -p "$keys"
if [ ! -f "$keys/id_ed25519" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "ubuntu@$name" -f "$keys/id_ed25519"
fi

# A demo host from another image (an older demo without sshd, say) is replaced.
started_from=$(docker container inspect -f '{{.Config.Image}}' "$name" 2>/dev/null || true)
if [ -n "$started_from" ] && [ "$started_from" != "$image" ]; then
  echo "replacing $name, started from $started_from, with one from $image"
  docker rm -f "$name" >/dev/null
fi
if ! docker container inspect "$name" >/dev/null 2>&1; then
  echo "starting $name from $image (SSH on 127.0.0.1:$ssh_port, nginx on 127.0.0.1:$port)"
  docker run -d --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    -p "127.0.0.1:$ssh_port:22" -p "127.0.0.1:$port:80" "$image" /lib/systemd/systemd >/dev/null
elif [ "$(docker container inspect -f '{{.State.Running}}' "$name")" != true ]; then
  docker start "$name" >/dev/null
fi
# sshd makes the instance's host keys when it first starts.
for _ in $(seq 1 30); do
  docker exec "$name" systemctl is-active --quiet ssh 2>/dev/null && break
  sleep 1
done
docker exec "$name" systemctl is-active --quiet ssh || { echo "sshd did not start in $name" >&2; exit 1; }

# cloud-init's part: the key pair's public key authorized for ubuntu. Then the host key, read over
# docker as one reads it from an EC2 instance's console output, pinned for the inventory.
docker exec -i "$name" sh -c 'umask 077 && mkdir -p /home/ubuntu/.ssh &&
  cat >/home/ubuntu/.ssh/authorized_keys && chown -R ubuntu:ubuntu /home/ubuntu/.ssh' <"$keys/id_ed25519.pub"
echo "$name $(docker exec "$name" cat /etc/ssh/ssh_host_ed25519_key.pub)" >"$keys/known_hosts"

# Make this checkout the collection pyops.uwsgi for ansible-playbook.
collections="$top/build/collections"
mkdir -p "$collections/ansible_collections/pyops"
ln -sfn "$top" "$collections/ansible_collections/pyops/uwsgi"
export ANSIBLE_COLLECTIONS_PATH="$collections:${ANSIBLE_COLLECTIONS_PATH:-}"
export ANSIBLE_CONFIG="$top/examples/ansible.cfg"
export PYOPS_DEMO_SSH_PORT="$ssh_port"

cd "$top"
echo "+ ansible-playbook -i examples/inventory/local playbooks/site.yml    (SSH to ubuntu@127.0.0.1:$ssh_port)"
ansible-playbook -i examples/inventory/local playbooks/site.yml

echo
echo "--- GET http://hello.example.org/ through nginx on $name (127.0.0.1:$port):"
curl -sS --max-time 10 -H 'Host: hello.example.org' "http://127.0.0.1:$port/"
echo "--- GET /version:"
curl -sS --max-time 10 -H 'Host: hello.example.org' "http://127.0.0.1:$port/version"
echo
echo "Log in as Ansible does: ssh -i build/demo/id_ed25519 -p $ssh_port -o HostKeyAlias=$name" \
  "-o UserKnownHostsFile=build/demo/known_hosts ubuntu@127.0.0.1"
echo "Remove the demo host with: make demo-clean"
