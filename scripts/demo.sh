#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian machine (as root) and run the main job:
# engine + base image, `imagekit new`, render, lint, build, lint --image, smoke all; then the same checks on a
# hand-written bring-your-own-container Dockerfile; and last, a push to a local TLS registry and a lint of the
# pushed image read from that registry.
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
imagekit doctor
DEMO="${IMAGEKIT_DEMO_DIR:-/tmp/imagekit-demo}"
rm -rf "$DEMO" && mkdir -p "$DEMO"

echo "== imagekit new: an sklearn project on the local base image (no registry needed)"
imagekit new iris --framework sklearn --base imagekit/base:bookworm --dir "$DEMO"
cd "$DEMO/iris"
imagekit explain
echo "== imagekit render + lint: the generated Dockerfile is clean"
imagekit render -o "$DEMO/context"
imagekit lint "$DEMO/context/Dockerfile"
echo "== imagekit build --wheelhouse: wheels downloaded on the host, installed offline in the builder"
imagekit build --wheelhouse -t imagekit-demo/iris:latest
echo "== imagekit lint --image: prove train/serve resolve inside the built image"
imagekit lint --image imagekit-demo/iris:latest --dockerfile "$DEMO/context/Dockerfile"
echo "== imagekit smoke all: train on the sample data, then serve the model it produced"
imagekit smoke all imagekit-demo/iris:latest --data training=data/training \
    --payload data/payload.csv --content-type text/csv

cd "$ROOT"
echo "== bring your own Dockerfile: lint, build, lint --image, smoke all"
imagekit lint examples/byoc/Dockerfile
DOCKER_BUILDKIT=0 docker build -q -t imagekit-demo/byoc:latest examples/byoc
imagekit lint --image imagekit-demo/byoc:latest --dockerfile examples/byoc/Dockerfile
mkdir -p "$DEMO/byoc-data" && seq 1 100 > "$DEMO/byoc-data/rows.csv"
imagekit smoke all imagekit-demo/byoc:latest --data train="$DEMO/byoc-data" --hp epochs=2

echo "== imagekit push: lint, then push to a local registry (TLS, password); prints the digest it serves"
python "$ROOT/scripts/demo_registry.py" "$DEMO/registry" -- bash -euc '
  imagekit push imagekit-demo/iris:latest --to "$REGISTRY/iris:1.0"
  echo "== imagekit lint --image: the pushed image, read back from the registry"
  imagekit lint --image "$REGISTRY/iris:1.0"'
