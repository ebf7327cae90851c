"""Scenario ec2_like: a load balancer's health check by the instance's address."""

from lb_health import verify_lb_health


def test_a_load_balancer_asks_the_health_path_by_address_and_the_app_keeps_its_hosts(host):
    # By address, with the address as Host, the app answers 200: nginx sends it hello.example.org,
    # which its PYOPS_ALLOWED_HOSTS allows (any other Host gets 400 from the app). From loopback,
    # outside the declared network: 403; nothing else of the app is reachable by address.
    verify_lb_health(host, path="/whoami")
