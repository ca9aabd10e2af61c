#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian machine (as root) and run the main job.
# Grows with each capability: today doctor, the static linter, a build and the built-image linter.
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
imagekit doctor
echo "== imagekit lint: the example bring-your-own-container Dockerfile"
imagekit lint examples/byoc/Dockerfile
echo "== docker build (from the local base image; no registry needed)"
DOCKER_BUILDKIT=0 docker build -q -t imagekit-demo/byoc:latest examples/byoc
echo "== imagekit lint --image: prove train/serve resolve inside the built image"
imagekit lint --image imagekit-demo/byoc:latest --dockerfile examples/byoc/Dockerfile
echo "== imagekit smoke all: train with sample data, then serve the model it produced"
mkdir -p /tmp/imagekit-demo-data && seq 1 100 > /tmp/imagekit-demo-data/rows.csv
imagekit smoke all imagekit-demo/byoc:latest --data train=/tmp/imagekit-demo-data --hp epochs=2
