"""The paper's parameter count of one SR block, written out independently of mmsr's code, for
the tests that check counts and overheads against it."""


def paper_param_count(C: int, H: int, W: int, h: int, P: int) -> int:
    """Memory ``P*C*H*W`` + squeeze ``C + 1`` + FC1 ``H*W*h + h`` + FC2 ``h*P + P``."""
    return P * C * H * W + (C + 1) + (H * W * h + h) + (h * P + P)
