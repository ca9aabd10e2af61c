"""Linters: the shared core, the Dockerfile and image drivers, config, pragmas and reporters."""
