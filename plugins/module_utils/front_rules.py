# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of the front role's settings (drain and restore): each yields (ok, message), the
message naming the variable and the fix.

Private to pyops.uwsgi: it may change in any release.
"""

from __future__ import annotations

import re

# A target group's name (ElasticLoadBalancingV2 CreateTargetGroup: 1-32 letters, digits and "-",
# not starting or ending with "-") or its ARN.
_TARGET_GROUP_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
_TARGET_GROUP_ARN = re.compile(
    r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+"
)
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")


def front_rules(s, _readings):
    """Rules of the front role's drain and restore entry points."""
    yield (
        not s["front_nginx_hosts"] or bool(s["front_addresses"]),
        "front_addresses must name this host's address as the fronts' nginx_site_upstream servers"
        " do (such as 10.0.1.21 for 10.0.1.21:3031): none of private_ip_address, ansible_host or"
        " ansible_default_ipv4 is set for this host, and front_nginx_hosts is"
        f" {s['front_nginx_hosts']}.",
    )
    for name in (
        "front_nginx_drain_timeout",
        "front_nginx_healthy_timeout",
        "front_target_drain_timeout",
        "front_target_healthy_timeout",
    ):
        yield (
            0 <= s[name] <= 3600,
            f"{name} must be between 0 and 3600 seconds; got {s[name]}.",
        )
    bad = [
        group
        for group in s["front_target_groups"]
        if not (_TARGET_GROUP_NAME.fullmatch(group) or _TARGET_GROUP_ARN.fullmatch(group))
    ]
    yield (
        not bad,
        "front_target_groups items must be target group names (up to 32 letters, digits and '-')"
        " or target group ARNs (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID);"
        f" got {bad}.",
    )
    yield (
        not s["front_target_groups"] or s["front_target_id"] != "",
        "front_target_id must be the instance id registered in front_target_groups (the aws_ec2"
        " inventory's instance_id, such as i-0123456789abcdef0); it is empty for this host.",
    )
    yield (
        0 <= s["front_target_port"] <= 65535,
        "front_target_port must be a port (1-65535), or 0 for the target group's;"
        f" got {s['front_target_port']}.",
    )
    yield (
        s["front_target_region"] == "" or bool(_REGION.fullmatch(s["front_target_region"])),
        "front_target_region must be an AWS region such as eu-west-1, or empty;"
        f" got '{s['front_target_region']}'.",
    )
