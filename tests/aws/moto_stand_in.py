"""Helpers of the tests against moto's server: instances, the collections path, Ansible runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REGION = "eu-west-1"


def launch(ec2, subnet, tags):
    """One running instance in SUBNET with TAGS (a dict); its description."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnet["SubnetId"],
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
            }
        ],
    )["Instances"][0]
    return instance


def collections_path(tmp_path):
    """An ANSIBLE_COLLECTIONS_PATH where pyops.uwsgi is this checkout (the others come with the
    `ansible` package)."""
    top = tmp_path / "collections"
    link = top / "ansible_collections" / "pyops" / "uwsgi"
    if not link.is_symlink():
        link.parent.mkdir(parents=True)
        link.symlink_to(ROOT)
    return str(top)


def ansible(tool, *args, env, tmp_path):
    """Run an Ansible command line from this Python's environment; its completed process."""
    full = {
        **os.environ,
        **env,
        "ANSIBLE_COLLECTIONS_PATH": collections_path(tmp_path),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }
    return subprocess.run(
        [str(BIN / tool), *args], env=full, capture_output=True, text=True, timeout=120, check=False
    )
