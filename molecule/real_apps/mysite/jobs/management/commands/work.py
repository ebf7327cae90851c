"""The worker: takes the jobs of var/queue one at a time (a rename claims one), marks them done."""

import os
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.version import VERSION


class Command(BaseCommand):
    help = "Consume the jobs the app enqueues."

    def say(self, text):
        self.stdout.write(text)
        sys.stdout.flush()

    def handle(self, *args, **options):
        queue, done = Path(settings.QUEUE_DIR), Path(settings.DONE_DIR)
        queue.mkdir(parents=True, exist_ok=True)
        done.mkdir(parents=True, exist_ok=True)
        self.say(f"worker {VERSION} consuming {queue}")
        while True:
            for job in sorted(queue.glob("*.job")):
                claimed = job.with_suffix(f".{os.getpid()}")
                try:
                    job.rename(claimed)
                except FileNotFoundError:
                    continue  # another worker took it
                staging = done / f"{job.stem}.tmp"
                staging.write_text(f"{VERSION} {claimed.read_text()}")
                staging.rename(done / job.stem)
                claimed.unlink()
                self.say(f"worker {VERSION} did {job.stem}")
            time.sleep(0.2)
