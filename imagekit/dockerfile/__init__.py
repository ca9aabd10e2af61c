"""Dockerfiles as a clean model: ``parse``/``load`` return a :class:`Dockerfile` of stages and instructions."""

from imagekit.dockerfile.model import Comment, Dockerfile, Heredoc, Instruction, Stage, SyntaxProblem
from imagekit.dockerfile.parser import load, parse

__all__ = ["Comment", "Dockerfile", "Heredoc", "Instruction", "Stage", "SyntaxProblem", "load", "parse"]
