#!/usr/bin/env bash
# The README's first command: set everything up on a fresh Debian machine (as root) and run the main job.
source "$(dirname "$0")/setup.sh"
imagekit doctor
