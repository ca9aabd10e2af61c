"""imagekit's in-image runtime: `train` and `serve` for SageMaker, Python standard library only.

Generated images carry this package in /opt/imagekit with runtime.json beside it; nothing here imports
imagekit, so the image needs no extra dependency to honour the SageMaker container contract.
"""
