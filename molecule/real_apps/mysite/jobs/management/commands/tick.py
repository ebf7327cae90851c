"""The periodic job: says which code runs it and what the environment carried."""

import os

from django.core.management.base import BaseCommand

from jobs.version import VERSION


class Command(BaseCommand):
    help = "Say tick."

    def handle(self, *args, **options):
        self.stdout.write(f"tick {VERSION} {os.environ.get('PYOPS_AWKWARD')!r}")
