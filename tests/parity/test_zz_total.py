"""Runs last in tests/parity: the whole differential suite makes at least 300 checks."""

from __future__ import annotations

from parity import test_mpi_parity, test_serving_parity, test_torchrun_parity, test_training_parity
from parity.differences import CHECKS_MADE


def test_the_differential_suite_makes_at_least_300_checks():
    expected = {f"train:{name}" for name in test_training_parity.SCENARIOS} | {"codecs"} \
        | {f"serve:{name}" for name in test_serving_parity.VARIANTS} | {"serve:multi-model"} \
        | {f"torchrun:{name}" for name in test_torchrun_parity.SCENARIOS} \
        | {f"training-module:{name}" for name in test_torchrun_parity.MODULE_SCENARIOS} \
        | {f"mpi:{name}" for name in test_mpi_parity.SCENARIOS}
    print(f"differential checks made: {sum(CHECKS_MADE.values())} in {len(CHECKS_MADE)} comparisons")
    if expected <= set(CHECKS_MADE):  # only meaningful when the whole suite ran (not under -k)
        assert sum(CHECKS_MADE.values()) >= 300, CHECKS_MADE
