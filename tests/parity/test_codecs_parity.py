"""The default input_fn/output_fn against sagemaker-inference's, in-process, on payload and prediction edge cases."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from imagekit.runtime import RuntimeConfig
from parity.differences import Comparison
from parity.isolation import runtime_tree, toolkit_python

PROBE = Path(__file__).with_name("codecs_probe.py")


def test_default_decoders_and_encoders_match_sagemaker_inference(tmp_path):
    runtime = runtime_tree(tmp_path, RuntimeConfig())
    run = subprocess.run([str(toolkit_python()), str(PROBE), str(runtime)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    compare = Comparison("codecs")
    for case, sides in sorted(results.items()):
        toolkit, ours = sides["toolkit"], sides["imagekit"]
        compare.mapping(case, toolkit, ours)
    compare.assert_none_unexpected()

