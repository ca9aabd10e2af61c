# imagekit ignore=IK202 -- the CI job resolves latest to a digest
FROM python:latest
