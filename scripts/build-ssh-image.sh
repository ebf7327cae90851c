#!/usr/bin/env bash
# Build an EC2-like image (sshd, the `ubuntu` sudo user) from a local base image built by
# build-image.sh, with scripts/debian-ssh/Dockerfile. Used by the ec2_like scenario and `make demo`.
# The image is labelled with its base's ID and a digest of scripts/debian-ssh/: it is rebuilt when
# either changed, else kept.
#
# usage: scripts/build-ssh-image.sh BASE IMAGE   e.g. scripts/build-ssh-image.sh pyops-uwsgi/debian:13 pyops-uwsgi/debian-ssh:13
set -euo pipefail

base=${1:?base image (built by build-image.sh)}
image=${2:?image name:tag}
context=$(cd "$(dirname "$0")/debian-ssh" && pwd)

base_id=$(docker image inspect -f '{{.Id}}' "$base")
recipe=$(cd "$context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
source="$base_id recipe:$recipe"
built_from=$(docker image inspect -f '{{index .Config.Labels "pyops-uwsgi.source"}}' "$image" 2>/dev/null || true)
if [ "$built_from" = "$source" ]; then
  echo "image $image exists, built from $base and this recipe; not rebuilding"
  exit 0
fi

echo "building $image from $base"
previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
# The classic builder takes FROM a local image as is; BuildKit's docker driver does too.
docker build -q --build-arg "BASE=$base" --label "pyops-uwsgi.source=$source" -t "$image" "$context" >/dev/null
# The image this one replaces, once no tag names it (the build cache can give two tags one image)
# and unless a container still uses it.
if [ -n "$previous" ] && [ "$(docker image inspect -f '{{len .RepoTags}}' "$previous" 2>/dev/null)" = 0 ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi
echo "built $image"
