"""Compare the two sides check by check; every difference must be listed in docs/runtime-parity.md."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

PARITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "runtime-parity.md"
MISSING = "<missing>"
CHECKS_MADE: dict[str, int] = {}  # scenario -> checks, for the suite's total


def allowed_differences() -> list[dict[str, str]]:
    """The machine-readable list: the ```json block of docs/runtime-parity.md."""
    block = re.search(r"```json\n(.*?)\n```", PARITY_DOC.read_text(), re.S)
    assert block, f"{PARITY_DOC} has no ```json block of allowed differences"
    entries = json.loads(block.group(1))
    for entry in entries:
        assert {"check", "key", "reason"} <= set(entry), f"allowed difference without check/key/reason: {entry}"
    return entries


@dataclass
class Comparison:
    """Checks made in one scenario, and the differences not in the allowed list."""

    scenario: str
    checks: int = 0
    unexpected: list[str] = field(default_factory=list)
    allowed: list[dict[str, str]] = field(default_factory=allowed_differences)

    def check(self, check: str, key: str, toolkit, imagekit) -> None:
        self.checks += 1
        if toolkit == imagekit:
            return
        for entry in self.allowed:
            if (fnmatch.fnmatchcase(check, entry["check"]) and fnmatch.fnmatchcase(key, entry["key"])
                    and fnmatch.fnmatchcase(self.scenario, entry.get("scenario", "*"))):
                return
        self.unexpected.append(f"{self.scenario}: {check} {key}: toolkit {toolkit!r} != imagekit {imagekit!r}")

    def mapping(self, check: str, toolkit: dict, imagekit: dict) -> None:
        """One check per key of either side."""
        for key in sorted(set(toolkit) | set(imagekit)):
            self.check(check, key, toolkit.get(key, MISSING), imagekit.get(key, MISSING))

    def assert_none_unexpected(self) -> None:
        CHECKS_MADE[self.scenario] = self.checks
        assert not self.unexpected, ("differences not listed in docs/runtime-parity.md:\n"
                                     + "\n".join(self.unexpected))
