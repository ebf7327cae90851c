"""The EC2 inventory examples against moto's EC2 API: the groups and host variables docs/ec2.md
says they give."""

from __future__ import annotations

import json
import shutil

import pytest
from moto_stand_in import ROOT, ansible, launch


def _inventory(tmp_path, example, env):
    """ansible-inventory --list of a copy of examples/inventory/EXAMPLE (group_vars with it)."""
    copy = tmp_path / example
    shutil.copytree(ROOT / "examples" / "inventory" / example, copy)
    done = ansible(
        "ansible-inventory", "-i", str(copy / "aws_ec2.yml"), "--list", env=env, tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return _plain(json.loads(done.stdout))


def _plain(value):
    """VALUE without the {"__ansible_unsafe": ...} wrapping ansible-inventory gives strings."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _hosts(inventory, group):
    return sorted(inventory.get(group, {}).get("hosts", []))


def test_ec2_example_groups_role_uwsgi_by_env_and_zone(tmp_path, reset, ec2, subnet):
    prod = [launch(ec2, subnet, {"Role": "uwsgi", "Env": "production"}) for _number in range(2)]
    staging = launch(ec2, subnet, {"Role": "uwsgi", "Env": "staging"})
    other = launch(ec2, subnet, {"Role": "database", "Env": "production"})
    stopped = launch(ec2, subnet, {"Role": "uwsgi", "Env": "production"})
    ec2.stop_instances(InstanceIds=[stopped["InstanceId"]])

    inventory = _inventory(tmp_path, "ec2", reset)
    address = {i["InstanceId"]: i["PrivateIpAddress"] for i in [*prod, staging]}
    # Named by address (no public one here: the private one), as hostnames: says.
    assert _hosts(inventory, "uwsgi_hosts") == sorted(address.values())
    assert _hosts(inventory, "env_production") == sorted(i["PrivateIpAddress"] for i in prod)
    assert _hosts(inventory, "env_staging") == [staging["PrivateIpAddress"]]
    assert _hosts(inventory, "az_eu_west_1a") == sorted(address.values())
    listed = {host for group in inventory.values() for host in group.get("hosts", [])}
    assert other["PrivateIpAddress"] not in listed and stopped["PrivateIpAddress"] not in listed
    hostvars = inventory["_meta"]["hostvars"]
    for instance_id, ip in address.items():
        assert hostvars[ip]["instance_id"] == instance_id
        assert hostvars[ip]["private_ip_address"] == ip
        assert hostvars[ip]["ansible_host"] == ip
        assert hostvars[ip]["placement"]["region"] == "eu-west-1"
        # group_vars/uwsgi_hosts.yml beside the inventory.
        assert hostvars[ip]["ansible_user"] == "ubuntu"
        assert [app["app_name"] for app in hostvars[ip]["uwsgi_apps"]] == ["hello"]


@pytest.mark.parametrize("example", ["ec2-fleet"])
def test_ec2_fleet_example_splits_app_hosts_and_fronts(tmp_path, reset, ec2, subnet, example):
    apps = [launch(ec2, subnet, {"Role": "uwsgi-app", "Env": "production"}) for _number in range(2)]
    front = launch(ec2, subnet, {"Role": "uwsgi-front", "Env": "production"})
    launch(ec2, subnet, {"Role": "uwsgi", "Env": "production"})

    inventory = _inventory(tmp_path, example, reset)
    assert _hosts(inventory, "uwsgi_hosts") == sorted(i["PrivateIpAddress"] for i in apps)
    assert _hosts(inventory, "uwsgi_fronts") == [front["PrivateIpAddress"]]
    hostvars = inventory["_meta"]["hostvars"]
    for instance in apps:
        ip = instance["PrivateIpAddress"]
        assert hostvars[ip]["instance_id"] == instance["InstanceId"]
        assert hostvars[ip]["private_ip_address"] == ip
