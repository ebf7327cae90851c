"""Scenario real_apps: maintenance mode switched on and off with --tags maintenance for mysite.

Outsiders (the instance's own non-loopback address) get 503, the page and Retry-After; loopback,
allowed, reaches Django; the health path and the static files answer everyone. The switch writes
the site and reloads nginx: no new release, the same uWSGI master, the same nginx master. It leaves
the host as it found it (maintenance off), for the tests that follow.
"""

from __future__ import annotations

from pyops_verify import ROOT, ansible_playbook, master_pid, scenario_apps

SITE = ROOT / "playbooks" / "site.yml"
PAGE = ROOT / "examples" / "maintenance.html"
ON = {
    "app_maintenance": True,
    "app_maintenance_allowed": ["127.0.0.1", "::1"],
    "app_maintenance_page": str(PAGE),
    "app_maintenance_retry_after": 120,
}


def switch(host, **changes):
    """Converge mysite alone with --tags maintenance and CHANGES; the run's output on one line."""
    [item] = [item for item in scenario_apps() if item["app_name"] == "mysite"]
    result = ansible_playbook(
        SITE,
        host.backend.get_hostname(),
        {"uwsgi_apps": [{**item, **changes}]},
        tags=["maintenance"],
        timeout=600,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, output
    return output


def ask(host, path, address="127.0.0.1"):
    """(status, headers and body) of GET PATH on mysite, asked of nginx at ADDRESS from itself."""
    out = host.run(
        f"curl -sS -i --max-time 15 -H 'Host: mysite.test' http://{address}{path}"
        " -w '\\n%{http_code}'"
    )
    text, _newline, status = out.stdout.rpartition("\n")
    return int(status or 0), text.replace("\r", "")


def outside_address(host):
    """The instance's first address other than loopback's: a client from it is an outsider."""
    return host.check_output("hostname -I").split()[0]


def releases(host):
    return host.check_output("ls /srv/mysite/releases").split()


def nginx_master(host):
    return host.check_output("systemctl show -p MainPID --value nginx")


def test_maintenance_on_answers_outsiders_and_leaves_the_app_alone(host):
    before = (releases(host), host.check_output("readlink /srv/mysite/current"))
    app_master, nginx_pid = master_pid(host, "mysite"), nginx_master(host)
    outside = outside_address(host)
    assert outside
    assert ask(host, "/admin/", outside)[0] == 302

    output = switch(host, **ON)
    # The site and nginx only: nothing of the deploy ran.
    assert "Deploy the release" not in output
    assert "Ask for the health path through nginx" not in output

    status, text = ask(host, "/admin/", outside)
    assert status == 503
    assert "retry-after: 120" in text.lower()
    assert "<h1>Back soon</h1>" in text
    assert "x-frame-options:" in text.lower()
    # Allowed (loopback): Django answers, redirecting to its login page.
    assert ask(host, "/admin/")[0] == 302
    # Everyone: the health path and the files nginx serves.
    assert ask(host, "/admin/login/", outside)[0] == 200
    assert ask(host, "/static/admin/css/base.css", outside)[0] == 200

    assert (releases(host), host.check_output("readlink /srv/mysite/current")) == before
    assert master_pid(host, "mysite") == app_master
    # Reloaded, not restarted.
    assert nginx_master(host) == nginx_pid
    page = host.file("/etc/nginx/pyops-maintenance/mysite.html")
    assert (page.user, page.group, page.mode) == ("root", "root", 0o644)
    assert page.content_string == PAGE.read_text()


def test_maintenance_off_again_serves_everyone(host):
    app_master = master_pid(host, "mysite")
    switch(host, app_maintenance=False)
    outside = outside_address(host)
    assert ask(host, "/admin/", outside)[0] == 302
    assert (
        "pyops_mysite_maintenance"
        not in host.file("/etc/nginx/sites-available/mysite.conf").content_string
    )
    assert master_pid(host, "mysite") == app_master
