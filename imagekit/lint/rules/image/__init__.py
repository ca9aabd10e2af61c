"""Built-image rules: one module per rule, each defining RULE (see imagekit.lint.core)."""
