"""Heads registered in mmpretrain (imported by :mod:`mmsr.models` when mmpretrain is)."""
