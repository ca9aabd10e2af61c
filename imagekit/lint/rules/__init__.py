"""Lint rules, one module each; discovered by imagekit.lint.core.load_rules."""
