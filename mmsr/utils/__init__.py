"""Helpers: configs (:mod:`.config`) and sizes (:mod:`.size`)."""
