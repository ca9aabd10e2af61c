"""Entry points: the image's ENTRYPOINT dispatcher, and `train` / `serve` on PATH."""

import os
import sys


def dispatch():
    """`docker run IMAGE train|serve` runs the runtime; any other command runs as given (e.g. `bash`)."""
    args = sys.argv[1:]
    if args[:1] == ["train"]:
        return train()
    if args[:1] == ["serve"]:
        return serve()
    if not args:
        sys.stderr.write("usage: docker run IMAGE train|serve|COMMAND...  (SageMaker passes train or serve)\n")
        return 2
    try:
        os.execvp(args[0], args)
    except OSError as error:
        sys.stderr.write(f"imagekit runtime: cannot run {args[0]!r}: {error}\n")
        return 127


def train():
    from imagekit_runtime.training import main

    return main()


def serve():
    from imagekit_runtime.serving import main

    return main()
