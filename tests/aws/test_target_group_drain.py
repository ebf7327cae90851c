"""The front role's drain and restore (roles/front) against moto's ELBv2 API: the app host's
instance leaves each of its target groups (one named, one by ARN) and comes back, and no other
target of them changes."""

from __future__ import annotations

import json

from moto_stand_in import ansible, launch

PLAY = """---
- name: Drain or restore one app host's target groups
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Run the front role's entry point
      ansible.builtin.include_role:
        name: pyops.uwsgi.front
        tasks_from: "{{ entry_point }}"
      vars:
        front_nginx_hosts: []
        front_target_groups: "{{ groups_json | from_json }}"
        front_target_id: "{{ target_id }}"
        front_target_region: eu-west-1
        front_target_drain_timeout: 20
        front_target_healthy_timeout: 20
"""


def _targets(elbv2, arn):
    """Each registered target of the group ARN: id -> state."""
    health = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in health}


def _group(elbv2, vpc, name, instances):
    arn = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": i} for i in instances])
    return arn


def _run(tmp_path, env, entry_point, groups, target_id):
    playbook = tmp_path / "front.yml"
    playbook.write_text(PLAY)
    done = ansible(
        "ansible-playbook",
        "-i",
        "localhost,",
        str(playbook),
        "-e",
        json.dumps(
            {"entry_point": entry_point, "groups_json": json.dumps(groups), "target_id": target_id}
        ),
        env=env,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


def test_drain_then_restore_moves_only_this_instance(tmp_path, reset, ec2, elbv2, subnet):
    instances = [launch(ec2, subnet, {"Role": "uwsgi"})["InstanceId"] for _number in range(3)]
    this, others = instances[1], [instances[0], instances[2]]
    web = _group(elbv2, subnet["VpcId"], "shop-web", instances)
    api = _group(elbv2, subnet["VpcId"], "shop-api", instances)
    lone = _group(elbv2, subnet["VpcId"], "shop-other", others)
    before = {arn: _targets(elbv2, arn) for arn in (web, api, lone)}
    assert set(before[web]) == set(instances)

    _run(tmp_path, reset, "drain", ["shop-web", api], this)
    for arn in (web, api):
        drained = _targets(elbv2, arn)
        assert this not in drained
        assert drained == {i: before[arn][i] for i in others}
    assert _targets(elbv2, lone) == before[lone]

    # Draining again finds it out already and changes nothing.
    again = _run(tmp_path, reset, "drain", ["shop-web", api], this)
    assert "changed=0" in again.replace(" ", "")
    assert this not in _targets(elbv2, web)

    output = _run(tmp_path, reset, "restore", ["shop-web", api], this)
    for arn in (web, api):
        assert _targets(elbv2, arn) == {**before[arn], this: "healthy"}
    assert _targets(elbv2, lone) == before[lone]
    assert "changed=1" in output.replace(" ", "")


def test_a_host_without_target_groups_changes_nothing(tmp_path, reset, ec2, elbv2, subnet):
    instances = [launch(ec2, subnet, {"Role": "uwsgi"})["InstanceId"] for _number in range(2)]
    web = _group(elbv2, subnet["VpcId"], "shop-web", instances)
    before = _targets(elbv2, web)
    _run(tmp_path, reset, "drain", [], instances[0])
    assert _targets(elbv2, web) == before
