"""Built-image rules (target "image")."""
