import mmsr  # noqa: F401  (registers the models, as custom_imports does)
