"""Shipping an image: push to Amazon ECR or any registry after the image lint (docs/ship.md)."""

from imagekit.ship.push import PushOptions, PushResult, push

__all__ = ["PushOptions", "PushResult", "push"]
