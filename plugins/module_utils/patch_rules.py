# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of the patch role's settings: each yields (ok, message), the message naming the
variable and the fix.

Private to pyops.uwsgi: it may change in any release.
"""

from __future__ import annotations


def patch_rules(s, _readings):
    """Rules of the patch role's main entry point."""
    yield (
        1 <= s["patch_reboot_timeout"] <= 3600,
        "patch_reboot_timeout must be between 1 and 3600 seconds;"
        f" got {s['patch_reboot_timeout']}.",
    )
    yield (
        0 <= s["patch_lock_timeout"] <= 3600,
        f"patch_lock_timeout must be between 0 and 3600 seconds; got {s['patch_lock_timeout']}.",
    )
    command = s["patch_boot_time_command"]
    yield (
        command == command.strip() and "\n" not in command,
        "patch_boot_time_command must be one command line without leading or trailing blanks, such"
        f" as cut -d' ' -f22 /proc/1/stat; got {command!r}.",
    )
