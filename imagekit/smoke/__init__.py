"""Run an image the way SageMaker does and report which part of the contract broke.

    >>> from imagekit import smoke
    >>> report = smoke.train("my-model:latest", data={"train": "data/"})
    >>> report = smoke.serve("my-model:latest", model="out/model.tar.gz", payloads=["sample.csv"])
    >>> report = smoke.run_all("my-model:latest", data={"train": "data/"}, payloads=["sample.csv"])
    >>> from imagekit.smoke.transform import TransformSettings, transform  # a batch transform job
    >>> report = transform("my-model:latest", model="out/model.tar.gz", input="batch/", output="out/",
    ...                    settings=TransformSettings(split_type="Line", assemble_with="Line"))
"""

from imagekit.smoke.report import Check, Report
from imagekit.smoke.serving import serve
from imagekit.smoke.training import run_all, train

__all__ = ["Check", "Report", "serve", "train", "run_all"]
