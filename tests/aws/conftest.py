"""moto's server on loopback as the AWS API for the EC2 inventory and target group tests.

Each test session starts `moto_server` on 127.0.0.1 on a free port; boto3 in the tests and
botocore under Ansible (the aws_ec2 inventory, community.aws.elb_target) reach it through
AWS_ENDPOINT_URL (botocore 1.31 and later), with made-up credentials. No test reaches AWS.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request

import boto3
import pytest
from moto_stand_in import BIN, REGION


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory):
    """The environment that points botocore at moto's server, and nowhere else."""
    moto = shutil.which("moto_server", path=str(BIN)) or shutil.which("moto_server")
    if moto is None:
        pytest.fail(
            "moto_server is not installed: pip install -r requirements.txt -c constraints.txt"
        )
    port = _free_port()
    server = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"moto_server did not answer on {url}")
            time.sleep(0.2)
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # No profile, config or credentials of the machine's user.
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    saved = {key: os.environ.get(key) for key in (*env, "AWS_PROFILE")}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def reset(aws_env):
    """A moto with nothing in it for each test."""
    request = urllib.request.Request(f"{aws_env['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return aws_env


@pytest.fixture
def ec2(reset):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def elbv2(reset):
    return boto3.client("elbv2", region_name=REGION)


@pytest.fixture
def subnet(ec2):
    """A VPC and a private subnet in eu-west-1a, as an app fleet's."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")[
        "Subnet"
    ]
